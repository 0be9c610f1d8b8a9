// Sales items: create one, and move one to another client; a client without billing information
// gets the prompt, and the item goes through once the form is saved, with nothing typed again.
import { h, clear, appendAll, field, money, clearFieldErrors } from './dom.js';
import { get, post, patch } from './api.js';
import { can, table, status, busy } from './ui.js';
import { parseMinor } from './money.js';

const recent = [];

function clientPicker(clients, label, name) {
  const listId = `${name}-clients`;
  return [field(label, name, { list: listId, autocomplete: 'off', hint: 'type a name or id' }),
    h('datalist', { id: listId }, clients.map((c) => h('option', { value: c.id }, c.name)))];
}

export async function salesPage() {
  const clients = (await get('/v1/clients?limit=200')).items;
  const recentBox = h('div');
  const showRecent = () => appendAll(clear(recentBox), table('Sales items created here', ['Description', 'Client', 'Amount', 'Status', 'Id'],
    recent.map((s) => h('tr', {}, h('th', { scope: 'row', class: 'name' }, s.description), h('td', {}, s.client_id),
      h('td', {}, money(s.quantity * s.unit_price, s.currency)), h('td', {}, s.status), h('td', {}, h('code', {}, s.id))))));
  showRecent();
  if (!can('manage_sales')) return [h('h1', {}, 'Sales items'), status('Your role cannot create sales items.'), recentBox];

  const createErrors = h('div');
  const create = h('form', { class: 'card', novalidate: true, 'aria-label': 'New sales item' },
    h('h2', {}, 'New sales item'),
    clientPicker(clients, 'Client', 'client_id'),
    field('Description', 'description'),
    field('Quantity', 'quantity', { inputmode: 'numeric', value: '1' }),
    field('Unit price', 'unit_price', { inputmode: 'decimal', hint: 'e.g. 129.00' }),
    field('Currency', 'currency', { value: 'EUR' }),
    field('Date', 'date', { type: 'date' }),
    createErrors,
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Create')));
  const v = (form, n) => form.elements.namedItem(n).value.trim();
  create.addEventListener('submit', (event) => busy(create.querySelector('button[type=submit]'), createErrors, async () => {
    clearFieldErrors(create);
    const price = parseMinor(v(create, 'unit_price'));
    const body = { client_id: v(create, 'client_id'), description: v(create, 'description'),
      quantity: /^\d+$/.test(v(create, 'quantity')) ? Number(v(create, 'quantity')) : v(create, 'quantity'),
      unit_price: price === undefined || price === null ? v(create, 'unit_price') : price, currency: v(create, 'currency') };
    if (v(create, 'date')) body.date = v(create, 'date');
    const item = await post('/v1/sales-items', body);
    recent.unshift(item);
    showRecent();
    appendAll(clear(createErrors), status(`Sales item ${item.id} created.`));
  }, { form: create })(event));

  const moveErrors = h('div');
  const move = h('form', { class: 'card', novalidate: true, 'aria-label': 'Move a sales item' },
    h('h2', {}, 'Move a sales item to another client'),
    field('Sales item id', 'id'),
    clientPicker(clients, 'New client', 'move_client_id'),
    moveErrors,
    h('p', {}, h('button', { type: 'submit' }, 'Move')));
  move.addEventListener('submit', (event) => busy(move.querySelector('button[type=submit]'), moveErrors, async () => {
    const id = v(move, 'id');
    const item = await patch(`/v1/sales-items/${encodeURIComponent(id)}`, { client_id: v(move, 'move_client_id') });
    const i = recent.findIndex((s) => s.id === item.id);
    if (i >= 0) recent[i] = item;
    showRecent();
    appendAll(clear(moveErrors), status(`Sales item ${item.id} now belongs to ${item.client_id}.`));
  }, { form: move })(event));

  return [h('h1', {}, 'Sales items'), create, move, recentBox];
}

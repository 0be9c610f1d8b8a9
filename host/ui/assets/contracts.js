// Contracts: the banner counting clients with services but no contract, the Create wizard
// (client, contract information, billing information unless complete, parts prefilled from the
// assigned services), bulk bootstrap with progress, and a contract's parts with activation.
import { h, clear, appendAll, field, money, clearFieldErrors } from './dom.js';
import { get, post, patch, del, query } from './api.js';
import { can, table, pager, status, showProblem, busy } from './ui.js';
import { billingInfoForm } from './billing_info.js';
import { parseMinor, formatMinor } from './money.js';

function bootstrapAll(onDone) {
  const out = h('div', { class: 'bootstrap' });
  const button = h('button', { type: 'button' }, 'Create drafts for all');
  const run = async () => {
    const first = await get('/v1/onboarding');
    const total = first.without_contract.count;
    const bar = h('progress', { max: total || 1, value: 0, 'aria-label': 'Contracts created' });
    const label = status(`0 of ${total}`);
    appendAll(clear(out), bar, label);
    let created = 0;
    let unpriced = 0;
    let items = first.without_contract.items;
    const tried = new Set();
    while (items.length) {
      const batch = items.map((c) => c.client_id).filter((id) => !tried.has(id));
      if (!batch.length) break;
      batch.forEach((id) => tried.add(id));
      const result = await post('/v1/contracts/bootstrap', { client_ids: batch });
      created += result.summary.created;
      unpriced += result.summary.unpriced_parts;
      bar.value = Math.min(total, tried.size);
      label.textContent = `${tried.size} of ${total} clients done, ${created} drafts created`;
      items = (await get('/v1/onboarding')).without_contract.items;
    }
    label.textContent = `${created} draft contracts created${unpriced ? `; ${unpriced} parts have no price yet` : ''}.`;
    if (onDone) await onDone();
  };
  button.addEventListener('click', busy(button, out, run));
  return [button, out];
}

export async function contractsPage() {
  const o = await get('/v1/onboarding');
  const without = o.without_contract;
  const listBox = h('div');
  const show = async (after) => {
    const list = await get(`/v1/contracts${query({ limit: 50, after })}`);
    appendAll(clear(listBox), table('Contracts', ['Reference', 'Name', 'Status', 'Parts', 'Unpriced parts', 'Net amount'],
      list.items.map((c) => h('tr', {},
        h('th', { scope: 'row' }, h('a', { href: `#/contracts/${encodeURIComponent(c.id)}` }, c.reference_number || c.id)),
        h('td', { class: 'name' }, c.name),
        h('td', {}, c.status),
        h('td', {}, String(c.parts.length)),
        h('td', {}, c.unpriced_parts ? h('span', { class: 'marker' }, String(c.unpriced_parts)) : '0'),
        h('td', {}, money(c.net_amount, c.currency))))),
    pager(list.next_after, (next) => show(next)));
  };
  await show();
  const banner = without.count > 0 ? h('div', { class: 'banner', role: 'region', 'aria-label': 'Clients without a contract' },
    h('p', {}, `${without.count} client${without.count === 1 ? ' has' : 's have'} services but no contract.`),
    can('manage_sales') ? h('p', {}, h('a', { class: 'button primary', href: '#/contracts/new' }, 'Create'), ' ',
      bootstrapAll(async () => show())) : null) : null;
  return [h('h1', {}, 'Contracts'), banner,
    can('manage_sales') ? h('p', { class: 'right' }, h('a', { href: '#/contracts/new' }, 'Create contracts for existing customers')) : null,
    listBox];
}

// ---- the Create new contract wizard ----

function firstOfMonth() {
  const d = new Date();
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-01`;
}

export async function wizardPage({ params }) {
  const state = { client: null, info: null, parts: [], currency: 'EUR', billingComplete: false };
  const steps = h('ol', { class: 'steps', 'aria-label': 'Steps' });
  const body = h('div', { class: 'wizard-body' });
  const o = await get('/v1/onboarding');

  const markSteps = (current) => {
    const names = [['client', 'Client'], ['contract', 'Contract information']];
    if (!state.billingComplete) names.push(['billing', 'Billing information']);
    names.push(['parts', 'Contract parts']);
    appendAll(clear(steps), ...names.map(([key, text]) => h('li', {
      class: key === current ? 'current' : '', 'aria-current': key === current ? 'step' : null }, text)));
  };
  const show = (key, ...content) => {
    markSteps(key);
    appendAll(clear(body), ...content);
    body.querySelector('input, select, button')?.focus();
  };

  const stepClient = () => {
    const errors = h('div');
    const options = o.without_contract.items.map((c) => [c.client_id, `${c.name} (${c.services} services)`]);
    const preset = params.get('client_id');
    const form = h('form', { class: 'card' },
      h('h2', {}, 'Select the client'),
      options.length ? field('Client', 'client_id', { options, value: preset || state.client?.id }) :
        field('Client id', 'client_id', { value: preset || '' }),
      errors,
      h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Next')));
    form.addEventListener('submit', (event) => busy(form.querySelector('button'), errors, async () => {
      const id = form.elements.namedItem('client_id').value.trim();
      const client = await get(`/v1/clients/${encodeURIComponent(id)}`);
      state.client = client;
      state.billingComplete = Boolean(client.billing_info?.complete);
      const info = await get(`/v1/clients/${encodeURIComponent(id)}/billing-info`).catch(() => ({}));
      state.currency = info.currency || 'EUR';
      state.parts = await prefillParts(id, state.currency);
      stepContract();
    })(event));
    show('client', form);
  };

  const stepContract = () => {
    const i = state.info || {};
    const errors = h('div');
    const form = h('form', { class: 'card', novalidate: true },
      h('h2', {}, 'Contract information for ', h('span', { class: 'name' }, state.client.name)),
      field('Name', 'name', { value: i.name ?? `${state.client.name} services` }),
      field('Contact email', 'contact_email', { type: 'email', value: i.contact_email }),
      field('Invoice interval', 'invoice_interval', { options: [['monthly', 'Monthly'], ['quarterly', 'Quarterly'],
        ['semi_annually', 'Semi-annually'], ['yearly', 'Yearly']], value: i.invoice_interval || 'monthly' }),
      field('When to bill', 'when_to_bill', { options: [['upfront', 'Upfront'], ['afterwards', 'Afterwards']],
        value: i.when_to_bill || 'upfront' }),
      field('Payment method', 'payment_method', { options: [['manual', 'Manual'], ['direct_debit', 'Direct debit']],
        value: i.payment_method || 'manual' }),
      field('Start date', 'start_date', { type: 'date', value: i.start_date || firstOfMonth() }),
      field('End date (empty: bill forever)', 'end_date', { type: 'date', value: i.end_date || '' }),
      errors,
      h('p', {}, h('button', { type: 'button', onclick: stepClient }, 'Back'), ' ',
        h('button', { type: 'submit', class: 'primary' }, 'Next')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const v = (n) => form.elements.namedItem(n).value.trim();
      state.info = { name: v('name'), invoice_interval: v('invoice_interval'), when_to_bill: v('when_to_bill'),
        payment_method: v('payment_method'), start_date: v('start_date'), end_date: v('end_date') || null };
      if (v('contact_email')) state.info.contact_email = v('contact_email');
      if (state.billingComplete) stepParts();
      else stepBilling();
    });
    show('contract', form);
  };

  const stepBilling = () => {
    show('billing', h('h2', {}, 'Billing information'),
      billingInfoForm(state.client.id, { submitLabel: 'Save and continue', onSaved: async () => {
        const info = await get(`/v1/clients/${encodeURIComponent(state.client.id)}/billing-info`).catch(() => ({}));
        state.currency = info.currency || state.currency;
        state.parts = await prefillParts(state.client.id, state.currency);
        stepParts();
      } }),
      h('p', {}, h('button', { type: 'button', onclick: stepContract }, 'Back')));
  };

  const stepParts = () => {
    const errors = h('div');
    const rows = state.parts.map((p, index) => {
      const priceId = `part-price-${index}`;
      const qtyId = `part-qty-${index}`;
      const price = h('input', { id: priceId, name: `parts.${index}.price`, inputmode: 'decimal',
        value: formatMinor(p.price), 'aria-describedby': `${priceId}-note` });
      const qty = h('input', { id: qtyId, name: `parts.${index}.quantity`, inputmode: 'numeric', value: String(p.quantity) });
      price.addEventListener('change', () => { p.price = parseMinor(price.value); });
      qty.addEventListener('change', () => { p.quantity = /^\d+$/.test(qty.value.trim()) ? Number(qty.value) : qty.value; p.follows_assignment = false; });
      return h('tr', { class: p.price === null ? 'unpriced' : '', dataset: { field: `parts.${index}` } },
        h('th', { scope: 'row', class: 'name' }, p.description, h('br'), h('small', {}, p.sku)),
        h('td', {}, h('label', { for: qtyId, class: 'sr-only' }, `Quantity of ${p.description}`), qty),
        h('td', {}, h('label', { for: priceId, class: 'sr-only' }, `Price of ${p.description} (${state.currency})`), price,
          h('span', { id: `${priceId}-note`, class: p.price === null ? 'marker' : 'hint' }, p.price === null ? 'No price' : state.currency)),
        h('td', {}, h('button', { type: 'button', onclick: () => { state.parts.splice(index, 1); stepParts(); } },
          `Remove ${p.description}`)));
    });
    const unpriced = state.parts.filter((p) => p.price === null).length;
    const form = h('form', { class: 'card', novalidate: true },
      h('h2', {}, 'Contract parts'),
      h('p', {}, 'Prefilled from the services assigned to the client. Set the correct prices; a part without a price blocks activation.'),
      unpriced ? h('p', { class: 'marker' }, `${unpriced} part${unpriced === 1 ? '' : 's'} without a price`) : null,
      table('Parts', ['Part', 'Quantity', 'Price per unit', 'Remove'], rows),
      errors,
      h('p', {}, h('button', { type: 'button', onclick: () => (state.billingComplete ? stepContract() : stepBilling()) }, 'Back'), ' ',
        h('button', { type: 'submit', class: 'primary' }, 'Done')));
    form.addEventListener('submit', (event) => busy(form.querySelector('button[type=submit]'), errors, async () => {
      clearFieldErrors(form);
      for (const p of state.parts) {
        if (p.price === undefined) throw { problem: { title: 'A price is not a number', detail: `${p.description}: use a number such as 4.50` } };
      }
      const body = { client_id: state.client.id, currency: state.currency, ...state.info,
        parts: state.parts.map((p) => ({ type: p.type, sku: p.sku, description: p.description, quantity: p.quantity,
          follows_assignment: p.follows_assignment, price: p.price })) };
      const created = await post('/v1/contracts', body);
      location.hash = `#/contracts/${encodeURIComponent(created.id)}?created=1`;
    }, { form })(event));
    show('parts', form);
  };

  stepClient();
  return [h('h1', {}, 'Create new contract'), steps, body];
}

async function prefillParts(clientId, currency) {
  const [services, catalog] = await Promise.all([
    get(`/v1/clients/${encodeURIComponent(clientId)}/services`),
    get('/v1/catalog/products'),
  ]);
  const bySku = new Map(catalog.items.map((p) => [p.sku, p]));
  return services.items.map((s) => {
    const product = bySku.get(s.sku) || {};
    const price = product.prices && Number.isInteger(product.prices[currency]) ? product.prices[currency] : null;
    return { sku: s.sku, description: product.name || s.sku, quantity: s.quantity, follows_assignment: true,
      type: product.part_type || 'default', price };
  });
}

// ---- one contract: parts with prices, removal, activation ----

export async function contractPage({ args: [id], params }) {
  const c = await get(`/v1/contracts/${encodeURIComponent(id)}`);
  const problemBox = h('div');
  const refusedParts = new Set();
  const partsBox = h('div');
  const reload = async () => {
    const fresh = await get(`/v1/contracts/${encodeURIComponent(id)}`);
    Object.assign(c, fresh);
    renderParts();
    appendAll(clear(head), headline());
  };
  const headline = () => h('p', {}, `Status: `, h('strong', {}, c.status), ` · ${c.invoice_interval}, ${c.when_to_bill} · from ${c.start_date}` +
    `${c.end_date ? ` to ${c.end_date}` : ' (bill forever)'} · net ${money(c.net_amount, c.currency)}`);
  const head = h('div', {}, headline());
  const editable = c.status === 'draft' && can('manage_sales');
  function renderParts() {
    const rows = c.parts.map((p) => {
      const priceId = `price-${p.id}`;
      const marked = p.unpriced || refusedParts.has(p.id);
      const cells = [h('th', { scope: 'row', class: 'name' }, p.description, h('br'), h('small', {}, p.sku || '')),
        h('td', {}, String(p.quantity))];
      if (editable) {
        const price = h('input', { id: priceId, inputmode: 'decimal', value: formatMinor(p.price), 'aria-describedby': `${priceId}-note` });
        const save = h('button', { type: 'button' }, 'Set price');
        const remove = h('button', { type: 'button' }, 'Remove');
        const rowProblem = h('div');
        save.addEventListener('click', busy(save, rowProblem, async () => {
          const minor = parseMinor(price.value);
          if (minor === undefined) throw { problem: { title: 'Not a price', detail: 'use a number such as 4.50' } };
          await patch(`/v1/contracts/${encodeURIComponent(id)}/parts/${encodeURIComponent(p.id)}`, { price: minor });
          refusedParts.delete(p.id);
          await reload();
        }));
        remove.addEventListener('click', busy(remove, rowProblem, async () => {
          await del(`/v1/contracts/${encodeURIComponent(id)}/parts/${encodeURIComponent(p.id)}`);
          await reload();
        }));
        cells.push(h('td', {}, h('label', { for: priceId, class: 'sr-only' }, `Price of ${p.description}`), price,
          h('span', { id: `${priceId}-note`, class: marked ? 'marker' : 'hint' }, marked ? 'No price' : c.currency), ' ', save, rowProblem),
        h('td', {}, remove));
      } else {
        cells.push(h('td', {}, marked ? h('span', { class: 'marker' }, 'No price') : money(p.price, c.currency)), h('td', {}, ''));
      }
      cells.push(h('td', {}, money(p.net_amount, c.currency)));
      return h('tr', { class: marked ? 'unpriced' : '', dataset: { part: p.id } }, cells);
    });
    appendAll(clear(partsBox), table('Contract parts', ['Part', 'Quantity', 'Price', 'Remove', 'Net'], rows));
  }
  renderParts();
  const activate = h('button', { type: 'button', class: 'primary' }, 'Activate');
  activate.addEventListener('click', async () => {
    activate.disabled = true;
    clear(problemBox);
    try {
      await post(`/v1/contracts/${encodeURIComponent(id)}/activate`, {});
      await reload();
      problemBox.append(status('The contract is active.'));
      activate.hidden = true;
    } catch (err) {
      for (const partId of err.problem?.prompt?.part_ids || []) refusedParts.add(partId);
      renderParts();
      showProblem(problemBox, err, { retry: () => activate.click() });
    } finally {
      activate.disabled = false;
    }
  });
  return [h('h1', {}, `Contract ${c.reference_number || c.id}`),
    params.get('created') ? status('The draft contract was created.') : null,
    h('p', { class: 'name' }, c.name), head, partsBox,
    c.status === 'draft' && can('manage_sales') ? h('p', {}, activate) : null,
    problemBox,
    h('p', {}, h('a', { href: '#/contracts' }, 'Back to contracts'))];
}

// Clients: the list with the missing-billing-information marker and its action, and the form.
import { h, clear, appendAll } from './dom.js';
import { get, query } from './api.js';
import { can, table, pager, status } from './ui.js';
import { billingInfoForm } from './billing_info.js';

export async function clientsPage({ params }) {
  const onlyMissing = params.get('missing') === '1';
  // Both at once: the first page waits for the slower of the two, not for their sum.
  const firstPage = onlyMissing ? null : get(`/v1/clients${query({ limit: 50 })}`);
  const o = await get('/v1/onboarding');
  const missing = o.missing_billing_info;
  const banner = missing.count > 0 ? h('div', { class: 'banner', role: 'region', 'aria-label': 'Billing information prompt' },
    h('p', {}, `${missing.count} client${missing.count === 1 ? ' has' : 's have'} no complete billing information. ` +
      'Add it so that their time can be approved, sales items created and invoices issued.'),
    onlyMissing ? h('a', { href: '#/clients' }, 'Show all clients') :
      h('a', { href: '#/clients?missing=1' }, 'Show the clients without billing information')) : null;

  const listBox = h('div');
  const row = (c) => {
    const complete = c.billing_info ? c.billing_info.complete : false;
    return h('tr', {},
      h('th', { scope: 'row', class: 'name' }, c.name),
      h('td', {}, c.type || ''),
      h('td', {}, complete ? 'Complete' :
        h('span', { class: 'marker' }, 'Billing information missing')),
      h('td', {}, can('manage_clients') ? h('a', { class: 'button', href: `#/clients/${encodeURIComponent(c.id || c.client_id)}/billing` },
        complete ? 'Edit billing information' : 'Add billing information') : ''));
  };
  const headers = ['Client', 'Type', 'Billing information', 'Action'];
  if (onlyMissing) {
    appendAll(listBox, table(`Clients without billing information (${missing.count})`, headers,
      missing.items.map((c) => row({ ...c, billing_info: { complete: false } }))),
    missing.count > missing.items.length ? status(`Showing the first ${missing.items.length}.`) : null);
  } else {
    const show = async (after, ready) => {
      const list = await (ready || get(`/v1/clients${query({ limit: 50, after })}`));
      appendAll(clear(listBox), table('Clients', headers, list.items.map(row)),
        pager(list.next_after, (next) => show(next)));
    };
    await show(undefined, firstPage);
  }
  return [h('h1', {}, 'Clients'), banner, listBox];
}

export async function clientBillingPage({ args: [clientId] }) {
  const done = h('div');
  return [
    h('h1', {}, 'Billing information'),
    h('p', {}, h('a', { href: '#/clients' }, 'Back to clients')),
    billingInfoForm(clientId, {
      onSaved: () => {
        appendAll(clear(done), status('Billing information saved.'));
      },
    }),
    done,
  ];
}

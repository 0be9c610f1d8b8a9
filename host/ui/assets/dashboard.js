// The dashboard: the counts GET /v1/onboarding gives, each linking to the list behind it.
import { h } from './dom.js';
import { get } from './api.js';

function tile(label, count, href, text, good) {
  return h('li', { class: good ? 'tile good' : 'tile' },
    h('a', { href },
      h('span', { class: 'count' }, String(count)),
      h('span', { class: 'label' }, label),
      h('span', { class: 'hint' }, text)));
}

export async function dashboardPage() {
  const o = await get('/v1/onboarding');
  const numbering = o.invoice_numbering;
  return [
    h('h1', {}, 'Onboarding'),
    h('p', {}, o.ready_to_bill ?
      'Every client can be billed.' :
      'What stands between you and billing your existing clients:'),
    h('ul', { class: 'tiles', 'aria-label': 'Onboarding counts' },
      tile('clients', o.clients, '#/clients', 'active clients', true),
      tile('without billing information', o.missing_billing_info.count, '#/clients?missing=1',
        'cannot have time approved or sales items', o.missing_billing_info.count === 0),
      tile('with services but no contract', o.without_contract.count, '#/contracts',
        'create their contracts', o.without_contract.count === 0),
      h('li', { class: numbering.verified ? 'tile good' : 'tile' },
        h('a', { href: '#/billing' },
          h('span', { class: 'count' }, numbering.verified ? 'Verified' : 'Not verified'),
          h('span', { class: 'label' }, 'invoice numbering'),
          h('span', { class: 'hint' }, numbering.verified ?
            'ready for billing runs' : 'verify it before the first billing run')))),
  ];
}

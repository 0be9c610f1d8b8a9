// The client's billing information form: every field of "Defining billing information for a
// tenant", the self-managed customer profile switch, and the API's 422 shown beside each field.
import { h, field, clearFieldErrors } from './dom.js';
import { get, put, patch } from './api.js';

const TEXT_FIELDS = [
  ['Business name', 'business_name'], ['Legal form', 'legal_form'], ['Email', 'email', 'email'],
  ['Website', 'website'], ['Debtor code (in your accounting software)', 'debtor_code'],
  ['VAT / sales tax number', 'vat_number'], ['Phone', 'phone', 'tel'],
];
const ADDRESS_FIELDS = [
  ['Street', 'street'], ['Number', 'number'], ['Building', 'building'], ['City', 'city'],
  ['State', 'state'], ['ZIP', 'zip'], ['Country (ISO 3166, e.g. NL)', 'country'],
];

function value(form, name) {
  const el = form.elements.namedItem(name);
  return el ? el.value.trim() : '';
}

function integerOrRaw(text) {
  if (text === '') return null;
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

export function billingInfoForm(clientId, { submitLabel = 'Add', onSaved } = {}) {
  const box = h('section', { class: 'card', 'aria-label': 'Billing information' },
    h('p', {}, 'Loading billing information…'));
  load().catch(async (err) => {
    const { showProblem } = await import('./ui.js');
    showProblem(box, err);
  });
  return box;

  async function load() {
    const [client, info] = await Promise.all([
      get(`/v1/clients/${encodeURIComponent(clientId)}`),
      get(`/v1/clients/${encodeURIComponent(clientId)}/billing-info`).catch(() => ({})),
    ]);
    const a = info.address || {};
    const errors = h('div', { class: 'form-errors' });
    const form = h('form', { novalidate: true, class: 'billing-form' },
      h('h2', {}, `Billing information for `, h('span', { class: 'name' }, client.name)),
      client.billing_info && !client.billing_info.complete ?
        h('p', { class: 'note' }, `Missing: ${client.billing_info.missing.join(', ')}`) : null,
      h('fieldset', {}, h('legend', {}, 'Billing'),
        TEXT_FIELDS.map(([label, name, type]) => field(label, name, { type: type || 'text', value: info[name] })),
        field('Currency (ISO 4217, e.g. EUR)', 'currency', { value: info.currency }),
        field('Tax rate (%)', 'tax_rate', { value: info.tax_rate, hint: 'a decimal such as 21.00' }),
        field('Payment terms (days)', 'payment_terms_days', { value: info.payment_terms_days, inputmode: 'numeric' }),
        field('Direct debit', 'direct_debit', { type: 'checkbox', value: info.direct_debit }),
        field('Invoice delivery', 'invoice_delivery', {
          options: [['email', 'Email'], ['mail', 'Mail']], value: info.invoice_delivery || 'email' }),
        field('Time registration roundup (minutes)', 'roundup_minutes', {
          value: info.roundup_minutes ?? 10, inputmode: 'numeric' })),
      h('fieldset', {}, h('legend', {}, 'Address'),
        ADDRESS_FIELDS.map(([label, name]) => field(label, `address.${name}`, { value: a[name] }))),
      h('fieldset', {}, h('legend', {}, 'General settings'),
        field('Enable self-managed customer profile', 'self_managed_profile', {
          type: 'checkbox', value: client.self_managed_profile,
          hint: 'shows contact fields (phone, company contact, job title) to administrators and client users' })),
      errors,
      h('p', {}, h('button', { type: 'submit', class: 'primary' }, submitLabel)));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFieldErrors(form);
      errors.textContent = '';
      const body = { address: {} };
      for (const [, name] of TEXT_FIELDS) body[name] = value(form, name) || null;
      body.currency = value(form, 'currency') || null;
      body.tax_rate = value(form, 'tax_rate') || null;
      body.payment_terms_days = integerOrRaw(value(form, 'payment_terms_days'));
      body.roundup_minutes = integerOrRaw(value(form, 'roundup_minutes'));
      body.direct_debit = form.elements.namedItem('direct_debit').checked;
      body.invoice_delivery = value(form, 'invoice_delivery');
      for (const [, name] of ADDRESS_FIELDS) body.address[name] = value(form, `address.${name}`) || null;
      const selfManaged = form.elements.namedItem('self_managed_profile').checked;
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        await put(`/v1/clients/${encodeURIComponent(clientId)}/billing-info`, body);
        if (selfManaged !== Boolean(client.self_managed_profile)) {
          await patch(`/v1/clients/${encodeURIComponent(clientId)}`, { self_managed_profile: selfManaged });
        }
        errors.append(h('p', { class: 'note', role: 'status' }, 'Saved.'));
        if (onSaved) await onSaved();
      } catch (err) {
        const { showProblem } = await import('./ui.js');
        showProblem(errors, err, { form });
      } finally {
        button.disabled = false;
      }
    });
    box.replaceChildren(form);
  }
}

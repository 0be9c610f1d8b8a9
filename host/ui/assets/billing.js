// Billing: invoice numbering (with the accounting system's last number and the proposal), its
// verification as the step before the first run, dry runs as a preview, real runs with progress,
// and the invoices issued.
import { h, clear, appendAll, field, money, clearFieldErrors } from './dom.js';
import { get, post, put, query } from './api.js';
import { can, table, pager, status, busy } from './ui.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function lastMonth() {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

function numberingSection(n, reloadPage) {
  const errors = h('div');
  const canEdit = can('manage_billing');
  const accounting = (n.accounting || []).map((a) => h('li', {},
    `${a.system}: last number ${a.last_number ?? 'none'}${a.error ? ` (${a.error})` : ''}`));
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'Invoice numbering' },
    h('h2', {}, 'Invoice numbering'),
    h('p', {}, n.verified ? `Verified${n.verified_at ? ` on ${n.verified_at.slice(0, 10)}` : ''}${n.verified_by ? ` by ${n.verified_by}` : ''}.` :
      'Not verified yet. Invoice numbers must line up with your accounting software: check these settings and verify them before the first billing run.'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Next invoice number'), h('dd', { class: 'next-number' }, n.next_invoice_number || '—'),
      h('dt', {}, 'Last issued here'), h('dd', {}, n.last_issued?.number || 'none'),
      h('dt', {}, 'Accounting system'), h('dd', {}, accounting.length ? h('ul', {}, accounting) : 'not connected'),
      h('dt', {}, 'Proposed next number'), h('dd', {}, String(n.proposed_next_number ?? '—'))),
    (n.collisions || []).length ? h('ul', { class: 'problem' }, n.collisions.map((c) => h('li', {}, `${c.field}: ${c.message}`))) : null,
    field('Prefix', 'prefix', { value: n.prefix, disabled: !canEdit }),
    field('Pattern', 'pattern', { value: n.pattern, disabled: !canEdit, hint: '{prefix} {yyyy} {yy} {mm} {seq:N}' }),
    field('Next number', 'next_number', { value: n.next_number, inputmode: 'numeric', disabled: !canEdit }),
    field('Reset', 'reset', { options: [['never', 'Never'], ['yearly', 'Yearly']], value: n.reset, disabled: !canEdit }),
    errors,
    canEdit ? h('p', {}, h('button', { type: 'submit', name: 'save' }, 'Save settings'), ' ',
      h('button', { type: 'button', name: 'verify', class: 'primary' }, n.verified ? 'Verify again' : 'Verify numbering')) : null);
  if (canEdit) {
    const v = (name) => form.elements.namedItem(name).value.trim();
    form.addEventListener('submit', (event) => busy(form.elements.namedItem('save'), errors, async () => {
      clearFieldErrors(form);
      const next = /^\d+$/.test(v('next_number')) ? Number(v('next_number')) : v('next_number');
      await put('/v1/invoice-numbering', { prefix: v('prefix'), pattern: v('pattern'), next_number: next, reset: v('reset') });
      await reloadPage();
    }, { form })(event));
    const verify = form.elements.namedItem('verify');
    verify.addEventListener('click', busy(verify, errors, async () => {
      await post('/v1/invoice-numbering/verify', { settings_digest: n.settings_digest });
      await reloadPage();
    }, { form }));
  }
  return form;
}

function runSection(onFinished) {
  const out = h('div', { class: 'run-output' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'Billing run' },
    h('h2', {}, 'Billing run'),
    field('Period', 'period', { type: 'month', value: lastMonth(), hint: 'YYYY-MM' }),
    h('p', {}, h('button', { type: 'button', name: 'preview' }, 'Preview (dry run)'), ' ',
      h('button', { type: 'submit', name: 'run', class: 'primary' }, 'Run billing')),
    out);
  const start = (dryRun) => async () => {
    clearFieldErrors(form);
    const period = form.elements.namedItem('period').value.trim();
    const created = await post('/v1/billing-runs', { period, dry_run: dryRun });
    const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Billing run progress' });
    const label = status(`${dryRun ? 'Preview' : 'Run'} ${created.id} queued…`);
    appendAll(clear(out), bar, label);
    let run = created;
    for (;;) {
      run = await get(`/v1/billing-runs/${encodeURIComponent(created.id)}`);
      bar.max = Math.max(1, run.clients);
      bar.value = run.processed;
      label.textContent = `${dryRun ? 'Preview' : 'Run'} ${run.status}: ${run.processed} of ${run.clients} clients, ` +
        `${run.issued} ${dryRun ? 'would be issued' : 'issued'}, ${run.skipped} skipped, ${run.failed} failed`;
      if (!['queued', 'running'].includes(run.status)) break;
      await sleep(300);
    }
    out.append(table(dryRun ? 'Preview: invoices this run would issue' : 'Outcome per client',
      ['Client', 'Outcome', 'Number', 'Total', 'Reason'],
      run.items.map((i) => h('tr', {}, h('th', { scope: 'row' }, i.client_id), h('td', {}, i.outcome),
        h('td', {}, i.number || ''), h('td', {}, i.total_amount !== undefined ? money(i.total_amount, i.currency) : ''),
        h('td', {}, [i.reason, i.detail].filter(Boolean).join(': '))))));
    if (!dryRun && onFinished) await onFinished();
  };
  const preview = form.elements.namedItem('preview');
  preview.addEventListener('click', busy(preview, out, start(true), { form }));
  form.addEventListener('submit', (event) => busy(form.elements.namedItem('run'), out, start(false), { form })(event));
  return form;
}

export async function billingPage() {
  const numberingBox = h('div');
  const invoicesBox = h('div');
  const loadNumbering = async () => {
    if (!can('manage_billing')) {
      appendAll(clear(numberingBox), status('Invoice numbering and billing runs are managed by billing staff.'));
      return;
    }
    const n = await get('/v1/invoice-numbering');
    appendAll(clear(numberingBox), numberingSection(n, loadNumbering));
  };
  const showInvoices = async (after) => {
    const list = await get(`/v1/invoices${query({ limit: 50, after })}`);
    appendAll(clear(invoicesBox), table('Invoices', ['Number', 'Client', 'Period', 'Status', 'Total'],
      list.items.map((i) => h('tr', {}, h('th', { scope: 'row', class: 'invoice-number' }, i.number),
        h('td', { class: 'name' }, i.client?.name || i.client_id || ''), h('td', {}, i.period || ''),
        h('td', {}, i.status), h('td', {}, money(i.total_amount ?? i.total, i.currency))))),
    pager(list.next_after, (next) => showInvoices(next)));
  };
  await Promise.all([loadNumbering(), showInvoices()]);
  return [h('h1', {}, 'Billing'), numberingBox,
    can('manage_billing') ? runSection(() => Promise.all([showInvoices(), loadNumbering()])) : null,
    invoicesBox];
}



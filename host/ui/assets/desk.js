// Service desk: tickets and their time entries; approving (one, or in bulk by filter), and
// rejecting with a reason. A refusal for missing billing information offers the client's form and
// then approves without anything typed again.
import { h, clear, appendAll, field, nextId } from './dom.js';
import { get, post, query } from './api.js';
import { can, table, pager, status, showProblem, busy } from './ui.js';

function entriesPanel(ticket) {
  const box = h('div', { class: 'entries', id: nextId('entries') });
  const load = async () => {
    const list = await get(`/v1/tickets/${encodeURIComponent(ticket.id)}/time-entries`);
    const rows = list.items.map((e) => {
      const problem = h('div', { class: 'row-problem' });
      const actions = h('td', { class: 'actions' });
      if (e.status === 'submitted' && can('approve_time')) {
        const approve = h('button', { type: 'button', class: 'primary' }, 'Approve');
        const run = async () => {
          await post(`/v1/time-entries/${encodeURIComponent(e.id)}/approve`, {});
          await load();
        };
        approve.addEventListener('click', busy(approve, problem, run));
        const reasonId = nextId('reason');
        const reason = h('input', { id: reasonId, name: 'reason', type: 'text' });
        const reject = h('button', { type: 'button' }, 'Reject');
        reject.addEventListener('click', busy(reject, problem, async () => {
          await post(`/v1/time-entries/${encodeURIComponent(e.id)}/reject`, { reason: reason.value.trim() });
          await load();
        }));
        actions.append(approve, ' ', h('label', { for: reasonId, class: 'inline' }, 'Reason'), reason, reject);
      }
      return [h('tr', { dataset: { entry: e.id } },
        h('td', {}, e.technician),
        h('td', {}, e.work_date || ''),
        h('td', {}, String(e.minutes)),
        h('td', {}, e.billed_minutes === null ? '—' : String(e.billed_minutes)),
        h('td', { class: `status ${e.status}` }, e.status + (e.rejected_reason ? ` (${e.rejected_reason})` : '')),
        actions),
      h('tr', { class: 'problem-row' }, h('td', { colspan: 6 }, problem))];
    });
    appendAll(clear(box), table(`Time entries on “${ticket.subject}”`,
      ['Technician', 'Date', 'Minutes', 'Billed minutes', 'Status', 'Action'], rows));
  };
  return { box, load };
}

function bulkForm(clients) {
  const result = h('div');
  const form = h('form', { class: 'card inline-form', 'aria-label': 'Bulk approval' },
    h('h2', {}, 'Approve time in bulk'),
    field('Client', 'client_id', { options: [['', 'Any client'], ...clients] }),
    field('From', 'from', { type: 'date' }),
    field('To', 'to', { type: 'date' }),
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Approve submitted time')),
    result);
  const run = async () => {
    const filter = {};
    for (const name of ['client_id', 'from', 'to']) {
      const v = form.elements.namedItem(name).value;
      if (v) filter[name] = v;
    }
    const out = await post('/v1/time-entries/approve', { filter });
    const counts = {};
    for (const r of out.results) counts[r.outcome] = (counts[r.outcome] || 0) + 1;
    const refused = out.results.filter((r) => r.outcome !== 'approved' && r.outcome !== 'already_approved');
    appendAll(clear(result), status(Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') || 'Nothing to approve.'));
    const seen = new Set();
    for (const r of refused) {
      const key = r.prompt ? JSON.stringify(r.prompt) : r.reason;
      if (seen.has(key)) continue;
      seen.add(key);
      showProblem(result.appendChild(h('div')), { problem: { title: `Entry ${r.outcome}`, detail: r.reason, prompt: r.prompt } },
        { retry: run });
    }
  };
  form.addEventListener('submit', (event) => busy(form.querySelector('button[type=submit]'), result, run)(event));
  return form;
}

export async function deskPage({ params }) {
  const listBox = h('div');
  const filterClient = params.get('client_id') || '';
  const show = async (after) => {
    const list = await get(`/v1/tickets${query({ limit: 50, after, client_id: filterClient })}`);
    const rows = [];
    for (const t of list.items) {
      const panel = entriesPanel(t);
      const detailsRow = h('tr', { class: 'details', hidden: true }, h('td', { colspan: 5 }, panel.box));
      const toggle = h('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': panel.box.id },
        `Time entries${t.submitted_time_entries ? ` (${t.submitted_time_entries} to approve)` : ''}`);
      toggle.addEventListener('click', async () => {
        const open = toggle.getAttribute('aria-expanded') !== 'true';
        toggle.setAttribute('aria-expanded', String(open));
        detailsRow.hidden = !open;
        if (open) {
          try {
            await panel.load();
          } catch (err) {
            showProblem(panel.box, err);
          }
        }
      });
      rows.push(h('tr', { dataset: { ticket: t.id } },
        h('th', { scope: 'row', class: 'name' }, t.subject),
        h('td', { class: 'name' }, t.client_name),
        h('td', {}, t.status),
        h('td', {}, t.created_at.slice(0, 10)),
        h('td', {}, toggle)), detailsRow);
    }
    const clients = [...new Map(list.items.map((t) => [t.client_id, t.client_name])).entries()];
    appendAll(clear(listBox), 
      can('approve_time') ? bulkForm(clients) : null,
      table('Tickets', ['Subject', 'Client', 'Status', 'Opened', 'Time'], rows),
      pager(list.next_after, (next) => show(next)));
  };
  await show();
  return [h('h1', {}, 'Service desk'),
    h('p', {}, 'Tickets are served whatever the client\'s billing information; approving their time needs it.'),
    listBox];
}

// Integrations: connections, the inbox with parked entries and replay, webhook endpoints with
// their deliveries and replay, and plugins with their state, enable and disable.
import { h, clear, appendAll, field, clearFieldErrors } from './dom.js';
import { get, post, query } from './api.js';
import { can, table, status, busy } from './ui.js';

function actionButton(label, box, action) {
  const b = h('button', { type: 'button' }, label);
  b.addEventListener('click', busy(b, box, action));
  return b;
}

export async function integrationsPage() {
  const manage = can('manage_integrations');
  const sections = {
    plugins: h('section', { 'aria-label': 'Plugins' }),
    connections: h('section', { 'aria-label': 'Connections' }),
    inbox: h('section', { 'aria-label': 'Inbox' }),
    endpoints: h('section', { 'aria-label': 'Webhook endpoints' }),
    deliveries: h('section', { 'aria-label': 'Deliveries' }),
  };
  const problems = h('div');

  const loadPlugins = async () => {
    const list = await get('/v1/plugins');
    appendAll(clear(sections.plugins), h('h2', {}, 'Plugins'), table('Plugins', ['Plugin', 'Version', 'State', 'Calls / errors', 'Last error', 'Action'],
      list.items.map((p) => h('tr', {}, h('th', { scope: 'row' }, p.name || p.id), h('td', {}, p.version), h('td', {}, p.state),
        h('td', {}, `${p.calls} / ${p.errors}`), h('td', {}, p.last_error || ''),
        h('td', {}, can('manage_plugins') && p.state !== 'failed' ?
          actionButton(p.state === 'disabled' ? `Enable ${p.id}` : `Disable ${p.id}`, problems, async () => {
            await post(`/v1/plugins/${encodeURIComponent(p.id)}/${p.state === 'disabled' ? 'enable' : 'disable'}`, {});
            await loadPlugins();
          }) : '')))));
  };
  const loadConnections = async () => {
    const list = await get('/v1/connections');
    appendAll(clear(sections.connections), h('h2', {}, 'Connections'),
      h('p', { class: 'hint' }, 'Added and tested with: psahost connections add | test'),
      table('Connections', ['Name', 'Connector', 'Base URL', 'Status', 'Since'],
        list.items.map((c) => h('tr', {}, h('th', { scope: 'row' }, c.name), h('td', {}, c.connector),
          h('td', {}, c.base_url || ''), h('td', {}, c.status), h('td', {}, (c.created_at || '').slice(0, 10))))));
  };
  const loadInbox = async (statusFilter = 'parked') => {
    const list = await get(`/v1/inbox${query({ status: statusFilter, limit: 50 })}`);
    appendAll(clear(sections.inbox), h('h2', {}, `Inbox: ${statusFilter} entries`),
      table('Inbox', ['Id', 'Connection', 'Received', 'Attempts', 'Last error', 'Action'],
        list.items.map((e) => h('tr', {}, h('th', { scope: 'row' }, String(e.id)), h('td', {}, e.connection || e.connection_id),
          h('td', {}, e.received_at), h('td', {}, String(e.attempts)), h('td', {}, e.last_error || ''),
          h('td', {}, manage ? actionButton(`Replay ${e.id}`, problems, async () => {
            await post(`/v1/inbox/${encodeURIComponent(e.id)}/replay`, {});
            await loadInbox(statusFilter);
          }) : '')))));
  };
  const loadDeliveries = async (endpointId) => {
    const list = await get(`/v1/deliveries${query({ endpoint_id: endpointId, limit: 50 })}`);
    appendAll(clear(sections.deliveries), h('h2', {}, endpointId ? `Deliveries to ${endpointId}` : 'Deliveries'),
      table('Deliveries', ['Id', 'Event', 'Status', 'Attempts', 'Last answer', 'Action'],
        list.items.map((d) => h('tr', {}, h('th', { scope: 'row' }, String(d.id)), h('td', {}, d.event_type), h('td', {}, d.status),
          h('td', {}, String(d.attempt_count)), h('td', {}, d.last_status ? String(d.last_status) : (d.last_error || '')),
          h('td', {}, manage && d.status !== 'pending' ? actionButton(`Replay ${d.id}`, problems, async () => {
            await post(`/v1/deliveries/${encodeURIComponent(d.id)}/replay`, {});
            await loadDeliveries(endpointId);
          }) : '')))));
  };
  const loadEndpoints = async () => {
    const list = await get('/v1/webhook-endpoints');
    const errors = h('div');
    const form = manage ? h('form', { class: 'card inline-form', novalidate: true, 'aria-label': 'New webhook endpoint' },
      field('URL', 'url', { type: 'url' }),
      field('Event types (comma separated)', 'event_types', { value: 'invoice.issued' }),
      errors, h('p', {}, h('button', { type: 'submit' }, 'Add endpoint'))) : null;
    if (form) {
      form.addEventListener('submit', (event) => busy(form.querySelector('button'), errors, async () => {
        clearFieldErrors(form);
        const types = form.elements.namedItem('event_types').value.split(',').map((s) => s.trim()).filter(Boolean);
        await post('/v1/webhook-endpoints', { url: form.elements.namedItem('url').value.trim(), event_types: types });
        await loadEndpoints();
      }, { form })(event));
    }
    appendAll(clear(sections.endpoints), h('h2', {}, 'Webhook endpoints'), form,
      table('Webhook endpoints', ['URL', 'Events', 'Status', 'Action'],
        list.items.map((e) => h('tr', {}, h('th', { scope: 'row' }, e.url), h('td', {}, (e.event_types || []).join(', ')),
          h('td', {}, e.status + (e.disabled_reason ? ` (${e.disabled_reason})` : '')),
          h('td', {}, actionButton(`Deliveries of ${e.url}`, problems, () => loadDeliveries(e.id)))))));
  };
  await Promise.all([loadPlugins(), loadConnections(), loadInbox(), loadEndpoints(), loadDeliveries()]);
  return [h('h1', {}, 'Integrations'), problems, sections.plugins, sections.connections, sections.inbox,
    sections.endpoints, sections.deliveries, status('')];
}

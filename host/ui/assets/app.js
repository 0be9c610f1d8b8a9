// The console's shell: sign-in, the session (whose role decides what is offered), hash routes
// to pages, and recovery when the host restarts under an open page.
import { h, clear, appendAll } from './dom.js';
import { api, get, token, whenSignedOut, whenReachability } from './api.js';
import { session, showProblem } from './ui.js';
import { dashboardPage } from './dashboard.js';
import { clientsPage, clientBillingPage } from './clients.js';
import { deskPage } from './desk.js';
import { contractsPage, contractPage, wizardPage } from './contracts.js';
import { salesPage } from './sales.js';
import { billingPage } from './billing.js';
import { integrationsPage } from './integrations.js';

const main = () => document.getElementById('main');
let signInReason = '';

const ROUTES = [
  [/^\/$/, dashboardPage],
  [/^\/clients$/, clientsPage],
  [/^\/clients\/([^/]+)\/billing$/, clientBillingPage],
  [/^\/desk$/, deskPage],
  [/^\/contracts$/, contractsPage],
  [/^\/contracts\/new$/, wizardPage],
  [/^\/contracts\/([^/]+)$/, contractPage],
  [/^\/sales$/, salesPage],
  [/^\/billing$/, billingPage],
  [/^\/integrations$/, integrationsPage],
];

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, q = ''] = raw.split('?');
  return { path, params: new URLSearchParams(q) };
}

function signInPage() {
  document.getElementById('nav').hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  const errors = h('div');
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true,
    'aria-describedby': 'token-hint' });
  const form = h('form', { class: 'card signin' },
    h('h1', {}, 'Sign in'),
    signInReason ? h('p', { class: 'problem', role: 'alert' }, signInReason) : null,
    h('div', { class: 'field' },
      h('label', { for: 'token' }, 'API token'), input,
      h('small', { id: 'token-hint', class: 'hint' },
        'Create one with: psahost tokens create --tenant NAME --role admin|billing|technician. ' +
        'It is kept for this browser tab only.')),
    errors,
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Sign in')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    token.set(input.value.trim());
    try {
      await loadSession();
      signInReason = '';
      input.value = '';
      if (parseHash().path === '/signin') location.hash = '#/';
      else render();
    } catch (err) {
      token.clear();
      showProblem(errors, err);
    }
  });
  clear(main()).append(form);
  input.focus();
}

async function loadSession() {
  const s = await get('/v1/session');
  Object.assign(session, s);
  document.getElementById('nav').hidden = false;
  document.getElementById('signout').hidden = false;
  document.getElementById('who').textContent = `${s.tenant} · ${s.role}`;
}

let rendering = 0;
async function render() {
  const mine = ++rendering;
  if (!token.get()) return signInPage();
  if (!session.role) {
    try {
      await loadSession();
    } catch (err) {
      if (!token.get()) return undefined;  // signed out by the 401 handler
      return showProblem(clear(main()), err);
    }
  }
  const { path, params } = parseHash();
  for (const a of document.querySelectorAll('#nav a')) {
    const target = a.getAttribute('href').slice(1);
    const current = target === '/' ? path === '/' : path.startsWith(target);
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const route = ROUTES.find(([re]) => re.test(path));
  const box = clear(main());
  if (!route) {
    box.append(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the dashboard')));
    return undefined;
  }
  const match = path.match(route[0]);
  try {
    const content = await route[1]({ params, args: match.slice(1).map(decodeURIComponent) });
    if (mine !== rendering) return undefined;
    appendAll(clear(box), ...[content].flat());
    box.dataset.page = path;
    delete box.dataset.error;
    document.title = `${box.querySelector('h1')?.textContent || 'psahost'} · psahost console`;
    box.dispatchEvent(new CustomEvent('page-ready', { bubbles: true }));
  } catch (err) {
    if (mine !== rendering || !token.get()) return undefined;
    appendAll(clear(box), h('h1', {}, 'Could not load this page'));
    showProblem(box.appendChild(h('div')), err);
    box.dataset.page = path;
    box.dataset.error = 'true';
  }
  return undefined;
}

whenSignedOut((problem) => {
  signInReason = `Signed out: ${problem.detail || problem.title || 'the token is no longer valid'}`;
  session.role = null;
  signInPage();
});

whenReachability((down) => {
  const banner = document.getElementById('offline');
  banner.hidden = !down;
  banner.textContent = down ? 'The host is not answering; retrying…' : '';
});

window.addEventListener('hashchange', render);
window.addEventListener('DOMContentLoaded', () => {
  document.getElementById('signout').addEventListener('click', () => {
    token.clear();
    session.role = null;
    signInReason = '';
    signInPage();
  });
  render();
});

export { api, render };

// The seed's scenario end to end through the console in headless Chromium, against a real
// psahost on loopback with a real SQLite database: sign in, see the counts, a refused approval ->
// billing information added -> approved, a contract through the wizard with its billing step
// skipped, an unpriced part fixed and the contract activated, numbering verified, billing run,
// the invoice and its number. Screenshots of each page go to PSAHOST_UI_ARTIFACTS; axe-core must
// find no serious or critical violation on any page. Prints (never asserts) the first page's load
// time with 10,000 clients.
//
// Environment: PSAHOST_BINARY, CHROMIUM (path), PSAHOST_UI_ARTIFACTS (folder), NODE_PATH-free:
// PSAHOST_UI_NPM (folder holding node_modules with puppeteer-core and axe-core);
// PSAHOST_UI_DOCS_IMG (optional folder: the README's two screenshots are written there too).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, copyFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';

const binary = process.env.PSAHOST_BINARY;
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const npmDir = process.env.PSAHOST_UI_NPM;
const artifacts = process.env.PSAHOST_UI_ARTIFACTS || join(tmpdir(), 'psahost-ui-artifacts');
const docsImg = process.env.PSAHOST_UI_DOCS_IMG;
const SKIP = 77;

if (!binary || !existsSync(binary)) {
  console.error('PSAHOST_BINARY is not set to the psahost binary');
  process.exit(1);
}
if (!existsSync(chromium) || !npmDir || !existsSync(join(npmDir, 'node_modules/puppeteer-core'))) {
  console.error(`skipped: needs ${chromium} and puppeteer-core in ${npmDir} (tools/dev.sh test installs both)`);
  process.exit(SKIP);
}
const require = createRequire(join(npmDir, 'package.json'));
const puppeteer = require('puppeteer-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

mkdirSync(artifacts, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), 'psahost-ui-'));
let server;
let browser;
let failures = 0;
let passes = 0;

function step(name) {
  console.log(`--- ${name}`);
}
function check(ok, what) {
  if (ok) {
    passes += 1;
    console.log(`ok: ${what}`);
  } else {
    failures += 1;
    console.log(`FAILED: ${what}`);
  }
  return ok;
}
function must(ok, what) {
  if (!check(ok, what)) throw new Error(`required step failed: ${what}`);
}

function cli(...args) {
  return execFileSync(binary, [...args, '--data-dir', dataDir], { encoding: 'utf8' }).trim();
}

async function startServer(listen = '127.0.0.1:0') {
  // The last step seeds 10,000 clients through the API, far past the default
  // per-tenant rate limit; the limit itself is tested in tests/host/rate_limit_itest.cpp.
  server = spawn(binary, ['serve', '--data-dir', dataDir, '--listen', listen, '--threads', '2',
    '--rate-limit', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr.on('data', () => {});
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`psahost did not start: ${out}`)), 60000);
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /serving (https:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`psahost exited with ${code}: ${out}`)));
  });
}

let base;
let ca;
let adminToken;
const agent = () => new https.Agent({ ca, keepAlive: true, maxSockets: 16 });
let httpsAgent;
function call(method, path, body, tokenValue = adminToken) {
  return new Promise((resolve, reject) => {
    const req = https.request(`${base}${path}`, {
      method, agent: httpsAgent,
      headers: { Authorization: `Bearer ${tokenValue}`, 'Content-Type': 'application/json' },
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        const data = text ? JSON.parse(text) : null;
        if (res.statusCode >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
        else resolve(data);
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

async function waitForReady() {
  for (let i = 0; i < 200; i += 1) {
    try {
      await call('GET', '/v1/session');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('psahost never became ready');
}

const thisMonth = () => new Date().toISOString().slice(0, 7);

async function seed() {
  await call('PUT', '/v1/catalog/products', { items: [
    { sku: 'CP-BACKUP-WS', name: 'Backup, workstation', unit: 'workstation', part_type: 'default', pricing: 'per_unit', prices: { EUR: 450 } },
    { sku: 'CP-EDR', name: 'Endpoint detection', unit: 'device', part_type: 'managed_service', pricing: 'per_unit', prices: {} },
    { sku: 'LABOUR', name: 'Remote support', unit: 'hour', part_type: 'default', pricing: 'per_hour', prices: { EUR: 9000 }, default_labour: true },
  ] });
  const contoso = await call('POST', '/v1/clients', { name: 'Contoso <b>Ltd</b>', type: 'customer' });
  const ticket = await call('POST', '/v1/tickets', { client_id: contoso.id, subject: 'Printer offline' });
  const entry = await call('POST', `/v1/tickets/${ticket.id}/time-entries`, { minutes: 7, technician: 'alice', billable: true });
  const fabrikam = await call('POST', '/v1/clients', { name: 'Fabrikam', type: 'customer' });
  await call('PUT', `/v1/clients/${fabrikam.id}/billing-info`, billingInfo('Fabrikam BV'));
  await call('PUT', `/v1/clients/${fabrikam.id}/services`, { items: [{ sku: 'CP-BACKUP-WS', quantity: 12 }, { sku: 'CP-EDR', quantity: 5 }] });
  const northwind = await call('POST', '/v1/clients', { name: 'Northwind', type: 'customer' });
  const tailspin = await call('POST', '/v1/clients', { name: 'Tailspin', type: 'customer' });
  await call('PUT', `/v1/clients/${tailspin.id}/billing-info`, billingInfo('Tailspin Toys'));
  await call('PUT', `/v1/clients/${tailspin.id}/services`, { items: [{ sku: 'CP-BACKUP-WS', quantity: 3 }] });
  return { contoso, ticket, entry, fabrikam, northwind };
}

function billingInfo(name) {
  return { business_name: name, legal_form: 'BV', email: 'billing@example.com', vat_number: 'NL123456789B01',
    address: { street: 'Main', number: '1', city: 'Utrecht', zip: '3511AA', country: 'NL' },
    currency: 'EUR', tax_rate: '21.00', payment_terms_days: 30, roundup_minutes: 15, invoice_delivery: 'email' };
}

async function axe(page, name) {
  const result = await page.evaluate(`${axeSource}; axe.run(document, { resultTypes: ['violations'] })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help })))`);
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of result) console.log(`  axe ${name}: ${v.impact} ${v.id} (${v.nodes}) ${v.help}`);
  check(bad.length === 0, `axe-core: no serious or critical violation on ${name}`);
}

async function shot(page, name) {
  const file = join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function pageReady(page, path) {
  await page.waitForFunction((p) => document.getElementById('main')?.dataset.page === p, { timeout: 20000 }, path);
  const error = await page.$eval('main', (m) => (m.dataset.error ? m.textContent : ''));
  if (error) throw new Error(`page ${path} could not load: ${error}`);
  const stray = await page.$eval('main', (m) => /\[object |\bnull\b|\bundefined\b/.test(m.innerText));
  check(!stray, `page ${path} shows no stray "null", "undefined" or "[object" text`);
}

async function go(page, hash, path) {
  await page.evaluate((h) => { document.getElementById('main').dataset.page = ''; location.hash = h; }, hash);
  await pageReady(page, path);
}

async function clickText(page, selector, text) {
  const handle = await page.waitForFunction((s, t) => [...document.querySelectorAll(s)]
    .find((el) => el.textContent.trim() === t && !el.disabled), { timeout: 20000 }, selector, text);
  await handle.asElement().click();
}

async function textOf(page, selector) {
  return page.$eval(selector, (el) => el.textContent);
}

async function fill(page, selector, value) {
  await page.$eval(selector, (el) => { el.value = ''; });
  await page.type(selector, value);
}

async function fillBillingForm(page, name) {
  for (const [field, value] of Object.entries(billingInfo(name))) {
    if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) await fill(page, `.billing-form [name="address.${k}"]`, String(v));
    } else if (field !== 'invoice_delivery') {
      await fill(page, `.billing-form [name="${field}"]`, String(value));
    }
  }
}

async function main() {
  base = await startServer();
  ca = readFileSync(join(dataDir, 'tls/cert.pem'));
  httpsAgent = agent();
  adminToken = cli('tokens', 'create', '--tenant', 'default', '--role', 'admin');
  await waitForReady();
  const seeded = await seed();

  browser = await puppeteer.launch({
    executablePath: chromium, headless: true, acceptInsecureCerts: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const cspViolations = [];
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
  });
  page.on('pageerror', (err) => { cspViolations.push(`page error: ${err.message}`); });

  step('sign in');
  const response = await page.goto(`${base}/ui/`, { waitUntil: 'domcontentloaded' });
  const headers = response.headers();
  check(/frame-ancestors 'none'/.test(headers['content-security-policy'] || '') &&
    !/unsafe-inline/.test(headers['content-security-policy']), 'CSP forbids framing and inline script');
  check(headers['x-content-type-options'] === 'nosniff', 'X-Content-Type-Options: nosniff');
  await page.waitForSelector('#token');
  await shot(page, '01-sign-in');
  await axe(page, 'sign-in');
  await page.type('#token', 'psa_not_a_real_token');
  await page.click('form button[type=submit]');
  await page.waitForSelector('.problem');
  check(/401|Unauthorized|token/i.test(await textOf(page, 'main')), 'a wrong token is refused with the API\'s problem');
  await fill(page, '#token', adminToken);
  await page.click('form button[type=submit]');
  await pageReady(page, '/');
  check(!page.url().includes(adminToken), 'the token is not in the URL');

  step('dashboard');
  const tiles = await page.$$eval('.tiles li', (els) => els.map((e) => e.textContent));
  check(tiles.some((t) => t.startsWith('4clients')), 'dashboard: 4 clients');
  check(tiles.some((t) => t.startsWith('2without billing information')), 'dashboard: 2 without billing information');
  check(tiles.some((t) => t.startsWith('2with services but no contract')), 'dashboard: 2 with services but no contract');
  check(tiles.some((t) => t.startsWith('Not verified')), 'dashboard: numbering not verified');
  const dashboardShot = await shot(page, '02-dashboard');
  await axe(page, 'dashboard');

  step('clients');
  await page.click('a[href="#/clients?missing=1"]');
  await pageReady(page, '/clients');
  check(await page.$eval('main', (m) => m.textContent.includes('Contoso <b>Ltd</b>') && !m.querySelector('th b')),
    'a name with HTML is shown as text');
  check((await textOf(page, 'main')).includes('Billing information missing'), 'the missing-billing-information marker');
  await shot(page, '03-clients');
  await axe(page, 'clients');

  step('service desk: refused approval, billing information, approved');
  await go(page, '#/desk', '/desk');
  await clickText(page, 'button', 'Time entries (1 to approve)');
  await clickText(page, 'button', 'Approve');
  await page.waitForSelector('.problem');
  must((await textOf(page, '.entries .problem')).length > 0, 'the refusal shows its title and detail');
  await shot(page, '04-desk-refused');
  await clickText(page, 'button', 'Add billing information');
  await page.waitForSelector('.billing-form');
  await fillBillingForm(page, 'Contoso Ltd');
  await fill(page, '.billing-form [name="tax_rate"]', 'lots');
  await clickText(page, '.billing-form button', 'Add and continue');
  await page.waitForFunction(() => document.querySelector('[data-field="tax_rate"] .field-error')?.textContent.length > 0,
    { timeout: 10000 });
  check(true, 'a 422 names the field beside it (tax_rate)');
  await shot(page, '05-billing-info-422');
  await axe(page, 'billing information form');
  await fill(page, '.billing-form [name="tax_rate"]', '21.00');
  await clickText(page, '.billing-form button', 'Add and continue');
  await page.waitForFunction(() => [...document.querySelectorAll('.entries td.status')].some((td) => td.textContent.startsWith('approved')),
    { timeout: 20000 });
  const approved = await call('GET', `/v1/time-entries/${seeded.entry.id}`);
  must(approved.status === 'approved' && approved.billed_minutes === 15, 'the approval went through after the form, 7 minutes billed as 15');
  await shot(page, '06-desk-approved');
  await axe(page, 'service desk');

  step('sales items: the same prompt, then created without typing again');
  await go(page, '#/sales', '/sales');
  await page.type('[name="client_id"]', seeded.northwind.id);
  await page.type('[name="description"]', 'Router');
  await page.type('[name="unit_price"]', '129.00');
  await clickText(page, 'button', 'Create');
  await page.waitForSelector('main .problem');
  await shot(page, '06b-sales-refused');
  await clickText(page, 'button', 'Add billing information');
  await page.waitForSelector('.billing-form');
  await fillBillingForm(page, 'Northwind Traders');
  await clickText(page, '.billing-form button', 'Add and continue');
  await page.waitForFunction(() => /Sales item \S+ created/.test(document.querySelector('main').textContent), { timeout: 20000 });
  check((await page.$eval('main', (m) => m.textContent)).includes('Router'), 'the sales item was created after the form, as typed');
  await axe(page, 'sales items');

  step('contracts: wizard with the billing step skipped');
  await go(page, '#/contracts', '/contracts');
  check((await textOf(page, '.banner')).includes('2 clients have services but no contract'), 'the banner counts the clients without a contract');
  await shot(page, '07-contracts');
  await axe(page, 'contracts');
  await page.click('.banner a[href="#/contracts/new"]');
  await pageReady(page, '/contracts/new');
  await page.select('[name="client_id"]', seeded.fabrikam.id);
  await clickText(page, 'button', 'Next');
  await page.waitForSelector('[name="contact_email"]');
  await page.type('[name="contact_email"]', 'it@fabrikam.example');
  await clickText(page, 'button', 'Next');
  await page.waitForFunction(() => document.querySelector('.wizard-body h2')?.textContent === 'Contract parts', { timeout: 10000 });
  const stepsShown = await page.$$eval('.steps li', (els) => els.map((e) => e.textContent));
  check(stepsShown.includes('Contract parts') && !stepsShown.includes('Billing information'),
    `the billing information step is not shown for a complete client (${stepsShown.join(' > ')})`);
  check((await page.$$('tr.unpriced')).length === 1, 'the unpriced part is marked');
  const wizardShot = await shot(page, '08-wizard-parts');
  await axe(page, 'contract wizard');
  await clickText(page, 'button', 'Done');
  await page.waitForFunction(() => location.hash.startsWith('#/contracts/ctr') || /^#\/contracts\/[^n]/.test(location.hash), { timeout: 20000 });
  await page.waitForSelector('[data-part]');

  step('activation refused for the unpriced part, price set, activated');
  await clickText(page, 'button', 'Activate');
  await page.waitForSelector('main .problem');
  check((await textOf(page, 'main .problem')).length > 0, 'activation refused with the problem shown');
  const marked = await page.$$eval('tr.unpriced', (rows) => rows.map((r) => r.dataset.part));
  check(marked.length === 1, 'the refusal marks which part has no price');
  await shot(page, '09-contract-refused');
  await fill(page, `tr[data-part="${marked[0]}"] input`, '7.50');
  await page.click(`tr[data-part="${marked[0]}"] button`);
  await page.waitForFunction(() => document.querySelectorAll('tr.unpriced').length === 0, { timeout: 10000 });
  await clickText(page, 'button', 'Activate');
  await page.waitForFunction(() => document.querySelector('main').textContent.includes('The contract is active.'), { timeout: 10000 });
  check(true, 'the contract is active');
  await shot(page, '10-contract-active');
  await axe(page, 'contract');

  step('create drafts for all: the bulk bootstrap with progress');
  await go(page, '#/contracts', '/contracts');
  check((await textOf(page, '.banner')).includes('1 client has services but no contract'), 'the banner counts one client left');
  await clickText(page, 'button', 'Create drafts for all');
  await page.waitForFunction(() => /1 draft contracts created/.test(document.querySelector('.bootstrap')?.textContent || ''), { timeout: 20000 });
  check(await page.$eval('.bootstrap progress', (p) => p.value === p.max), 'the progress bar is full');
  await page.waitForFunction(() => document.querySelectorAll('main table tbody tr').length === 2, { timeout: 10000 });
  check(true, 'the drafts are listed');
  await shot(page, '10b-bootstrap-all');

  step('billing: numbering verified, run, invoice');
  await go(page, '#/billing', '/billing');
  await fill(page, '[name="prefix"]', 'INV-');
  await fill(page, '[name="pattern"]', '{prefix}{yyyy}-{seq:05}');
  await fill(page, '[name="next_number"]', '1001');
  await clickText(page, 'button', 'Save settings');
  await page.waitForFunction(() => document.querySelector('.next-number')?.textContent.includes('01001'), { timeout: 10000 });
  await clickText(page, 'button', 'Verify numbering');
  await page.waitForFunction(() => document.querySelector('main').textContent.includes('Verified'), { timeout: 10000 });
  check(true, 'numbering verified');
  await page.$eval('[name="period"]', (el, v) => { el.value = v; }, thisMonth());
  await clickText(page, 'button', 'Preview (dry run)');
  await page.waitForFunction(() => /Preview completed/.test(document.querySelector('.run-output')?.textContent || ''), { timeout: 30000 });
  check(true, 'a dry run is shown as a preview');
  await shot(page, '11-billing-preview');
  await clickText(page, 'button', 'Run billing');
  await page.waitForFunction(() => /Run completed/.test(document.querySelector('.run-output')?.textContent || ''), { timeout: 30000 });
  await page.waitForFunction(() => document.querySelectorAll('.invoice-number').length > 0, { timeout: 10000 });
  const numbers = await page.$$eval('.invoice-number', (els) => els.map((e) => e.textContent));
  must(numbers.some((n) => /^INV-\d{4}-01001$/.test(n)), `the invoice shows its number (${numbers.join(', ')})`);
  await shot(page, '12-billing-invoices');
  await axe(page, 'billing');

  step('integrations');
  await go(page, '#/integrations', '/integrations');
  check((await textOf(page, 'main')).includes('billing-gate'), 'plugins listed with their state');
  await shot(page, '13-integrations');
  await axe(page, 'integrations');

  step('the host restarts under an open page, and the page recovers');
  server.removeAllListeners('exit');
  const stopped = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await stopped;
  await page.evaluate(() => { document.getElementById('main').dataset.page = ''; location.hash = '#/clients'; });
  await page.waitForFunction(() => !document.getElementById('offline').hidden, { timeout: 10000 });
  check(true, 'the page says the host is not answering');
  await shot(page, '14-host-down');
  await startServer(new URL(base).host);
  await pageReady(page, '/clients');
  check(await page.$eval('#offline', (b) => b.hidden), 'the page loads once the host is back, and the notice goes');

  step('a technician is offered no billing run, and a revoked token goes back to sign-in');
  const techToken = cli('tokens', 'create', '--tenant', 'default', '--role', 'technician', '--name', 'ui-tech');
  const tech = await browser.createBrowserContext();
  const techPage = await tech.newPage();
  await techPage.goto(`${base}/ui/#/billing`, { waitUntil: 'domcontentloaded' });
  await techPage.waitForSelector('#token');
  await techPage.type('#token', techToken);
  await techPage.click('form button[type=submit]');
  await pageReady(techPage, '/billing');
  check(!(await techPage.$$eval('button', (bs) => bs.some((b) => b.textContent === 'Run billing'))), 'no billing run button for a technician');
  await shot(techPage, '15-technician-billing');
  const listed = cli('tokens', 'list');
  const techId = listed.split('\n').find((l) => /\btechnician\b/.test(l) && /\bactive\b/.test(l))
    ?.match(/tok_[A-Za-z0-9_-]+/)?.[0];
  if (check(Boolean(techId), 'the technician token is listed')) {
    cli('tokens', 'revoke', techId);
    await techPage.evaluate(() => { location.hash = '#/'; });
    await techPage.waitForFunction(() => document.querySelector('#token') &&
      document.querySelector('main').textContent.includes('Signed out'), { timeout: 10000 });
    check(true, 'a revoked token goes back to sign-in with the reason');
    await shot(techPage, '16-signed-out');
  }
  await tech.close();

  check(cspViolations.length === 0, `no CSP violation or page error (${cspViolations.join(' | ')})`);

  if (docsImg) {
    mkdirSync(docsImg, { recursive: true });
    copyFileSync(dashboardShot, join(docsImg, 'console-dashboard.png'));
    copyFileSync(wizardShot, join(docsImg, 'console-wizard.png'));
  }

  step('first page load with 10,000 clients (measured, not asserted)');
  let created = 2;
  while (created < 10000) {
    const batch = [];
    for (let i = 0; i < 32 && created < 10000; i += 1, created += 1) {
      batch.push(call('POST', '/v1/clients', { name: `Client ${String(created).padStart(5, '0')}`, type: 'customer' }));
    }
    await Promise.all(batch);
  }
  const fresh = await browser.newPage();
  await fresh.goto(`${base}/ui/#/`, { waitUntil: 'domcontentloaded' });
  await fresh.evaluate((t) => sessionStorage.setItem('psahost.token', t), adminToken);
  for (const [hash, path] of [['#/', '/'], ['#/clients', '/clients']]) {
    await fresh.evaluate((h) => { location.hash = h; }, hash);
    const times = [];
    let parts = '';
    for (let i = 0; i < 5; i += 1) {
      const started = Date.now();
      await fresh.reload({ waitUntil: 'domcontentloaded' });
      await pageReady(fresh, path);
      times.push(Date.now() - started);
      parts = await fresh.evaluate(() => performance.getEntriesByType('resource')
        .map((r) => `${new URL(r.name).pathname.replace(/^\/(ui|v1)\//, '')} ${Math.round(r.duration)}`).join(', '));
    }
    times.sort((a, b) => a - b);
    console.log(`console first page ${path} with 10000 clients: median ${times[2]} ms of 5 loads ` +
      `(min ${times[0]}, max ${times[4]}; load to rendered, loopback)`);
    console.log(`  requests (ms): ${parts}`);
  }
}

try {
  await main();
} catch (err) {
  failures += 1;
  console.log(`FAILED: ${err.stack || err}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) server.kill('SIGTERM');
  if (!process.env.PSAHOST_UI_KEEP) rmSync(dataDir, { recursive: true, force: true });
  console.log(`screenshots in ${artifacts}`);
  console.log(`${passes} passed, ${failures} failed`);
  process.exit(failures ? 1 : 0);
}

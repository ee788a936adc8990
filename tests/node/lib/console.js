// Shared by the console's browser tests (tests/node/console_*.test.js): a `tezgah serve` with the
// reference tenants (../shared/fixtures/tenants, with the handoff tool, and the appointments tool
// for the studio), keys and agent accounts made with the real CLI, Chromium, axe-core checks and
// screenshots.
'use strict';
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
const { startServer, tezgah, root } = require('./server');

const fixtures = path.join(root, '..', 'shared', 'fixtures', 'tenants');
const shotsDir = path.join(process.env.TEZGAH_BINARY_DIR || path.join(root, 'build'), 'console-screenshots');
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/// Starts `tezgah serve` with the shipped tenants and the reference ones; `edit(id, manifest)`
/// may change any manifest after the console's additions. Extra `args` go to serve.
async function startConsoleServer({ edit, args = [], env = {} } = {}) {
  return startServer({
    args,
    env,
    edit,
    prepare(dir) {
      for (const id of ['gece-butik', 'nefes-studyo']) {
        fs.cpSync(path.join(fixtures, id), path.join(dir, id), { recursive: true });
        const file = path.join(dir, id, 'tenant.json');
        const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
        manifest.tools = manifest.tools || [];
        if (!manifest.tools.some((x) => x === 'handoff' || x.name === 'handoff')) manifest.tools.push('handoff');
        if (id === 'nefes-studyo' && !manifest.tools.some((x) => x.name === 'appointments')) {
          manifest.tools.push({ name: 'appointments' });
        }
        if (edit) edit(id, manifest);
        fs.writeFileSync(file, JSON.stringify(manifest, null, 2));
      }
    },
  });
}

const dbUrl = (server) => `sqlite:${path.join(server.work, 'tezgah.db')}`;

/// A key made with `tezgah keys create` (tenant: an id, or null for every tenant).
function createKey(server, { tenant, scopes, name = 'console test' }) {
  const args = ['keys', 'create', '--db', dbUrl(server), '--scopes', scopes.join(','), '--name', name];
  if (tenant) args.push('--tenant', tenant); else args.push('--all-tenants');
  return execFileSync(tezgah, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/// An agent account made with `tezgah agents create`; resolves its id.
function createAgent(server, { tenant, email, name, role = 'agent', password }) {
  const out = execFileSync(tezgah, ['agents', 'create', '--db', dbUrl(server), '--tenant', tenant,
    '--email', email, '--name', name, '--role', role, '--password-stdin'],
  { encoding: 'utf8', input: `${password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
  const m = out.match(/ag_[0-9a-f]+/);
  return m ? m[0] : out.trim();
}

async function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage',
      '--autoplay-policy=no-user-gesture-required'],
  });
}

const desktop = { width: 1280, height: 800 };
const phone = { width: 360, height: 740 };

/// A new page at `viewport` (desktop by default) in `lang` ('en' or 'tr'), logging page errors.
async function newPage(browser, { viewport = desktop, lang = 'en' } = {}) {
  const context = await browser.newContext({ viewport, locale: lang === 'tr' ? 'tr-TR' : 'en-US' });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) page.errors.push(m.text()); });
  await context.addInitScript((l) => { if (!localStorage.getItem('tezgah.lang')) localStorage.setItem('tezgah.lang', l); }, lang);
  return page;
}

/// Signs in on the console's sign-in page with a key.
async function signInWithKey(page, server, key) {
  await page.goto(`${server.url}/console/`);
  await page.getByLabel(/^(API key|API anahtarı)$/).fill(key);
  await page.getByRole('button', { name: /^(Sign in with the key|Anahtarla gir)$/ }).click();
  await page.locator('nav.sections').waitFor();
}

/// Signs an agent in with e-mail and password.
async function signInAgent(page, server, { tenant, email, password }) {
  await page.goto(`${server.url}/console/`);
  await page.getByLabel(/^(Business id|İşletme kimliği)$/).fill(tenant);
  await page.getByLabel(/^(E-mail|E-posta)$/).fill(email);
  await page.getByLabel(/^(Password|Parola)$/).fill(password);
  await page.getByRole('button', { name: /^(Sign in|Giriş yap)$/ }).click();
  await page.locator('nav.sections').waitFor();
}

/// axe-core on the page as it is: no serious or critical violation (the failure lists them).
async function checkAxe(page, what) {
  // Evaluated through the DevTools protocol: the console's CSP refuses an inline <script>.
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`), [],
    `${what}: accessibility violations`);
}

/// A screenshot to build/console-screenshots/<name>.png, and to docs/images/console-<name>.png
/// when TEZGAH_UPDATE_SCREENSHOTS=1.
async function screenshot(page, name) {
  fs.mkdirSync(shotsDir, { recursive: true });
  const file = path.join(shotsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  if (process.env.TEZGAH_UPDATE_SCREENSHOTS === '1') {
    fs.copyFileSync(file, path.join(root, 'docs', 'images', `console-${name}.png`));
  }
}

/// A customer's turn through the chat API (loopback: no key needed).
async function chat(server, tenant, userId, text) {
  const res = await fetch(`${server.url}/v1/tenants/${tenant}/chat`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ text, user_id: userId }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

/// An operator API call with a key; resolves {status, body}.
async function call(server, key, method, route, body) {
  const res = await fetch(`${server.url}${route}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

module.exports = {
  startConsoleServer, createKey, createAgent, launch, newPage, desktop, phone, signInWithKey,
  signInAgent, checkAxe, screenshot, chat, call, root,
};

// A handoff in the web widget, in Debian's Chromium (playwright-core), against a real `tezgah serve`:
// the visitor asks for a person and is told once that one will answer, the bot goes silent, an
// operator answers through the API and the reply shows live as a message from "operator", a reload
// keeps it in the history, and after the release the bot answers again.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');
const { startServer } = require('./lib/server');

const TENANT = 'lezzet-firini';
const binaryDir = process.env.TEZGAH_BINARY_DIR || path.join(__dirname, '..', '..', 'build');

let engine, browser, page, key, site;
const frames = [];
const part = (name) => page.locator(`[data-tezgah=${name}]`);
const from = (who) => page.locator(`[data-tezgah=message][data-from=${who}]`);

/// The operator API with the test's key.
function api(method, route, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? '' : JSON.stringify(body);
    const req = http.request(`${engine.url}/v1/tenants/${TENANT}${route}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: text ? JSON.parse(text) : null, text }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

test.before(async () => {
  site = await new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="tr"><head><title>Shop</title></head><body>
<script src="${engine.url}/widget.js" data-tenant="${TENANT}" async></script></body></html>`);
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${server.address().port}` }));
  });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tezgah-handoff-'));
  key = execFileSync(path.join(binaryDir, 'bin', 'tezgah-test-key'),
    [`sqlite:${path.join(work, 'tezgah.db')}`, TENANT, 'conversations:read,conversations:write']).toString().trim();
  engine = await startServer({
    work: undefined,
    edit(id, manifest) {
      if (id !== TENANT) return;
      manifest.channels.widget.allowed_origins = [site.origin];
      manifest.tools.push({ name: 'handoff', release_after_minutes: 60 });
    },
    prepare(tenants) {
      // The database with the key, beside the tenants the server reads.
      fs.copyFileSync(path.join(work, 'tezgah.db'), path.join(path.dirname(tenants), 'tezgah.db'));
    },
  });
  fs.rmSync(work, { recursive: true, force: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  page = await (await browser.newContext()).newPage();
  page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
    try { frames.push(JSON.parse(payload)); } catch (e) { /* not ours */ }
  }));
});

test.after(async () => {
  if (browser) await browser.close();
  if (engine) await engine.stop();
  if (site) site.server.close();
});

async function say(text) {
  const replies = frames.filter((f) => f.type === 'reply').length;
  await part('input').fill(text);
  await part('input').press('Enter');
  await page.waitForFunction(() => !window.__tezgahWidget.root.querySelector('[data-tezgah=typing]'));
  // Wait for this message's reply frame (a silent bot answers with an empty one).
  for (let i = 0; i < 300 && frames.filter((f) => f.type === 'reply').length <= replies; i++)
    await new Promise((r) => setTimeout(r, 50));
  return frames.filter((f) => f.type === 'reply').at(-1);
}

test('the visitor asks for a person, an operator answers live, the bot comes back after the release', async () => {
  await page.goto(site.origin + '/');
  await part('launcher').click();
  await page.waitForFunction(() => window.__tezgahWidget.root.querySelector('[data-tezgah=status]').textContent === 'Çevrimiçi');

  const asked = await say('bir yetkiliyle görüşmek istiyorum');
  assert.equal(asked.handoff, true, JSON.stringify(asked));
  assert.match(await from('bot').last().innerText(), /yetkili/i);
  const bots = await from('bot').count();

  const handed = await api('GET', '/conversations?status=handed_over&channel=widget');
  assert.equal(handed.status, 200, handed.text);
  assert.equal(handed.json.conversations.length, 1, handed.text);
  const conversation = handed.json.conversations[0].id;

  // Silent while a person has the conversation: no new bubble from the bot.
  const silent = await say('simit ne kadar?');
  assert.equal(silent.reply, '', JSON.stringify(silent));
  assert.equal(await from('bot').count(), bots);

  // The operator's reply shows live, from "operator".
  const posted = await api('POST', `/conversations/${conversation}/messages`, { text: 'Merhaba, ben Selin; simit 15 TL.' });
  assert.equal(posted.status, 202, posted.text);
  assert.equal(posted.json.delivery, 'widget');
  await from('operator').first().waitFor({ timeout: 10000 });
  assert.match(await from('operator').last().innerText(), /Merhaba, ben Selin; simit 15 TL\./);
  assert.equal(await from('bot').count(), bots);

  // A reload keeps it in the history, still from "operator".
  await page.reload();
  await part('panel').waitFor();
  await page.waitForFunction(() => window.__tezgahWidget.root.querySelectorAll('[data-tezgah=message][data-from=operator]').length > 0);
  assert.match(await from('operator').last().innerText(), /Selin/);
  await page.waitForFunction(() => window.__tezgahWidget.root.querySelector('[data-tezgah=status]').textContent === 'Çevrimiçi');

  // Released: the bot answers again.
  const released = await api('POST', `/conversations/${conversation}/release`);
  assert.equal(released.status, 200, released.text);
  assert.equal(released.json.status, 'bot');
  const answer = await say('simit ne kadar?');
  assert.equal(answer.handoff, false, JSON.stringify(answer));
  assert.match(answer.reply, /TL/);
  assert.match(await from('bot').last().innerText(), /TL/);
});

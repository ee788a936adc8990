// The web widget in Debian's Chromium (playwright-core), against a real `tezgah serve` started
// here on a free loopback port. The widget is put on pages served from other loopback origins by
// one script tag, as a shop would: a question is answered as it streams, options are clicked,
// the history survives a reload, a page from an origin not allowed is refused, and a dropped
// connection (the server restarted) is resumed. Screenshots in light and dark go to
// build/widget-screenshots/ (and to docs/images/ with TEZGAH_UPDATE_SCREENSHOTS=1).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');
const { startServer, root } = require('./lib/server');

const TENANT = 'lezzet-firini';
const shot = (name) => path.join(process.env.TEZGAH_BINARY_DIR || path.join(root, 'build'), 'widget-screenshots', name);

/// A shop's own site: serves a page with the widget's tag pointing at `engine()`.
function shopSite(engine) {
  const server = http.createServer((req, res) => {
    const lang = req.url.startsWith('/en') ? 'en' : 'tr';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="${lang}"><head><title>Shop</title></head><body>
<h1>${lang === 'en' ? 'A shop' : 'Bir dükkân'}</h1>
<script src="${engine()}/widget.js" data-tenant="${TENANT}" async></script></body></html>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, origin: `http://127.0.0.1:${server.address().port}` });
  }));
}

let engine;
let allowed;
let foreign;
let browser;
let context;
let page;
const frames = [];  // frames the page received: {type, ...}

const part = (name) => page.locator(`[data-tezgah=${name}]`);
const bot = () => page.locator('[data-tezgah=message][data-from=bot]');
const customer = () => page.locator('[data-tezgah=message][data-from=customer]');

test.before(async () => {
  allowed = await shopSite(() => engine.url);
  foreign = await shopSite(() => engine.url);
  engine = await startServer({
    edit(id, manifest) {
      if (manifest.channels.widget) manifest.channels.widget.allowed_origins = [allowed.origin];
    },
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  page = await context.newPage();
  page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
    try { frames.push(JSON.parse(payload)); } catch (e) { /* not ours */ }
  }));
});

test.after(async () => {
  if (browser) await browser.close();
  if (engine) await engine.stop();
  for (const site of [allowed, foreign]) if (site) site.server.close();
});

async function ask(text) {
  const before = await bot().count();
  await part('input').fill(text);
  await part('input').press('Enter');
  await page.waitForFunction((n) => {
    const r = window.__tezgahWidget.root;
    return r.querySelectorAll('[data-tezgah=message][data-from=bot]').length > n &&
      !r.querySelector('[data-tezgah=typing]');
  }, before, { timeout: 15000 });
  return bot().last().innerText();
}

test('a question typed on an allowed page is answered as it streams', async () => {
  await page.goto(allowed.origin + '/');
  await part('launcher').waitFor();
  assert.equal(await part('launcher').getAttribute('aria-label'), 'Sohbeti aç');  // lang="tr"
  await part('launcher').click();
  assert.equal(await part('launcher').getAttribute('aria-expanded'), 'true');
  await page.waitForFunction(() => window.__tezgahWidget.root.querySelector('[data-tezgah=status]').textContent === 'Çevrimiçi');
  // The tenant's title and greeting; focus in the input, ready to type.
  assert.equal(await page.locator('#tz-title').innerText(), 'Lezzet Fırını');
  assert.match(await bot().first().innerText(), /Simit, poğaça/);
  assert.equal(await page.evaluate(() => window.__tezgahWidget.root.activeElement?.getAttribute('data-tezgah')), 'input');
  assert.equal(await page.locator('[role=log]').getAttribute('aria-live'), 'polite');

  const answer = await ask('simit ne kadar?');
  assert.match(answer, /Simit/);
  assert.match(answer, /TL/);
  assert.match(await customer().last().innerText(), /simit ne kadar\?/);
  const types = frames.map((f) => f.type);
  assert.ok(types.lastIndexOf('delta') >= 0 && types.lastIndexOf('delta') < types.lastIndexOf('reply'),
    'streamed deltas before the reply: ' + types.join(','));

  // The keyboard closes it and gives the focus back to the launcher.
  await part('input').press('Escape');
  assert.equal(await part('panel').isVisible(), false);
  assert.equal(await page.evaluate(() => window.__tezgahWidget.root.activeElement?.getAttribute('data-tezgah')), 'launcher');
  await part('launcher').press('Enter');
  assert.equal(await part('panel').isVisible(), true);
});

test('options in a reply are buttons; clicking one sends its title', async () => {
  const start = frames.length;
  await ask('neler satıyorsunuz?');
  const reply = frames.slice(start).find((f) => f.type === 'reply');
  assert.ok(reply && Array.isArray(reply.options) && reply.options.length > 1,
    'a list of offerings comes with options: ' + JSON.stringify(reply && reply.options));
  assert.equal(await part('option').count(), reply.options.length);
  const first = part('option').first();
  const title = await first.innerText();
  // Counted before the click: the offline assistant may answer before a count taken after it.
  const before = await bot().count();
  await first.click();
  await page.waitForFunction((n) => window.__tezgahWidget.root.querySelectorAll('[data-tezgah=message][data-from=bot]').length > n,
    before, { timeout: 15000 });
  assert.match(await customer().last().innerText(), new RegExp(title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
});

test('widget.js alone: the options and cards of a reply are drawn, and a click sends the option\'s title', async () => {
  // This step answers the page's socket itself (playwright's routeWebSocket): it checks what the
  // script draws and sends for options and cards, whatever the engine's replies hold.
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  const sent = [];
  await p.routeWebSocket(/\/channels\/widget\/ws$/, (ws) => {
    ws.onMessage((text) => {
      const f = JSON.parse(text);
      sent.push(f);
      if (f.type === 'hello') ws.send(JSON.stringify({ type: 'welcome', visitor_token: 't', history: [], title: 'Test' }));
      if (f.type === 'message') {
        ws.send(JSON.stringify({ type: 'reply', from: 'bot', id: f.id, reply: 'Hangisi?',
          options: [{ id: 'o1', title: 'Simit' }, { id: 'o2', title: 'Poğaça', description: 'sıcak' }],
          cards: [{ id: 'c1', title: 'Simit', subtitle: 'susamlı', price: 15, currency: 'TRY' }] }));
      }
    });
  });
  await p.goto(`${engine.url}/v1/tenants/${TENANT}/channels/widget`);
  await p.locator('[data-tezgah=launcher]').click();
  await p.locator('[data-tezgah=input]').fill('ne var?');
  await p.locator('[data-tezgah=input]').press('Enter');
  const options = p.locator('[data-tezgah=option]');
  await options.first().waitFor();
  assert.deepEqual(await options.allInnerTexts(), ['Simit', 'Poğaça']);
  assert.equal(await options.nth(1).getAttribute('title'), 'sıcak');
  assert.match(await p.locator('.card').innerText(), /Simit[\s\S]*susamlı[\s\S]*15/);
  await options.nth(1).click();
  await p.waitForFunction(() => window.__tezgahWidget.root.querySelectorAll('[data-tezgah=message][data-from=customer]').length === 2);
  assert.deepEqual(sent.filter((f) => f.type === 'message').map((f) => f.text), ['ne var?', 'Poğaça']);
  await ctx.close();
});

test('a reload keeps the conversation (the visitor token is in localStorage)', async () => {
  const token = await page.evaluate((k) => localStorage.getItem(k), `tezgah:${TENANT}:visitor`);
  assert.match(token, /^v1\.lezzet-firini\./);
  const said = await customer().allInnerTexts();
  await page.reload();
  await part('panel').waitFor();  // it was open: it opens again
  await page.waitForFunction(() => window.__tezgahWidget.root.querySelectorAll('[data-tezgah=message][data-from=customer]').length > 0);
  assert.deepEqual(await customer().allInnerTexts(), said);
  assert.match(await bot().first().innerText(), /Simit/);  // the first answer, not the greeting
  assert.equal(await page.evaluate((k) => localStorage.getItem(k), `tezgah:${TENANT}:visitor`), token);
});

test('a dropped connection is resumed: the server restarts, the widget reconnects and answers', async () => {
  const said = await customer().count();
  engine = await engine.restart();
  // The widget notices, backs off, and comes back with its token.
  await page.waitForFunction(() => window.__tezgahWidget.root.querySelector('[data-tezgah=status]').textContent === 'Çevrimiçi',
    null, { timeout: 20000 });
  assert.equal(await customer().count(), said);
  const answer = await ask('poğaça var mı?');
  assert.match(answer, /[Pp]oğaça/);
});

test('a message sent while the connection is down is delivered once it is back', async () => {
  await engine.stop({ keep: true });
  await page.waitForFunction(() => window.__tezgahWidget.root.querySelector('[data-tezgah=status]').textContent !== 'Çevrimiçi');
  const before = await bot().count();
  await part('input').fill('simit ne kadar?');
  await part('input').press('Enter');
  engine = await startServer({ work: engine.work, port: engine.port });
  await page.waitForFunction((n) => window.__tezgahWidget.root.querySelectorAll('[data-tezgah=message][data-from=bot]').length > n,
    before, { timeout: 30000 });
  assert.match(await bot().last().innerText(), /Simit/);
});

test('a page from an origin not allowed gets no conversation', async () => {
  const other = await context.newPage();
  const refused = [];
  other.on('websocket', (ws) => {
    ws.on('framereceived', ({ payload }) => refused.push(payload));
  });
  await other.goto(foreign.origin + '/en');
  const launcher = other.locator('[data-tezgah=launcher]');
  await launcher.waitFor();
  assert.equal(await launcher.getAttribute('aria-label'), 'Open chat');  // lang="en"
  await launcher.click();
  await other.waitForTimeout(1500);  // a refused handshake, then backoff
  assert.deepEqual(refused, []);
  assert.match(await other.locator('[data-tezgah=status]').innerText(), /reconnecting|Connecting/i);
  assert.equal(await other.locator('[data-tezgah=input]').getAttribute('placeholder'), 'Type a message…');
  // The same request as the browser's, to see the server's answer: 403.
  const { connect } = require('./lib/ws_client');
  const answer = await connect({ port: engine.port, path: `/v1/tenants/${TENANT}/channels/widget/ws`, origin: foreign.origin });
  assert.equal(answer.status, 403);
  await other.close();
});

for (const scheme of ['light', 'dark']) {
  test(`the widget in ${scheme} mode (screenshot)`, async () => {
    const ctx = await browser.newContext({ viewport: { width: 440, height: 680 }, colorScheme: scheme, deviceScaleFactor: 1 });
    const p = await ctx.newPage();
    await p.goto(`${engine.url}/v1/tenants/${TENANT}/channels/widget`);
    await p.locator('[data-tezgah=launcher]').click();
    await p.waitForFunction(() => window.__tezgahWidget.root.querySelector('[data-tezgah=status]').textContent === 'Çevrimiçi');
    await p.locator('[data-tezgah=input]').fill('simit ne kadar?');
    await p.locator('[data-tezgah=input]').press('Enter');
    await p.waitForFunction(() => window.__tezgahWidget.root.querySelectorAll('[data-tezgah=message][data-from=bot]').length > 1 &&
      !window.__tezgahWidget.root.querySelector('[data-tezgah=typing]'));
    const background = await p.evaluate(() => getComputedStyle(window.__tezgahWidget.root.querySelector('[data-tezgah=panel]')).backgroundColor);
    assert.equal(background, scheme === 'dark' ? 'rgb(17, 24, 39)' : 'rgb(255, 255, 255)');
    fs.mkdirSync(path.dirname(shot('x')), { recursive: true });
    await p.screenshot({ path: shot(`widget-${scheme}.png`) });
    if (process.env.TEZGAH_UPDATE_SCREENSHOTS === '1')
      fs.copyFileSync(shot(`widget-${scheme}.png`), path.join(root, 'docs', 'images', `widget-${scheme}.png`));
    await ctx.close();
  });
}

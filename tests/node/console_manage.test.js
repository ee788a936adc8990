// The console's management pages in Debian's Chromium against a real `tezgah serve` with the
// reference tenants: a price edited in the Catalog is the price the assistant quotes next, a
// refused price is explained at its field and changes nothing, a knowledge entry added is
// answered next, a key without catalog:write sees no Edit button (and the server refuses it);
// the Calendar books, refuses a taken time with the server's alternatives, moves and cancels;
// the Analytics charts carry the numbers GET /analytics gives; Staff creates an account that
// signs in. Every page is checked with axe-core and photographed at desktop and phone size.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const {
  startConsoleServer, createKey, createAgent, launch, newPage, phone, signInWithKey, signInAgent, checkAxe,
  screenshot, chat, call,
} = require('./lib/console');

const GECE = 'gece-butik';
const NEFES = 'nefes-studyo';
let server;
let browser;
const keys = {};

// axe-core evaluated through the DevTools protocol, which the page's CSP does not govern (a
// script tag added to the page would be refused by script-src 'self').
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
async function axe(page, what) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  await checkAxe(page, what);
}

async function open(key, hash, options) {
  const page = await newPage(browser, options);
  await signInWithKey(page, server, key);
  await page.goto(`${server.url}/console/${hash}`);
  await page.locator('main h1').waitFor();
  return page;
}

/// The page at phone size: photographed, checked, no horizontal scrolling.
async function phoneShot(key, hash, name, ready, more) {
  const page = await open(key, hash, { viewport: phone });
  await ready(page);
  await axe(page, `${name} (phone)`);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${name}: no horizontal scrolling at 360 px`);
  await screenshot(page, `${name}-phone`);
  if (more) await more(page);
  assert.deepEqual(page.errors, []);
  await page.context().close();
}

test.before(async () => {
  server = await startConsoleServer();
  keys.gece = createKey(server, { tenant: GECE, scopes: ['catalog:write', 'knowledge:write', 'analytics:read'] });
  keys.geceRead = createKey(server, { tenant: GECE, scopes: ['conversations:read', 'appointments:read'] });
  keys.nefes = createKey(server, { tenant: NEFES, scopes: ['appointments:read', 'appointments:write'] });
  keys.owner = createKey(server, { tenant: NEFES, scopes: ['tenant:admin', 'conversations:read'] });
  browser = await launch();
});

test.after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('catalog: a price edited is quoted in the next turn; a negative one is refused at its field', async () => {
  const page = await open(keys.gece, '#/catalog');
  await page.getByRole('searchbox', { name: 'Search products and services' }).fill('saten gecelik siyah');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const row = page.locator('tr[data-id="saten-gecelik-siyah"]');
  await row.waitFor();
  await axe(page, 'catalog');
  await screenshot(page, 'catalog');

  await page.getByRole('button', { name: 'Edit Saten Gecelik Siyah' }).click();
  const dialog = page.getByRole('dialog', { name: 'Saten Gecelik Siyah' });
  await dialog.getByLabel('Price').fill('349.5');
  await axe(page, 'catalog edit dialog');
  await screenshot(page, 'catalog-edit');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  await assert.doesNotReject(row.getByText('349.50').waitFor());
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Edit Saten Gecelik Siyah', 'focus back on the Edit button');
  assert.match((await chat(server, GECE, 'catalog-1', 'saten gecelik siyah ne kadar')).reply, /349,50 TL/);

  await page.getByRole('button', { name: 'Edit Saten Gecelik Siyah' }).click();
  await dialog.getByLabel('Price').fill('-5');
  await dialog.getByRole('button', { name: 'Save' }).click();
  const price = dialog.getByLabel('Price');
  await page.waitForFunction(() => document.querySelector('dialog input[name=price]').getAttribute('aria-invalid') === 'true');
  const describedBy = await price.getAttribute('aria-describedby');
  assert.equal(await page.locator(`[id="${describedBy.split(' ')[0]}"]`).innerText(), 'price: must not be negative');
  await axe(page, 'catalog edit refused');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await assert.doesNotReject(row.getByText('349.50').waitFor());
  const stored = await call(server, keys.gece, 'GET', `/v1/tenants/${GECE}/offerings?q=saten-gecelik-siyah`);
  assert.equal(stored.body.offerings.find((o) => o.id === 'saten-gecelik-siyah').price, 349.5);
  assert.match((await chat(server, GECE, 'catalog-2', 'saten gecelik siyah ne kadar')).reply, /349,50 TL/);
  assert.deepEqual(page.errors, []);
  await page.context().close();

  await phoneShot(keys.gece, '#/catalog', 'catalog', (p) => p.locator('tr[data-id]').first().waitFor(), async (p) => {
    await p.getByRole('button', { name: /^Edit / }).first().click();
    await p.getByRole('dialog').getByLabel('Price').waitFor();
    await axe(p, 'catalog edit (phone)');
    await screenshot(p, 'catalog-edit-phone');
  });
});

test('catalog: without catalog:write there is no Edit button, and the server refuses the edit', async () => {
  const page = await open(keys.geceRead, '#/catalog');
  await page.locator('tr[data-id]').first().waitFor();
  assert.ok(await page.locator('tr[data-id]').count() > 0);
  assert.equal(await page.getByRole('button', { name: /^Edit / }).count(), 0);
  const refused = await call(server, keys.geceRead, 'PATCH', `/v1/tenants/${GECE}/offerings/saten-gecelik-siyah`, { price: 1 });
  assert.equal(refused.status, 403);
  // Nor does it add or edit knowledge without knowledge:write.
  await page.goto(`${server.url}/console/#/knowledge`);
  await page.locator('.kb-list > li').first().waitFor();
  assert.equal(await page.getByRole('button', { name: /^(Add a question|Edit |Delete )/ }).count(), 0);
  // Its tenant has no appointments tool: the calendar says so.
  await page.goto(`${server.url}/console/#/calendar`);
  await assert.doesNotReject(page.getByText('This business does not use the appointments tool').waitFor());
  await axe(page, 'calendar without the tool');
  await page.context().close();
});

test('catalog: an owner signed in with an account edits it (the session cookie and its CSRF token)', async () => {
  createAgent(server, { tenant: GECE, email: 'sahip@gece.example', name: 'Gece Sahibi', role: 'owner', password: 'gece-butik-sahip' });
  const page = await newPage(browser);
  await signInAgent(page, server, { tenant: GECE, email: 'sahip@gece.example', password: 'gece-butik-sahip' });
  await page.goto(`${server.url}/console/#/catalog?q=ipek`);
  await page.getByRole('button', { name: 'Edit İpek Gecelik' }).click();
  const dialog = page.getByRole('dialog', { name: 'İpek Gecelik' });
  await dialog.getByLabel('Stock').fill('3');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  const stored = await call(server, keys.gece, 'GET', `/v1/tenants/${GECE}/offerings?q=ipek`);
  assert.equal(stored.body.offerings.find((o) => o.name === 'İpek Gecelik').stock, 3);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('knowledge: an entry added is answered in the next turn; an info text is edited; an entry is deleted', async () => {
  const page = await open(keys.gece, '#/knowledge');
  await page.locator('.kb-list > li').first().waitFor();
  await page.getByRole('button', { name: 'Add a question' }).click();
  const dialog = page.getByRole('dialog', { name: 'New question and answer' });
  await dialog.getByLabel('Question').fill('Otopark var mı?');
  await dialog.getByLabel('Answer').fill('Mağazanın önünde müşterilere ücretsiz otopark var.');
  await dialog.getByLabel('Keywords').fill('otopark, park yeri');
  await axe(page, 'knowledge dialog');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  await assert.doesNotReject(page.getByRole('heading', { name: 'Otopark var mı?' }).waitFor());
  assert.match((await chat(server, GECE, 'kb-1', 'otopark var mı')).reply, /müşterilere ücretsiz otopark/);

  // An entry without an answer: the server's message under the answer, nothing written.
  await page.getByRole('button', { name: 'Edit Otopark var mı?' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit Otopark var mı?' });
  await edit.getByLabel('Answer').fill('');
  await edit.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => document.querySelector('dialog textarea[name=answer]').getAttribute('aria-invalid') === 'true');
  await edit.getByRole('button', { name: 'Cancel' }).click();
  await axe(page, 'knowledge');
  await screenshot(page, 'knowledge');

  await page.getByRole('button', { name: 'Edit the text of kargo' }).click();
  const info = page.getByRole('dialog', { name: 'Edit the text of kargo' });
  await info.getByLabel('Text').fill('Kargo her siparişte ücretsiz.');
  await info.getByRole('button', { name: 'Save' }).click();
  await info.waitFor({ state: 'detached' });
  await assert.doesNotReject(page.getByText('Kargo her siparişte ücretsiz.').waitFor());
  assert.equal((await call(server, keys.gece, 'GET', `/v1/tenants/${GECE}/info`)).body.info.kargo, 'Kargo her siparişte ücretsiz.');

  await page.getByRole('button', { name: 'Delete Otopark var mı?' }).click();
  await page.getByRole('dialog', { name: 'Delete “Otopark var mı?”?' }).getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: 'Otopark var mı?' }).waitFor({ state: 'detached' });
  assert.equal((await call(server, keys.gece, 'GET', `/v1/tenants/${GECE}/knowledge?q=otopark`)).body.entries.length, 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();

  await phoneShot(keys.gece, '#/knowledge', 'knowledge', (p) => p.locator('.kb-list > li').first().waitFor());
});

test('calendar: a booking shows, its slot is refused to another customer, it moves and is cancelled', async () => {
  const page = await open(keys.nefes, '#/calendar');
  await page.getByLabel('Person or room').selectOption({ label: 'Ayşe Demir' });
  await page.getByLabel('Free times of').selectOption('reformer-pilates');
  await page.getByRole('button', { name: 'Next week' }).click();
  const free = (time) => page.getByRole('button', { name: `${time} free: book` }).first();
  await free('10:00').waitFor();
  await axe(page, 'calendar');

  await free('10:00').click();
  const dialog = page.getByRole('dialog', { name: /^Book / });
  await dialog.getByLabel('Customer name').fill('Deniz Yılmaz');
  await dialog.getByLabel('Phone').fill('+905321112233');
  await axe(page, 'calendar booking dialog');
  await dialog.getByRole('button', { name: 'Book', exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
  const booked = page.getByRole('button', { name: '10:00–10:50 Reformer Pilates (Birebir), Deniz Yılmaz' });
  await booked.waitFor();

  const week = await page.evaluate(() => [...document.querySelectorAll('.cal-day h3')].map((x) => x.id.slice(4)));
  const list = await call(server, keys.nefes, 'GET', `/v1/tenants/${NEFES}/appointments?from=${week[0]}&to=${week[6]}&resource=ayse`);
  const mine = list.body.appointments.find((a) => a.customer_name === 'Deniz Yılmaz');
  assert.equal(mine.start.slice(11, 16), '10:00');
  const date = mine.start.slice(0, 10);
  const second = await call(server, keys.nefes, 'POST', `/v1/tenants/${NEFES}/appointments`,
    { service: 'reformer-pilates', date, time: '10:00', customer_name: 'Ece Kaya', customer_phone: '+905551234567' });
  assert.equal(second.status, 409);
  assert.equal(second.body.error.code, 'slot_taken');

  // A time taken while the page showed it free: refused, with the server's alternatives to pick.
  await free('12:00').click();
  await call(server, keys.nefes, 'POST', `/v1/tenants/${NEFES}/appointments`,
    { service: 'reformer-pilates', date: week[0], time: '12:00', customer_name: 'Ece Kaya', customer_phone: '+905551234567' });
  await dialog.getByLabel('Customer name').fill('Can Demir');
  await dialog.getByLabel('Phone').fill('+905559876543');
  await dialog.getByRole('button', { name: 'Book', exact: true }).click();
  const alternative = dialog.getByRole('button', { name: /^Choose / }).first();
  await alternative.waitFor();
  assert.ok(await dialog.getByRole('button', { name: /^Choose / }).count() >= 1);
  await alternative.click();
  await dialog.getByRole('button', { name: 'Book', exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: /Reformer Pilates \(Birebir\), Can Demir$/ }).waitFor();

  await booked.click();
  await page.getByRole('dialog', { name: 'Reformer Pilates (Birebir), Deniz Yılmaz' }).getByRole('button', { name: 'Move' }).click();
  const move = page.getByRole('dialog', { name: 'Move the appointment' });
  await move.getByLabel('Time').fill('15:00');
  await move.getByRole('button', { name: 'Move' }).click();
  await move.waitFor({ state: 'detached' });
  const moved = page.getByRole('button', { name: '15:00–15:50 Reformer Pilates (Birebir), Deniz Yılmaz' });
  await moved.waitFor();
  await axe(page, 'calendar with bookings');
  await screenshot(page, 'calendar');
  assert.equal((await call(server, keys.nefes, 'GET', `/v1/tenants/${NEFES}/appointments/${mine.id}`)).body.appointment.start.slice(11, 16), '15:00');

  await moved.click();
  await page.getByRole('dialog', { name: 'Reformer Pilates (Birebir), Deniz Yılmaz' }).getByRole('button', { name: 'Cancel the appointment' }).click();
  await page.getByRole('dialog', { name: /^Cancel Reformer Pilates/ }).getByRole('button', { name: 'Cancel the appointment' }).click();
  await moved.waitFor({ state: 'detached' });
  assert.equal((await call(server, keys.nefes, 'GET', `/v1/tenants/${NEFES}/appointments/${mine.id}`)).body.appointment.status, 'cancelled');
  assert.deepEqual(page.errors, []);
  await page.context().close();

  await phoneShot(keys.nefes, `#/calendar?week=${week[0]}&resource=ayse`, 'calendar', (p) => p.locator('.cal-booking').first().waitFor());
});

test('analytics: the charts carry the numbers GET /analytics gives', async () => {
  for (const [i, text] of ['merhaba', 'saten gecelik var mı', 'kargo ücreti ne kadar', 'qwzx blorp', 'bir şikayetim var, yetkiliyle görüşmek istiyorum'].entries()) {
    await chat(server, GECE, `analytics-${i}`, text);
  }
  const page = await open(keys.gece, '#/analytics');
  await page.getByRole('button', { name: 'Last 30 days' }).click();
  await page.waitForFunction(() => document.querySelectorAll('figure[data-chart=by_day] rect').length === 30);
  const from = await page.getByLabel('From', { exact: true }).inputValue();
  const to = await page.getByLabel('To', { exact: true }).inputValue();
  const { body: a } = await call(server, keys.gece, 'GET', `/v1/tenants/${GECE}/analytics?from=${from}&to=${to}`);
  const bars = (chart) => page.locator(`figure[data-chart=${chart}] rect`).evaluateAll((rs) => rs.map((r) => Number(r.dataset.value)));
  const cells = (chart) => page.locator(`figure[data-chart=${chart}] td`).evaluateAll((ds) => ds.map((d) => Number(d.dataset.value)));
  assert.deepEqual(await bars('by_day'), a.by_day.map((d) => d.conversations));
  assert.deepEqual(await cells('by_day'), a.by_day.map((d) => d.conversations));
  assert.deepEqual(await bars('methods'), Object.values(a.replies_by_method));
  assert.deepEqual(await bars('reasons'), a.handoff.reasons.map((r) => r.count));
  assert.deepEqual(await bars('cost'), a.cost.map((c) => c.cost_usd));
  if (a.by_hour) assert.deepEqual(await bars('by_hour'), a.by_hour.map((x) => x.messages));
  assert.ok(a.conversations >= 5);
  assert.ok(a.handoff.reasons.length >= 1, JSON.stringify(a.handoff));
  assert.equal(await page.locator('[data-figure=conversations] dd').innerText(), String(a.conversations));
  const label = await page.locator('figure[data-chart=methods] svg').getAttribute('aria-label');
  assert.match(label, new RegExp(`intent ${a.replies_by_method.intent}`));
  await axe(page, 'analytics');
  await screenshot(page, 'analytics');
  assert.deepEqual(page.errors, []);
  await page.context().close();

  await phoneShot(keys.gece, '#/analytics', 'analytics', (p) => p.locator('figure[data-chart=by_day] svg').waitFor());
});

test('staff: an owner creates an account, a taken e-mail is refused at its field, the agent signs in', async () => {
  const page = await open(keys.owner, '#/staff');
  const form = page.getByRole('form', { name: 'New account' });
  const add = async (name, email) => {
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('E-mail').fill(email);
    await form.getByLabel('Password').fill('nefes-parola-2026');
    await form.getByLabel('Role').selectOption('agent');
    await form.getByRole('button', { name: 'Create the account' }).click();
  };
  await add('Selin Aydın', 'selin@nefes.example');
  await page.getByRole('cell', { name: 'selin@nefes.example' }).waitFor();
  await add('Selin Başka', 'SELIN@nefes.example');
  const email = form.getByLabel('E-mail');
  await page.waitForFunction(() => document.querySelector('form input[name=email]').getAttribute('aria-invalid') === 'true');
  const describedBy = (await email.getAttribute('aria-describedby')).split(' ')[0];
  assert.match(await page.locator(`[id="${describedBy}"]`).innerText(), /^email: /);
  assert.equal(await page.getByRole('cell', { name: 'selin@nefes.example' }).count(), 1);
  await axe(page, 'staff');
  await screenshot(page, 'staff');
  assert.deepEqual(page.errors, []);
  await page.context().close();

  const agent = await newPage(browser);
  await signInAgent(agent, server, { tenant: NEFES, email: 'selin@nefes.example', password: 'nefes-parola-2026' });
  await assert.doesNotReject(agent.getByRole('link', { name: 'Calendar' }).waitFor());
  assert.equal(await agent.getByRole('link', { name: 'Staff' }).count(), 0);
  await agent.context().close();
  await phoneShot(keys.owner, '#/staff', 'staff', (p) => p.getByRole('cell', { name: 'selin@nefes.example' }).waitFor());

  // Disabled, the account no longer signs in; removed (after confirming), it is gone.
  const owner = await open(keys.owner, '#/staff');
  await owner.getByRole('button', { name: 'Disable Selin Aydın' }).click();
  await owner.getByRole('button', { name: 'Enable Selin Aydın' }).waitFor();
  const refused = await call(server, keys.owner, 'GET', `/v1/tenants/${NEFES}/agents`);
  assert.equal(refused.body.agents.find((a) => a.email === 'selin@nefes.example').disabled, true);
  const signIn = await fetch(`${server.url}/v1/tenants/${NEFES}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'selin@nefes.example', password: 'nefes-parola-2026' }) });
  assert.equal(signIn.status, 401);
  await owner.getByRole('button', { name: 'Remove Selin Aydın' }).click();
  await owner.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await owner.getByText('No accounts yet.').waitFor();
  assert.deepEqual((await call(server, keys.owner, 'GET', `/v1/tenants/${NEFES}/agents`)).body.agents, []);
  assert.deepEqual(owner.errors, []);
  await owner.context().close();

});

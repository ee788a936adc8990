// The console's Inbox, Conversation and Conversations pages in Chromium, against a real
// `tezgah serve` with the reference tenants: a customer asks for a person through the chat API and
// the open inbox shows it live (reason, priority, the title's count, the chime); the operator
// answers from the console and the customer's next chat-API turn carries the reply; the customer's
// next message appears live; notes stay private; assignment, canned replies, release; search and
// filters; an agent's account; a read-only key; Turkish; accessibility and screenshots.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const {
  startConsoleServer, createKey, createAgent, launch, newPage, phone, signInWithKey, signInAgent,
  checkAxe, screenshot, chat, call,
} = require('./lib/console');

const TENANT = 'gece-butik';
const HANDOFF = 'bir yetkiliyle görüşmek istiyorum';
const AGENT = { tenant: TENANT, email: 'selin@gece-butik.example', name: 'Selin Kaya', password: 'dogru-parola-123' };
const api = (rest = '') => `/v1/tenants/${TENANT}${rest}`;

let server;
let browser;
let key;       // conversations:read, conversations:write, tenant:admin
let readKey;   // conversations:read only
let page;      // the key's page, kept signed in through the tests
let ayse;      // the conversation handed over live

const noSideScroll = (p) => p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

async function conversationOf(user) {
  const { body } = await call(server, key, 'GET', api(`/conversations?user_id=${user}`));
  return body.conversations[0];
}

/// Phone screenshots of the page at `hash`, signed in with the key, with no sideways scroll.
async function phoneShot(hash, name, ready) {
  const small = await newPage(browser, { viewport: phone });
  await small.addInitScript((k) => sessionStorage.setItem('tezgah.key', k), key);
  await small.goto(`${server.url}/console/${hash}`);
  await small.locator(ready).first().waitFor();
  assert.ok(await noSideScroll(small), `${name}: the page scrolls sideways at 360 px`);
  await checkAxe(small, `${name} (phone)`);
  await screenshot(small, `${name}-phone`);
  assert.deepEqual(small.errors, []);
  await small.context().close();
}

test.before(async () => {
  server = await startConsoleServer();
  key = createKey(server, { tenant: TENANT, scopes: ['conversations:read', 'conversations:write', 'tenant:admin'] });
  readKey = createKey(server, { tenant: TENANT, scopes: ['conversations:read'], name: 'read only' });
  createAgent(server, AGENT);
  // Two conversations before the console opens: one with a word to search for, one handed over.
  await chat(server, TENANT, 'mehmet', 'lacivert pijama takımı var mı?');
  await chat(server, TENANT, 'zeynep', 'merhaba');
  assert.equal((await chat(server, TENANT, 'zeynep', HANDOFF)).handoff, true);
  browser = await launch();
});

test.after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('the sign-in page is accessible, on a desktop and a phone', async () => {
  for (const [viewport, name] of [[undefined, 'signin'], [phone, 'signin-phone']]) {
    const p = await newPage(browser, viewport ? { viewport } : {});
    await p.goto(`${server.url}/console/`);
    await p.getByRole('heading', { level: 1 }).waitFor();
    await checkAxe(p, name);
    await screenshot(p, name);
    await p.context().close();
  }
});

test('a customer asking for a person appears live in the open inbox', async () => {
  page = await newPage(browser);
  await signInWithKey(page, server, key);
  await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
  await page.locator('[data-live=open]').waitFor();
  await page.getByRole('link', { name: 'zeynep' }).waitFor();
  assert.equal(await page.locator('.inbox-item').count(), 1);
  assert.match(await page.title(), /^\(1\) Inbox/);

  await chat(server, TENANT, 'ayse', 'merhaba');
  const handed = await chat(server, TENANT, 'ayse', HANDOFF);
  assert.equal(handed.handoff, true);
  ayse = handed.conversation_id;
  const row = page.locator('.inbox-item', { has: page.getByRole('link', { name: 'ayse' }) });
  await row.waitFor({ timeout: 10000 });
  // At the top, with the ticket's reason and priority as the API gives them.
  assert.equal(await page.locator('.inbox-item').first().getAttribute('data-id'), ayse);
  const item = (await call(server, key, 'GET', api('/conversations?status=handed_over'))).body.conversations.find((c) => c.id === ayse);
  const text = await row.innerText();
  assert.ok(item.ticket && item.ticket.reason, JSON.stringify(item));
  assert.equal(item.ticket.reason, 'human');
  assert.ok(text.includes('Reason: Asked for a person'), text);
  assert.ok(text.includes({ low: 'Low priority', medium: 'Medium priority', high: 'High priority', urgent: 'Urgent' }[item.ticket.priority]), text);
  assert.ok(text.includes(item.last_message.text), text);
  await page.waitForFunction(() => document.title.startsWith('(2) '));
  assert.ok(Number(await page.evaluate(() => document.documentElement.dataset.chimes)) >= 1, 'the chime played');
  await checkAxe(page, 'inbox');
  await screenshot(page, 'inbox');
  await phoneShot('#/inbox', 'inbox', '.inbox-item');
});

test('an operator answers from the console and the customer reads it on the next turn', async () => {
  await page.getByRole('link', { name: 'ayse' }).click();
  await page.getByRole('heading', { name: 'ayse', level: 1 }).waitFor();
  const log = page.getByRole('log');
  assert.match(await log.innerText(), new RegExp(HANDOFF));
  const reply = page.getByRole('textbox', { name: 'Reply to the customer' });
  await reply.fill('Merhaba Ayşe Hanım, ben Selin. Siparişinize bakıyorum.');
  await reply.press('Control+Enter');
  await log.getByText('ben Selin. Siparişinize bakıyorum.').waitFor();
  assert.equal(await reply.inputValue(), '');

  const next = await chat(server, TENANT, 'ayse', 'tamam, bekliyorum');
  assert.equal(next.method, 'operator');
  assert.match(next.reply, /ben Selin\. Siparişinize bakıyorum\./);
  // The customer's message appears in the open conversation without a reload.
  await log.getByText('tamam, bekliyorum').waitFor({ timeout: 10000 });
  assert.equal(await log.locator('li', { hasText: 'tamam, bekliyorum' }).locator('strong').first().innerText(), 'Customer');
});

test('a private note is kept and never reaches the customer', async () => {
  const note = 'Müşteri kargo takip numarası istiyor (özel).';
  await page.getByRole('textbox', { name: 'New note' }).fill(note);
  await page.getByRole('button', { name: 'Add note' }).click();
  const notes = page.locator('.notes');
  await notes.getByText(note).waitFor();
  assert.match(await page.locator('.notes-card').innerText(), /the customer never does/);
  const { body } = await call(server, key, 'GET', api(`/conversations/${ayse}/notes`));
  assert.deepEqual(body.notes.map((n) => n.text), [note]);
  const turn = await chat(server, TENANT, 'ayse', 'kargo ne zaman gelir?');
  assert.ok(!turn.reply.includes('kargo takip numarası istiyor'), turn.reply);
  const convo = (await call(server, key, 'GET', api(`/conversations/${ayse}`))).body;
  assert.ok(!convo.messages.some((m) => m.text.includes('özel')), 'a note is not a message');
  // A second note, deleted again by its author.
  await page.getByRole('textbox', { name: 'New note' }).fill('silinecek not');
  await page.getByRole('button', { name: 'Add note' }).click();
  await notes.getByText('silinecek not').waitFor();
  await notes.locator('li', { hasText: 'silinecek not' }).getByRole('button', { name: /^Delete the note/ }).click();
  await notes.getByText('silinecek not').waitFor({ state: 'detached' });
  assert.equal((await call(server, key, 'GET', api(`/conversations/${ayse}/notes`))).body.notes.length, 1);
});

test('assignment to an agent and back', async () => {
  const facts = page.locator('.conv-facts');
  await page.getByRole('combobox', { name: 'Assigned to' }).selectOption({ label: AGENT.name });
  await page.getByRole('button', { name: 'Assign', exact: true }).click();
  await facts.getByText(`Assigned to ${AGENT.name}`).waitFor();
  assert.equal((await call(server, key, 'GET', api(`/conversations/${ayse}`))).body.assignee.name, AGENT.name);
  await page.getByRole('combobox', { name: 'Assigned to' }).selectOption({ label: 'Unassigned' });
  await page.getByRole('button', { name: 'Assign', exact: true }).click();
  await facts.getByText('Unassigned').waitFor();
  assert.equal((await call(server, key, 'GET', api(`/conversations/${ayse}`))).body.assignee, null);
});

test('a canned reply is made and inserted into the reply box', async () => {
  const opener = page.getByRole('button', { name: 'Canned replies' });
  await opener.click();
  const dialog = page.getByRole('dialog', { name: 'Canned replies' });
  await dialog.getByRole('textbox', { name: 'Title' }).fill('Kargo');
  await dialog.getByRole('textbox', { name: 'Text' }).fill('Kargonuz yarın çıkıyor.');
  await dialog.getByRole('checkbox', { name: 'Share with the whole team' }).check();
  await dialog.getByRole('button', { name: 'Add a canned reply' }).click();
  await dialog.locator('.canned-list').getByText('Kargonuz yarın çıkıyor.').waitFor();
  assert.match(await dialog.locator('.canned-list').innerText(), /shared/);
  await dialog.getByRole('button', { name: 'Edit: Kargo' }).click();
  await dialog.getByRole('textbox', { name: 'Text' }).fill('Kargonuz yarın yola çıkıyor.');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.getByRole('button', { name: 'Add a canned reply' }).waitFor();
  const stored = (await call(server, key, 'GET', api('/canned-replies'))).body.canned_replies;
  assert.deepEqual(stored.map((r) => [r.title, r.text, r.shared]), [['Kargo', 'Kargonuz yarın yola çıkıyor.', true]]);
  await checkAxe(page, 'canned replies dialog');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await page.waitForFunction(() => document.activeElement.textContent === 'Canned replies');  // focus back on the opener
  await page.getByRole('combobox', { name: 'Canned reply' }).selectOption({ label: 'Kargo (shared)' });
  await page.getByRole('button', { name: 'Insert' }).click();
  assert.equal(await page.getByRole('textbox', { name: 'Reply to the customer' }).inputValue(), 'Kargonuz yarın yola çıkıyor.');
  await page.getByRole('textbox', { name: 'Reply to the customer' }).fill('');
  await page.evaluate(() => { document.activeElement.blur(); window.scrollTo(0, 0); });
  await checkAxe(page, 'conversation');
  await screenshot(page, 'conversation');
  await phoneShot(`#/conversations/${ayse}`, 'conversation', '.msg');
});

test('release gives the conversation back to the bot and takes it off the inbox', async () => {
  await page.getByRole('button', { name: 'Give back to the assistant' }).click();
  await page.locator('.conv-facts').getByText('With the assistant').waitFor();
  assert.equal((await conversationOf('ayse')).status, 'bot');
  // Taken over again from the console, and given back.
  await page.getByRole('button', { name: 'Take over' }).click();
  await page.locator('.conv-facts').getByText('With a person').waitFor();
  assert.equal((await conversationOf('ayse')).status, 'handed_over');
  await page.getByRole('button', { name: 'Give back to the assistant' }).click();
  await page.getByRole('button', { name: 'Take over' }).waitFor();
  await page.getByRole('link', { name: /^Inbox/ }).click();
  await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'zeynep' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'ayse' }).count(), 0);
  // Live too: zeynep released from elsewhere leaves the open inbox.
  const zeynep = await conversationOf('zeynep');
  assert.equal((await call(server, key, 'POST', api(`/conversations/${zeynep.id}/release`))).status, 200);
  await page.getByRole('link', { name: 'zeynep' }).waitFor({ state: 'detached', timeout: 10000 });
  await page.getByText('No conversation is waiting.').waitFor();
  assert.notEqual((await chat(server, TENANT, 'ayse', 'saten gecelik var mı?')).method, 'operator');
});

test('conversations are found by a word of their text and filtered by status', async () => {
  await page.getByRole('link', { name: 'Conversations' }).click();
  await page.getByRole('heading', { name: 'Conversations', level: 1 }).waitFor();
  const rows = page.locator('table.data tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 3);
  await page.getByRole('searchbox', { name: 'Text contains' }).fill('lacivert');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
  assert.equal(await rows.first().getByRole('link').innerText(), 'mehmet');
  await checkAxe(page, 'conversations');
  await screenshot(page, 'conversations');
  // A reply's tool calls, as the API lists them, behind a disclosure; Back returns to the search.
  await rows.first().getByRole('link').click();
  await page.getByRole('heading', { name: 'mehmet', level: 1 }).waitFor();
  const mehmet = (await call(server, key, 'GET', api(`/conversations/${(await conversationOf('mehmet')).id}`))).body;
  const calls = mehmet.messages.flatMap((m) => m.tool_calls || []);
  assert.ok(calls.length > 0, JSON.stringify(mehmet.messages));
  const tools = page.locator('details.msg-tools').first();
  assert.equal(await tools.locator('code').first().isVisible(), false);
  await tools.locator('summary').click();
  assert.equal(await tools.locator('code').first().innerText(), calls[0].name);
  assert.match(await tools.innerText(), new RegExp(calls[0].ok ? '\\bok\\b' : 'failed'));
  await checkAxe(page, 'conversation with tool calls');
  await page.goBack();
  await page.getByRole('heading', { name: 'Conversations', level: 1 }).waitFor();
  assert.equal(await page.getByRole('searchbox', { name: 'Text contains' }).inputValue(), 'lacivert');

  await chat(server, TENANT, 'deniz', HANDOFF);
  await page.getByRole('searchbox', { name: 'Text contains' }).fill('');
  await page.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'With a person' });
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
  assert.equal(await rows.first().getByRole('link').innerText(), 'deniz');
  assert.match(await rows.first().innerText(), /With a person/);
  await rows.first().getByRole('link').click();
  await page.getByRole('heading', { name: 'deniz', level: 1 }).waitFor();
  await phoneShot('#/conversations', 'conversations', 'table.data tbody tr');
  assert.deepEqual(page.errors, []);
});

test('an agent signs in with e-mail and password, sees the inbox and assigns to itself', async () => {
  const p = await newPage(browser);
  await signInAgent(p, server, AGENT);
  await p.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
  await p.getByRole('link', { name: 'deniz' }).waitFor();
  const filters = p.getByRole('group', { name: 'Which conversations' });
  await filters.getByRole('button', { name: 'Mine' }).click();
  await p.getByText('No conversation is waiting.').waitFor();
  await filters.getByRole('button', { name: 'All' }).click();
  await p.getByRole('link', { name: 'deniz' }).click();
  await p.getByRole('button', { name: 'Assign to me' }).click();
  await p.locator('.conv-facts').getByText(`Assigned to ${AGENT.name}`).waitFor();
  await p.getByRole('link', { name: /^Inbox/ }).click();
  await p.getByRole('group', { name: 'Which conversations' }).getByRole('button', { name: 'Mine' }).click();
  await p.getByRole('link', { name: 'deniz' }).waitFor();
  assert.match(await p.locator('.inbox-item').innerText(), new RegExp(`Assigned to ${AGENT.name}`));
  await checkAxe(p, 'inbox (agent)');
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('a key that may only read sees no reply box, take-over or release, and is refused a reply', async () => {
  const p = await newPage(browser);
  await signInWithKey(p, server, readKey);
  await p.getByRole('link', { name: 'deniz' }).click();
  await p.getByRole('heading', { name: 'deniz', level: 1 }).waitFor();
  await p.getByRole('log').getByText(HANDOFF).waitFor();
  assert.equal(await p.getByRole('textbox', { name: 'Reply to the customer' }).count(), 0);
  for (const name of ['Take over', 'Give back to the assistant', 'Add note', 'Assign to me']) {
    assert.equal(await p.getByRole('button', { name }).count(), 0, name);
  }
  const deniz = await conversationOf('deniz');
  const refused = await call(server, readKey, 'POST', api(`/conversations/${deniz.id}/messages`), { text: 'merhaba' });
  assert.equal(refused.status, 403);
  await p.context().close();
});

test('in Turkish the pages speak Turkish', async () => {
  const p = await newPage(browser, { lang: 'tr' });
  await signInWithKey(p, server, key);
  await p.getByRole('heading', { name: 'Gelen kutusu', level: 1 }).waitFor();
  await p.getByRole('link', { name: 'deniz' }).click();
  await p.getByRole('heading', { name: 'Özel notlar' }).waitFor();
  await p.getByRole('textbox', { name: 'Müşteriye yanıt' }).waitFor();
  await p.getByRole('link', { name: 'Konuşmalar' }).click();
  await p.getByRole('heading', { name: 'Konuşmalar', level: 1 }).waitFor();
  await p.getByRole('searchbox', { name: 'Metinde geçen' }).waitFor();
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('after the server restarts, the open inbox catches up on what it missed', async () => {
  await page.getByRole('link', { name: /^Inbox/ }).click();
  await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
  await page.locator('[data-live=open]').waitFor();
  server = await server.restart();
  // Handed over before the page's stream is back: no event reaches it, the reload after does.
  await chat(server, TENANT, 'kaan', HANDOFF);
  await page.getByRole('link', { name: 'kaan' }).waitFor({ timeout: 20000 });
  await page.locator('[data-live=open]').waitFor();
  assert.deepEqual(page.errors, []);
});

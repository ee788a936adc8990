// The widget's WebSocket rules, against a real `tezgah serve` over loopback, with a bare client
// (lib/ws_client.js) that can send what a browser would not: the handshake's origin check, the
// 64 KiB frame limit (1009), malformed frames (an error, the socket stays open), the rate limit,
// visitor tokens (forged, another tenant's, resumed after a restart), ping/pong and a clean close.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { startServer } = require('./lib/server');
const { connect } = require('./lib/ws_client');

const TENANT = 'lezzet-firini';
const OTHER = 'makas-kuafor';
const NO_WIDGET = 'makas-sade';  // a copy of makas-kuafor without the widget
const socketPath = (tenant) => `/v1/tenants/${tenant}/channels/widget/ws`;

let server;

test.before(async () => {
  server = await startServer({
    prepare(dir) {
      const copy = path.join(dir, NO_WIDGET);
      fs.cpSync(path.join(dir, OTHER), copy, { recursive: true });
      const file = path.join(copy, 'tenant.json');
      const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
      manifest.id = NO_WIDGET;
      delete manifest.channels.widget;
      fs.writeFileSync(file, JSON.stringify(manifest));
    },
  });
});
test.after(async () => { if (server) await server.stop(); });

async function open(tenant = TENANT, origin = server.url) {
  const answer = await connect({ port: server.port, path: socketPath(tenant), origin });
  assert.equal(answer.status, 101, answer.body);
  return answer.client;
}

async function hello(client, token) {
  const from = client.frames.length;
  client.send(token ? { type: 'hello', visitor_token: token } : { type: 'hello' });
  return client.next('welcome', { from });
}

test('a page from an origin not allowed is refused at the handshake with 403', async () => {
  const refused = await connect({ port: server.port, path: socketPath(TENANT), origin: 'http://127.0.0.1:1' });
  assert.equal(refused.status, 403);
  const body = JSON.parse(refused.body);
  assert.equal(body.error.code, 'forbidden');
  assert.match(body.error.message, /127\.0\.0\.1:1/);
  assert.ok(body.error.request_id);

  const noOrigin = await connect({ port: server.port, path: socketPath(TENANT) });
  assert.equal(noOrigin.status, 403);

  // The engine's own origin (its demo page) and one listed in allowed_origins are let in.
  assert.equal((await connect({ port: server.port, path: socketPath(TENANT), origin: server.url })).status, 101);
  const listed = await connect({ port: server.port, path: socketPath(TENANT), origin: 'http://localhost:8000' });
  assert.equal(listed.status, 101);
  listed.client.destroy();
});

test('unknown tenants and tenants without the widget get 404; a plain GET gets 426', async () => {
  const unknown = await connect({ port: server.port, path: socketPath('yok-boyle'), origin: server.url });
  assert.equal(unknown.status, 404);
  const disabled = await connect({ port: server.port, path: socketPath(NO_WIDGET), origin: server.url });
  assert.equal(disabled.status, 404);
  assert.match(JSON.parse(disabled.body).error.message, /widget/);
  const plain = await fetch(server.url + socketPath(TENANT));
  assert.equal(plain.status, 426);
  assert.equal((await plain.json()).error.code, 'upgrade_required');
});

test('a question is answered with typing, streamed deltas, then the reply object', async () => {
  const client = await open();
  const welcome = await hello(client);
  assert.match(welcome.visitor_token, /^v1\.lezzet-firini\./);
  assert.deepEqual(welcome.history, []);
  assert.equal(welcome.title, 'Lezzet Fırını');
  assert.equal(welcome.color, '#b45309');
  client.send({ type: 'message', text: 'simit ne kadar?', id: 'q1' });
  const reply = await client.next('reply');
  assert.equal(reply.from, 'bot');
  assert.equal(reply.id, 'q1');
  assert.match(reply.reply, /Simit/);
  assert.ok(reply.conversation_id && reply.session_id && reply.method);
  const types = client.frames.map((f) => f.type);
  assert.ok(types.indexOf('typing') < types.indexOf('delta'), types.join(','));
  assert.ok(types.indexOf('delta') < types.indexOf('reply'), types.join(','));
  const streamed = client.frames.filter((f) => f.type === 'delta').map((f) => f.text).join('');
  assert.equal(streamed, reply.reply);
  client.close();
  assert.equal(await client.closedWith(), 1000);  // a clean close is answered in kind
});

test('a frame over 64 KiB closes the socket with 1009', async () => {
  const client = await open();
  await hello(client);
  client.send({ type: 'message', text: 'x'.repeat(64 * 1024) });
  assert.equal(await client.closedWith(), 1009);
});

test('malformed frames get an error frame and the socket stays open', async () => {
  const client = await open();
  let from = client.frames.length;
  client.send({ type: 'message', text: 'selam' });  // before hello
  assert.equal((await client.next('error', { from })).code, 'hello_first');
  await hello(client);
  const cases = [
    [() => client.sendText('{not json'), 'invalid_json'],
    [() => client.sendText('[1,2]'), 'invalid_json'],
    [() => client.send({ text: 'no type' }), 'missing_field'],
    [() => client.send({ type: 'shout' }), 'invalid_value'],
    [() => client.send({ type: 'message' }), 'missing_field'],
    [() => client.send({ type: 'message', text: 42 }), 'missing_field'],
    [() => client.send({ type: 'message', text: 'a', id: 'x'.repeat(65) }), 'invalid_field'],
    [() => client.sendBinary(Buffer.from([1, 2, 3])), 'bad_frame'],
    [() => client.send({ type: 'message', text: 'ç'.repeat(4001) }), 'invalid_value'],  // the chat API's limit
  ];
  for (const [act, code] of cases) {
    from = client.frames.length;
    act();
    const error = await client.next((f) => f.type === 'error' || f.type === 'reply', { from });
    assert.equal(error.type, 'error');
    assert.equal(error.code, code, JSON.stringify(error));
    assert.ok(error.message);
  }
  from = client.frames.length;
  client.send({ type: 'message', text: 'poğaça var mı?' });
  assert.equal((await client.next('reply', { from })).from, 'bot');  // still serving
  client.destroy();
});

test('more than 20 messages a minute from one visitor are refused with rate_limited', async () => {
  const client = await open();
  const welcome = await hello(client);
  for (let i = 0; i < 20; i++) client.send({ type: 'message', text: 'simit ne kadar?', id: 'r' + i });
  client.send({ type: 'message', text: 'simit ne kadar?', id: 'r20' });
  const limited = await client.next((f) => f.type === 'error' && f.id === 'r20');
  assert.equal(limited.code, 'rate_limited');
  // The same visitor on a second socket shares the count.
  const second = await open();
  await hello(second, welcome.visitor_token);
  second.send({ type: 'message', text: 'simit', id: 'r21' });
  assert.equal((await second.next('error')).code, 'rate_limited');
  // The 20 within the limit are answered, and the socket stays open.
  for (let i = 0; i < 20; i++) await client.next((f) => f.type === 'reply' && f.id === 'r' + i, { timeout: 30000 });
  // Another visitor is not limited.
  const other = await open();
  await hello(other);
  other.send({ type: 'message', text: 'simit ne kadar?' });
  assert.equal((await other.next((f) => f.type === 'reply' || f.type === 'error')).type, 'reply');
  for (const c of [client, second, other]) c.destroy();
});

test('a forged token, or another tenant\'s, gets a new visitor; a valid one resumes with the history', async () => {
  const first = await open();
  const welcome = await hello(first);
  first.send({ type: 'message', text: 'simit ne kadar?', id: 'h1' });
  const reply = await first.next('reply');
  first.destroy();

  const back = await open();
  const resumed = await hello(back, welcome.visitor_token);
  assert.equal(resumed.visitor_token, welcome.visitor_token);
  assert.deepEqual(resumed.history.map((h) => [h.from, h.text]),
    [['customer', 'simit ne kadar?'], ['bot', reply.reply]]);
  back.destroy();

  const token = welcome.visitor_token;
  const forged = [
    token.slice(0, -1) + (token.endsWith('0') ? '1' : '0'),      // the MAC changed
    token.replace('lezzet-firini', 'makas-kuafor'),            // the tenant changed, MAC kept
    'v1.lezzet-firini.deadbeef.1.' + '0'.repeat(64),
    'garbage',
  ];
  for (const bad of forged) {
    const c = await open();
    const w = await hello(c, bad);
    assert.notEqual(w.visitor_token, bad);
    assert.notEqual(w.visitor_token, token);
    assert.deepEqual(w.history, []);
    c.destroy();
  }
  // A genuine token of this tenant is no good for another tenant.
  const elsewhere = await open(OTHER);
  const w = await hello(elsewhere, token);
  assert.match(w.visitor_token, /^v1\.makas-kuafor\./);
  assert.deepEqual(w.history, []);
  elsewhere.destroy();
});

test('the server answers pings and stays open', async () => {
  const client = await open();
  await hello(client);
  const pong = new Promise((resolve) => client.once('pong', resolve));
  client.ping('hi');
  assert.equal((await pong).toString(), 'hi');
  assert.equal(client.closed, false);
  client.destroy();
});

test('tokens outlive a restart (the key is kept in the database) and TEZGAH_SECRET_KEY is shared', async () => {
  const client = await open();
  const welcome = await hello(client);
  client.send({ type: 'message', text: 'simit ne kadar?' });
  await client.next('reply');
  // A stopping server tells open sockets it is going away (1001), so widgets reconnect.
  server = await server.restart();
  assert.equal(await client.closedWith(), 1001);
  const back = await open();
  const resumed = await hello(back, welcome.visitor_token);
  assert.equal(resumed.visitor_token, welcome.visitor_token);
  assert.equal(resumed.history.length, 2);
  back.destroy();

  // Two servers on different databases with the same configured key accept each other's tokens.
  const env = { TEZGAH_SECRET_KEY: 'a-shared-secret-for-the-test' };
  const a = await startServer({ env });
  const b = await startServer({ env });
  try {
    const ca = (await connect({ port: a.port, path: socketPath(TENANT), origin: a.url })).client;
    const token = (await hello(ca)).visitor_token;
    ca.destroy();
    const cb = (await connect({ port: b.port, path: socketPath(TENANT), origin: b.url })).client;
    assert.equal((await hello(cb, token)).visitor_token, token);
    cb.destroy();
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('an open socket holds no thread: 200 sockets leave the server\'s thread count as it was', async () => {
  const threads = () => Number(fs.readFileSync(`/proc/${server.proc.pid}/status`, 'utf8').match(/Threads:\s+(\d+)/)[1]);
  // Warm the workers first: the pool grows on demand.
  const warm = await open();
  await hello(warm);
  warm.destroy();
  const before = threads();
  const clients = [];
  for (let i = 0; i < 200; i++) {
    const c = await open();
    clients.push(c);
  }
  await Promise.all(clients.map((c) => hello(c)));
  const during = threads();
  assert.ok(during <= before + 2, `threads ${before} → ${during} with 200 open sockets`);
  // Operators see them counted.
  const metrics = await (await fetch(server.url + '/metrics')).text();
  assert.ok(Number(metrics.match(/^tezgah_widget_sockets (\d+)/m)[1]) >= 200, metrics.match(/^tezgah_widget_sockets.*$/m)[0]);
  const health = await (await fetch(server.url + '/health/detailed')).json();
  assert.ok(health.http.widget_sockets >= 200);
  clients.forEach((c) => c.destroy());
});

test('widget.js is one small file (at most 15 KB gzipped), cached by its ETag', async () => {
  const zlib = require('zlib');
  const first = await fetch(server.url + '/widget.js');
  assert.equal(first.status, 200);
  assert.match(first.headers.get('content-type'), /javascript/);
  assert.match(first.headers.get('cache-control'), /max-age=\d+/);
  const etag = first.headers.get('etag');
  assert.ok(etag);
  const script = Buffer.from(await first.arrayBuffer());
  const gzipped = zlib.gzipSync(script, { level: 9 }).length;
  assert.ok(gzipped <= 15 * 1024, `widget.js is ${gzipped} bytes gzipped`);
  const again = await fetch(server.url + '/widget.js', { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get('etag'), etag);
  assert.equal((await again.arrayBuffer()).byteLength, 0);
  // The demo page of a tenant that enables the widget carries the tag.
  const demo = await fetch(`${server.url}/v1/tenants/${TENANT}/channels/widget`);
  assert.equal(demo.status, 200);
  assert.match(await demo.text(), /<script src="\/widget.js" data-tenant="lezzet-firini" async><\/script>/);
  assert.equal((await fetch(`${server.url}/v1/tenants/${NO_WIDGET}/channels/widget`)).status, 404);
});

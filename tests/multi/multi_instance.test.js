// Three `tezgah serve` instances on one PostgreSQL and one Redis, behind HAProxy, all on loopback
// (docs/operations.md, "Running several instances"). Customers talk through HAProxy: the chat API
// with message ids, Twilio webhooks signed by the official twilio package (replies through the
// outbox to a fake Twilio REST API that counts sends), and a widget socket. One instance is killed
// with SIGKILL under load: every acknowledged message is stored once, every queued reply is sent
// once, and the widget keeps its conversation on another instance. Then Redis is stopped and
// started again (answers continue; /health degraded, then ok), and a plan's rate limit and a
// tenant's daily budget (a fake OpenAI-compatible model counts the calls) hold across the
// instances to within one turn. The parts that need `--redis` and `--plans` run when
// the binary has them, and say so when it does not.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const { connect } = require('../node/lib/ws_client');
const twilio = require(path.join(__dirname, '..', 'node', 'node_modules', 'twilio'));

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.resolve(root, '..', 'shared', 'fixtures', 'tenants');
const binaryDir = process.env.TEZGAH_BINARY_DIR || path.join(root, 'build');
const tezgah = path.join(binaryDir, 'bin', 'tezgah');
const help = execFileSync(tezgah, ['--help']).toString();
const hasRedis = help.includes('--redis');
const hasPlans = help.includes('--plans');

const SHOP = 'gece-butik';      // chat API, widget, Twilio
const LIMITED = 'nefes-studyo'; // its plan allows PER_MINUTE messages a minute
const PER_MINUTE = 20;
const BUDGETED = 'gece-butik-budget'; // a paid model and a daily budget of five answers
const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'multi-instance-auth-token-0123456789';
const FROM = 'whatsapp:+14155238886';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tezgah-multi-'));
const children = [];  // every process started here, stopped at the end
let pgDir = '';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function start(command, args, options = {}) {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  proc.output = '';
  proc.stdout.on('data', (d) => { proc.output += d; });
  proc.stderr.on('data', (d) => { proc.output += d; });
  children.push(proc);
  return proc;
}

async function until(what, check, timeout = 20000, every = 100) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try { if (await check()) return; } catch (e) { /* not yet */ }
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await sleep(every);
  }
}

/// One HTTP request; resolves {status, body, json} or rejects on a transport error.
function request(port, method, urlPath, { body, headers = {}, timeout = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false, timeout,
      headers: { ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}), ...headers } },
    (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
        resolve({ status: res.statusCode, body: text, json, headers: res.headers });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

function psql(url, sql) {
  return execFileSync('psql', [url, '-At', '-c', sql]).toString().trim();
}

// --- the parts ----------------------------------------------------------------------------------

/// A fake Twilio REST API: accepts POST .../Messages.json (HTTP Basic with the account and token)
/// and counts each send by its recipient.
function fakeTwilio() {
  const sends = new Map();  // To -> bodies
  const refused = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const auth = 'Basic ' + Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64');
      if (req.method !== 'POST' || req.url !== `/2010-04-01/Accounts/${ACCOUNT}/Messages.json` ||
          req.headers.authorization !== auth) {
        refused.push(`${req.method} ${req.url}`);
        res.writeHead(401, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ code: 20003, message: 'Authenticate', status: 401 }));
      }
      const form = new URLSearchParams(body);
      const to = form.get('To');
      if (!sends.has(to)) sends.set(to, []);
      sends.get(to).push(form.get('Body'));
      const sid = 'SM' + String(++n).padStart(32, '0');
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ sid, status: 'queued', to, from: form.get('From'), body: form.get('Body') }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, sends, refused, port: server.address().port })));
}

/// A fake OpenAI-compatible server: POST /v1/chat/completions answers a plain reply with 1,000
/// prompt and 100 completion tokens, and counts the calls.
function fakeOpenAi() {
  const calls = { n: 0 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      }
      ++calls.n;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ id: `chatcmpl-${calls.n}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000),
        model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'Saten gecelik 1.299 TL.' },
          finish_reason: 'stop' }], usage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 } }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, calls, port: server.address().port })));
}

function writeTenants(twilioPort, publicUrl, openaiPort) {
  const dir = path.join(work, 'tenants');
  fs.cpSync(fixtures, dir, { recursive: true });
  const file = path.join(dir, SHOP, 'tenant.json');
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  m.channels.twilio = { account_sid: ACCOUNT, auth_token: '${TEZGAH_GECE_BUTIK__TWILIO_AUTH_TOKEN}', from: FROM,
    api_base_url: `http://127.0.0.1:${twilioPort}`, public_url: publicUrl,
    reply_within_ms: 0, burst_window_ms: 0 };  // every reply through the outbox
  m.channels.widget = { allowed_origins: [publicUrl] };
  // A message held by a killed instance is taken over after the deadline plus the margin.
  m.llm = { ...m.llm, deadline_ms: 2000 };
  fs.writeFileSync(file, JSON.stringify(m, null, 2));
  // The shop again under another id, on a paid model with a small daily budget: gpt-4o-mini's
  // built-in prices make each of the fake's answers cost $0.00021, so the fifth crosses $0.001.
  const budgetDir = path.join(dir, BUDGETED);
  fs.cpSync(path.join(dir, SHOP), budgetDir, { recursive: true });
  const b = JSON.parse(fs.readFileSync(path.join(budgetDir, 'tenant.json'), 'utf8'));
  b.id = BUDGETED;
  b.channels = { widget: { allowed_origins: [publicUrl] } };
  b.llm = { provider: 'openai', api_key: 'multi-instance-key', base_url: `http://127.0.0.1:${openaiPort}/v1`,
    model: 'gpt-4o-mini', max_retries: 0, budget: { daily_usd: 0.001, on_exceed: 'fallback' }, cache: { ttl_s: 0 } };
  fs.writeFileSync(path.join(budgetDir, 'tenant.json'), JSON.stringify(b, null, 2));
  return dir;
}

async function startInstance(i, common) {
  const proc = start(tezgah, ['serve', '--listen', '127.0.0.1:0', ...common.args], { env: common.env });
  await until(`instance ${i} to start`, () => /listening on http:\/\/127\.0\.0\.1:(\d+)/.test(proc.output), 30000, 20)
    .catch((e) => { throw new Error(e.message + ': ' + proc.output); });
  proc.port = Number(proc.output.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/)[1]);
  proc.name = `s${i}`;
  return proc;
}

function haproxyConfig(port, instances) {
  return `global
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
  retries 3
  option redispatch
  retry-on conn-failure empty-response response-timeout
  option forwardfor
frontend customers
  bind 127.0.0.1:${port}
  default_backend tezgah
backend tezgah
  balance roundrobin
  option httpchk GET /health/ready
  http-check expect status 200
${instances.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check inter 200ms fall 2 rise 1`).join('\n')}
`;
}

// --- the test -----------------------------------------------------------------------------------

test('three instances behind HAProxy on PostgreSQL and Redis', { timeout: 170000 }, async (t) => {
  t.after(async () => {
    for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    if (pgDir) execFileSync(path.join(root, 'scripts', 'pg-test-server'), ['stop', pgDir], { stdio: 'ignore' });
    fs.rmSync(work, { recursive: true, force: true });
  });

  // PostgreSQL (as tests/store starts it), Redis, the fake Twilio.
  const pg = execFileSync(path.join(root, 'scripts', 'pg-test-server'), ['start'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const dbUrl = pg.toString().trim().split('\n').pop();
  const listed = psql(dbUrl, "SELECT setting FROM pg_settings WHERE name = 'data_directory'");
  pgDir = path.dirname(listed);
  const redisPort = await freePort();
  const startRedis = () => start('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--dir', work]);
  let redis = startRedis();
  await until('redis', () => /Ready to accept connections/.test(redis.output), 10000, 20);
  const fake = await fakeTwilio();
  t.after(() => fake.server.close());
  const model = await fakeOpenAi();
  t.after(() => model.server.close());

  const proxyPort = await freePort();
  const publicUrl = `http://127.0.0.1:${proxyPort}`;
  const tenants = writeTenants(fake.port, publicUrl, model.port);
  const plans = path.join(work, 'plans.json');
  fs.writeFileSync(plans, JSON.stringify({ plans: { premium: { messages_per_minute: PER_MINUTE } } }));
  const common = {
    args: ['--tenants', tenants, '--db', dbUrl, '--log-level', 'warn', '--trusted-proxy', '127.0.0.1',
      '--in-flight-margin-ms', '1000', '--outbox-lease-ms', '3000', '--drain-seconds', '5',
      ...(hasRedis ? ['--redis', `redis://127.0.0.1:${redisPort}`] : []),
      ...(hasPlans ? ['--plans', plans] : [])],
    env: { ...process.env, TEZGAH_SECRET_KEY: 'multi-instance-secret-key-0123456789abcdef',
      TEZGAH_GECE_BUTIK__TWILIO_AUTH_TOKEN: TOKEN },
  };
  // The first creates the schema; the others start on it.
  const instances = [await startInstance(1, common)];
  instances.push(...(await Promise.all([startInstance(2, common), startInstance(3, common)])));
  const cfg = path.join(work, 'haproxy.cfg');
  fs.writeFileSync(cfg, haproxyConfig(proxyPort, instances));
  const haproxy = start('haproxy', ['-f', cfg, '-db']);
  for (const s of instances) assert.equal((await request(s.port, 'GET', '/health/ready')).status, 200);
  await until('HAProxy to pass its health checks', async () => {
    const text = (await request(proxyPort, 'GET', '/health/ready')).body;
    return text.includes('"ready"');
  }, 20000, 100).catch((e) => { throw new Error(e.message + ': ' + haproxy.output); });
  await sleep(600);  // every server's first check (every 200 ms) has passed

  // A widget visitor, through HAProxy; the instance holding the socket is the one killed later.
  const socketPath = `/v1/tenants/${SHOP}/channels/widget/ws`;
  const opened = await connect({ port: proxyPort, path: socketPath, origin: publicUrl });
  assert.equal(opened.status, 101, opened.body);
  let widget = opened.client;
  widget.send({ type: 'hello' });
  const welcome = await widget.next('welcome');
  widget.send({ type: 'message', text: 'saten gecelik ne kadar?', id: 'w-1' });
  const firstReply = await widget.next('reply', { timeout: 15000 });
  assert.ok(firstReply.text || firstReply.reply);
  let holder = null;
  for (const s of instances) {
    const d = await request(s.port, 'GET', '/health/detailed');
    if (d.json.http.widget_sockets > 0) holder = s;
  }
  assert.ok(holder, 'no instance holds the widget socket');

  // Customers under load: chat messages with ids, and signed Twilio webhooks, each retried with
  // the same id until answered (as the chat API's clients and Twilio do).
  const acknowledged = new Map();  // message id -> reply
  const failures = [];
  const CHAT_MESSAGES = 12;
  const TWILIO_MESSAGES = 4;
  let killed = false;
  let afterKill = 0;  // messages acknowledged after the kill
  let retried = 0;    // attempts that failed (and were tried again with the same id)
  async function chatCustomer(c) {
    for (let n = 0; n < CHAT_MESSAGES; n++) {
      const id = `m-${c}-${n}`;
      const body = { text: n % 2 ? 'kargo ücreti ne kadar?' : 'saten gecelik ne kadar?', user_id: `customer-${c}`, message_id: id };
      let done = false;
      for (let attempt = 0; attempt < 60 && !done; attempt++) {
        try {
          const r = await request(proxyPort, 'POST', `/v1/tenants/${SHOP}/chat`, { body });
          if (r.status === 200) { acknowledged.set(id, r.json.reply); done = true; if (killed) ++afterKill; } else { ++retried; await sleep(150); }
        } catch (e) { ++retried; await sleep(150); }
      }
      if (!done) failures.push(id);
      await sleep(50);
    }
  }
  const twilioUrl = `${publicUrl}/v1/tenants/${SHOP}/channels/twilio`;
  const twilioAcked = new Set();
  async function twilioCustomer(c) {
    for (let n = 0; n < TWILIO_MESSAGES; n++) {
      const sid = 'SM' + `${c}x${n}`.padStart(32, '0');
      const params = { MessageSid: sid, SmsMessageSid: sid, AccountSid: ACCOUNT, From: `whatsapp:+9055500${String(c).padStart(3, '0')}${n}`,
        To: FROM, Body: 'saten gecelik ne kadar?', NumMedia: '0', ApiVersion: '2010-04-01' };
      const form = new URLSearchParams(params).toString();
      const headers = { 'Content-Type': 'application/x-www-form-urlencoded',
        'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TOKEN, twilioUrl, params) };
      let done = false;
      for (let attempt = 0; attempt < 60 && !done; attempt++) {
        try {
          const r = await request(proxyPort, 'POST', `/v1/tenants/${SHOP}/channels/twilio`, { body: form, headers });
          if (r.status === 200) { twilioAcked.add(params.From); done = true; } else { ++retried; await sleep(150); }
        } catch (e) { ++retried; await sleep(150); }
      }
      if (!done) failures.push(sid);
      await sleep(100);
    }
  }
  const load = [];
  for (let c = 0; c < 12; c++) load.push(chatCustomer(c));
  for (let c = 0; c < 6; c++) load.push(twilioCustomer(c));
  // Killed once the load is under way (a fixed delay let a fast build finish the load first).
  for (let waited = 0; acknowledged.size < 12 && waited < 10000; waited += 20) await sleep(20);
  holder.kill('SIGKILL');
  killed = true;
  await Promise.all(load);
  assert.deepEqual(failures, [], 'messages never acknowledged');
  assert.ok(afterKill > 20, `only ${afterKill} messages answered after the kill: the load ended too soon`);
  t.diagnostic(`${acknowledged.size} chat messages acknowledged, ${afterKill} after the kill; ${retried} attempts tried again`);

  await t.test('every acknowledged message is stored once, with its reply', () => {
    const rows = psql(dbUrl, `SELECT client_message_id, count(*) FROM messages WHERE tenant_id = '${SHOP}' AND role = 'user' ` +
      "AND client_message_id LIKE 'm-%' GROUP BY client_message_id").split('\n').filter(Boolean);
    const stored = new Map(rows.map((r) => r.split('|')).map(([id, n]) => [id, Number(n)]));
    for (const id of acknowledged.keys()) assert.equal(stored.get(id), 1, `message ${id}: stored ${stored.get(id) || 0} times`);
    assert.equal(acknowledged.size, 12 * CHAT_MESSAGES);
    const replies = Number(psql(dbUrl, `SELECT count(*) FROM messages WHERE tenant_id = '${SHOP}' AND role = 'assistant' ` +
      `AND conversation_id IN (SELECT conversation_id FROM messages WHERE client_message_id LIKE 'm-%')`));
    assert.ok(replies >= acknowledged.size, `${replies} replies stored for ${acknowledged.size} messages`);
  });

  await t.test('every queued Twilio reply is sent exactly once', async (t) => {
    assert.equal(twilioAcked.size, 6 * TWILIO_MESSAGES);
    // Each acknowledged message's reply is queued in the outbox (a turn cut short by the kill
    // before it queued anything is the one exception: Twilio got its 200 already).
    const queued = () => psql(dbUrl, `SELECT recipient FROM outbox WHERE tenant_id = '${SHOP}' AND channel = 'twilio'`)
      .split('\n').filter(Boolean);
    const recipients = queued();
    // Twilio was answered at once (reply_within_ms 0) and the turn ran on: a turn the kill cut off
    // leaves its message stored and unanswered (never queued, so never sent) — one per customer
    // at most, those in flight on the killed instance.
    const unanswered = [...twilioAcked].filter((to) => !recipients.includes(to));
    for (const to of unanswered) {
      const stored = psql(dbUrl, `SELECT m.role FROM messages m JOIN conversations c ON c.id = m.conversation_id ` +
        `WHERE c.tenant_id = '${SHOP}' AND c.user_id = '${to}' ORDER BY m.seq`);
      // A late reply is queued in the transaction that stores it: a reply stored and not queued,
      // or anything else here, is a lost or doubled message (docs/architecture.md, "What is not
      // built yet": nothing re-runs a turn the kill cut off).
      assert.equal(stored, 'user', `${to}: not a turn cut off by the kill`);
    }
    assert.ok(unanswered.length <= 6, `${unanswered.length} Twilio messages unanswered`);
    t.diagnostic(`${recipients.length} Twilio replies queued for ${twilioAcked.size} messages; ${unanswered.length} turns cut off by the kill`);
    assert.equal(new Set(recipients).size, recipients.length, 'a reply queued twice');
    // A send claimed by the killed instance is taken over when its lease (3 s) lapses.
    await until('every queued Twilio reply to be sent', () => recipients.every((to) => fake.sends.has(to)), 30000, 200);
    await sleep(4000);  // a second send would come within another lease
    for (const to of recipients) assert.equal(fake.sends.get(to).length, 1, `${to}: ${JSON.stringify(fake.sends.get(to))}`);
    for (const to of fake.sends.keys()) assert.ok(recipients.includes(to), `${to} was sent a reply never queued`);
    assert.equal(psql(dbUrl, `SELECT count(*) FROM outbox WHERE tenant_id = '${SHOP}' AND state NOT IN ('sent', 'delivered')`), '0');
    assert.deepEqual(fake.refused, []);
  });

  await t.test('the widget keeps its conversation after reconnecting to another instance', async () => {
    await widget.closedWith(10000).catch(() => widget.destroy());
    const again = await connect({ port: proxyPort, path: socketPath, origin: publicUrl });
    assert.equal(again.status, 101, again.body);
    widget = again.client;
    widget.send({ type: 'hello', visitor_token: welcome.visitor_token });
    const back = await widget.next('welcome');
    assert.ok(back.history.some((m) => m.from === 'customer' && m.text === 'saten gecelik ne kadar?'), JSON.stringify(back.history));
    assert.ok(back.history.some((m) => m.from === 'bot'), JSON.stringify(back.history));
    widget.send({ type: 'message', text: 'kargo ücreti ne kadar?', id: 'w-2' });
    const reply = await widget.next('reply', { timeout: 15000 });
    assert.ok(reply);
    widget.destroy();
  });

  const alive = instances.filter((s) => s !== holder);

  await t.test('Redis stopped and started again: answers continue, health degraded then ok', { skip: !hasRedis && 'this build has no --redis' }, async () => {
    for (const s of alive) assert.equal((await request(s.port, 'GET', '/health')).json.redis, 'ok');
    redis.kill('SIGTERM');
    await new Promise((r) => (redis.exitCode === null ? redis.once('exit', r) : r()));
    for (let i = 0; i < 6; i++) {
      const r = await request(proxyPort, 'POST', `/v1/tenants/${SHOP}/chat`, { body: { text: 'merhaba', user_id: `no-redis-${i}` } });
      assert.equal(r.status, 200, r.body);
    }
    for (const s of alive)
      await until(`${s.name} to report degraded`, async () => (await request(s.port, 'GET', '/health')).json.status === 'degraded', 15000);
    redis = startRedis();
    await until('redis again', () => /Ready to accept connections/.test(redis.output), 10000, 20);
    for (const s of alive)
      await until(`${s.name} to report ok`, async () => {
        const h = (await request(s.port, 'GET', '/health')).json;
        return h.status === 'ok' && h.redis === 'ok';
      }, 20000);
    const r = await request(proxyPort, 'POST', `/v1/tenants/${SHOP}/chat`, { body: { text: 'merhaba', user_id: 'redis-back' } });
    assert.equal(r.status, 200, r.body);
  });

  await t.test('a plan\'s messages a minute hold across instances to within one turn', { skip: !(hasRedis && hasPlans) && 'this build has no --redis or --plans' }, async () => {
    // One minute's window: start early in a minute so the burst does not straddle two.
    if (new Date().getSeconds() > 45) await sleep((61 - new Date().getSeconds()) * 1000);
    const statuses = await Promise.all(Array.from({ length: 2 * PER_MINUTE }, (_, i) =>
      request(proxyPort, 'POST', `/v1/tenants/${LIMITED}/chat`, { body: { text: 'merhaba', user_id: `limited-${i}` } })));
    const ok = statuses.filter((r) => r.status === 200).length;
    const limited = statuses.filter((r) => r.status === 429);
    assert.ok(ok >= PER_MINUTE && ok <= PER_MINUTE + 1, `${ok} answered of ${2 * PER_MINUTE}; the plan allows ${PER_MINUTE}`);
    assert.equal(ok + limited.length, statuses.length);
    assert.equal(limited[0].json.error.code, 'rate_limited');
    assert.ok(Number(limited[0].headers['retry-after']) > 0);
  });

  await t.test('a daily budget holds across instances to within one turn', { skip: !hasRedis && 'this build has no --redis' }, async () => {
    // One customer after another, through HAProxy (round robin over the instances still up): each
    // instance alone would let five answers through before its own figure crossed the budget.
    const methods = [];
    for (let i = 0; i < 16; i++) {
      const r = await request(proxyPort, 'POST', `/v1/tenants/${BUDGETED}/chat`,
        { body: { text: 'saten gecelik ne kadar?', user_id: `budget-${i}` } });
      assert.equal(r.status, 200, r.body);
      methods.push(r.json.method);
    }
    const paid = methods.filter((m) => m === 'llm').length;
    assert.ok(paid >= 5 && paid <= 6, `${paid} answers from the model (${methods.join(' ')}); the budget pays for 5`);
    assert.equal(model.calls.n, paid);
    assert.ok(methods.slice(paid).every((m) => m === 'fallback'), methods.join(' '));
  });

  await t.test('a draining instance leaves HAProxy without failing a customer', async () => {
    const [leaving, staying] = alive;
    const answered = [];
    const sending = (async () => {
      for (let i = 0; i < 30; i++) {
        const r = await request(proxyPort, 'POST', `/v1/tenants/${SHOP}/chat`,
          { body: { text: 'merhaba', user_id: `drain-${i}`, message_id: `d-${i}` } });
        answered.push(r.status);
        await sleep(30);
      }
    })();
    await sleep(200);
    leaving.kill('SIGTERM');
    await sending;
    const code = await new Promise((r) => (leaving.exitCode !== null ? r(leaving.exitCode) : leaving.once('exit', r)));
    assert.equal(code, 0, leaving.output);
    assert.deepEqual(answered.filter((s) => s !== 200), [], `statuses: ${answered}`);
    assert.equal((await request(staying.port, 'GET', '/health/ready')).status, 200);
  });
});

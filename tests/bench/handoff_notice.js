// From a customer's message to the shop's webhook (scripts/bench --only handoff-notice): how long
// from a customer asking for a person on the chat API to the signed notice reaching the shop's
// webhook receiver, through a real `tezgah serve` (the offline assistant, the `handoff` tool, the
// notifier; SQLite).
//   node tests/bench/handoff_notice.js [--customers 300] [--concurrency 4]
// Starts its receiver (which checks every signature) and the server (the shipped tenants, with
// lezzet-firini's `handoff` tool pointed at the receiver), then each customer asks once; prints
// `RESULT key value` lines: samples, p50, p95, p99 and max in ms, bad signatures, delivered twice.
'use strict';
const crypto = require('crypto');
const http = require('http');
const path = require('path');
const { startServer } = require(path.join(__dirname, '..', 'node', 'lib', 'server.js'));

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => {
  if (a.startsWith('--')) pairs.push([a.slice(2), all[i + 1]]);
  return pairs;
}, []));
const customers = Number(args.customers || 300);
const concurrency = Number(args.concurrency || 4);
const tenant = 'lezzet-firini';
const secret = 'whsec-bench-' + crypto.randomBytes(8).toString('hex');

const asked = new Map();   // user_id -> when the chat request was sent (ms)
const latency = [];
const seen = new Set();
let badSignatures = 0;
let twice = 0;
let done;
const allArrived = new Promise((resolve) => { done = resolve; });

const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    const now = performance.now();
    const m = /^t=(\d+),v1=([0-9a-f]+)$/.exec(req.headers['x-tezgah-signature'] || '');
    const expected = m && crypto.createHmac('sha256', secret).update(`${m[1]}.${body}`).digest('hex');
    if (!m || expected !== m[2]) {
      ++badSignatures;
      res.writeHead(401).end();
      return;
    }
    res.writeHead(204).end();
    const notice = JSON.parse(body);
    if (notice.user_id === 'warm-up') return;  // the request that loaded the tenant
    if (seen.has(notice.user_id)) { ++twice; return; }
    seen.add(notice.user_id);
    if (asked.has(notice.user_id)) latency.push(now - asked.get(notice.user_id));
    if (seen.size === customers) done();
  });
});

function chat(port, user) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify({ text: 'bir yetkiliyle görüşmek istiyorum', user_id: user });
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `/v1/tenants/${tenant}/chat`,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } }, (res) => {
      let out = '';
      res.on('data', (d) => { out += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(out)) : reject(new Error(out))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

(async () => {
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${receiver.address().port}/hooks/tezgah`;
  const server = await startServer({
    env: { TEZGAH_LEZZET_FIRINI__HOOK_SECRET: secret },
    edit: (id, manifest) => {
      if (id !== tenant) return;
      manifest.tools = [...(manifest.tools || []),
        { name: 'handoff', notify: { webhook: { url: hook, secret: '${TEZGAH_LEZZET_FIRINI__HOOK_SECRET}' } } }];
    },
  });
  try {
    await chat(server.port, 'warm-up');  // loads the tenant; its notice is not counted
    let next = 0;
    const worker = async () => {
      while (next < customers) {
        const user = `customer-${next++}`;
        asked.set(user, performance.now());
        const reply = await chat(server.port, user);
        if (reply.handoff !== true) throw new Error(`not handed over: ${JSON.stringify(reply)}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const timeout = setTimeout(() => done(), 30000);
    await allArrived;
    clearTimeout(timeout);
  } finally {
    await server.stop();
    receiver.close();
  }
  const sorted = latency.sort((a, b) => a - b);
  console.log(`RESULT samples ${sorted.length}`);
  for (const p of [50, 95, 99]) console.log(`RESULT p${p}_ms ${percentile(sorted, p).toFixed(2)}`);
  console.log(`RESULT max_ms ${sorted[sorted.length - 1].toFixed(2)}`);
  console.log(`RESULT bad_signatures ${badSignatures}`);
  console.log(`RESULT delivered_twice ${twice}`);
  process.exit(sorted.length === customers && badSignatures === 0 && twice === 0 ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(1); });

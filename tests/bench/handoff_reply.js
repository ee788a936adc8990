// The operator's reply to the widget (scripts/bench --only handoff): how long from an operator's
// `POST /v1/tenants/{tenant}/conversations/{id}/messages` to the visitor's socket receiving the
// `reply` frame from "operator", against a running `tezgah serve`.
//   node tests/bench/handoff_reply.js --port P --key KEY [--tenant lezzet-firini] [--visitors 20] [--rounds 25]
// 1. --visitors widget sockets say hello and ask for a person (each conversation is handed over);
// 2. --rounds times, every visitor gets an operator reply, one request at a time, each timed from
//    just before the POST to its frame (the 202 and the frame race: the frame may come first);
// 3. prints `RESULT key value` lines: samples, p50, p95, p99 and max in ms.
'use strict';
const http = require('http');
const path = require('path');
const { connect } = require(path.join(__dirname, '..', 'node', 'lib', 'ws_client.js'));

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => {
  if (a.startsWith('--')) pairs.push([a.slice(2), all[i + 1]]);
  return pairs;
}, []));
const port = Number(args.port);
const key = args.key;
const tenant = args.tenant || 'lezzet-firini';
const visitors = Number(args.visitors || 20);
const rounds = Number(args.rounds || 25);
const origin = `http://127.0.0.1:${port}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function api(method, route, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? '' : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, agent, path: `/v1/tenants/${tenant}${route}`,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } },
    (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

(async () => {
  const clients = [];
  for (let v = 0; v < visitors; v++) {
    const answer = await connect({ port, path: `/v1/tenants/${tenant}/channels/widget/ws`, origin });
    const c = answer.client;
    c.send({ type: 'hello' });
    const welcome = await c.next('welcome', { timeout: 30000 });
    const visitor = welcome.visitor_token.split('.')[2];
    c.send({ type: 'message', text: 'bir yetkiliyle görüşmek istiyorum', id: 'ask' });
    await c.next((f) => f.type === 'reply' && f.id === 'ask', { timeout: 30000 });
    clients.push({ c, user: `widget:${visitor}` });
  }
  const listed = await api('GET', '/conversations?status=handed_over&channel=widget&limit=200');
  const byUser = new Map(listed.json.conversations.map((c) => [c.user_id, c.id]));
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    for (const { c, user } of clients) {
      const text = `reply ${r} to ${user}`;
      const from = c.frames.length;
      const t0 = process.hrtime.bigint();
      const posted = api('POST', `/conversations/${byUser.get(user)}/messages`, { text });
      const frame = await c.next((f) => f.type === 'reply' && f.from === 'operator' && f.reply === text, { from, timeout: 10000 });
      samples.push(Number(frame.receivedAt - t0) / 1e6);
      const done = await posted;
      if (done.status !== 202) throw new Error('POST messages answered ' + done.status);
    }
  }
  samples.sort((a, b) => a - b);
  const fixed = (x) => x.toFixed(2);
  console.log(`RESULT samples ${samples.length}`);
  console.log(`RESULT p50_ms ${fixed(percentile(samples, 50))}`);
  console.log(`RESULT p95_ms ${fixed(percentile(samples, 95))}`);
  console.log(`RESULT p99_ms ${fixed(percentile(samples, 99))}`);
  console.log(`RESULT max_ms ${fixed(samples[samples.length - 1])}`);
  for (const { c } of clients) c.destroy();
  agent.destroy();
})().catch((e) => { console.error('handoff_reply:', e.message); process.exit(1); });

// The widget benchmark (scripts/bench --only widget): many idle widget connections held open while
// a few active visitors talk, against a running `tezgah serve`.
//   node tests/bench/widget.js --port P --pid PID [--idle 5000] [--active 50] [--duration 60]
// 1. warms the server up (the active visitors each say hello and ask once, so the worker pool has
//    grown to what the load needs), then reads the server's threads and RSS ("before");
// 2. opens --idle sockets, 20 at a time, each saying hello as widget.js does, from 127.0.0.10+
//    (at most 200 per source address, under the server's per-address cap), and reads threads and
//    RSS at half and at the end;
// 3. --active visitors send a question every 3.1 s (the widget's limit is 20 a minute) for
//    --duration seconds, timing each message to its `reply` frame;
// 4. prints `RESULT key value` lines, and checks every idle socket is still open.
'use strict';
const fs = require('fs');
const path = require('path');
const { connect } = require(path.join(__dirname, '..', 'node', 'lib', 'ws_client.js'));

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => {
  if (a.startsWith('--')) pairs.push([a.slice(2), all[i + 1]]);
  return pairs;
}, []));
const port = Number(args.port);
const pid = Number(args.pid);
const idleCount = Number(args.idle || 5000);
const activeCount = Number(args.active || 50);
const duration = Number(args.duration || 60) * 1000;
const tenant = args.tenant || 'lezzet-firini';
const wsPath = `/v1/tenants/${tenant}/channels/widget/ws`;
const origin = `http://127.0.0.1:${port}`;
const perAddress = 200;
const questions = ['simit ne kadar?', 'poğaça var mı?', 'teslimat ücreti ne kadar?', 'kaçta açıksınız?',
  'çikolatalı pasta fiyatı', 'iade politikanız nedir?', 'how much is the simit?', 'do you deliver?'];

function serverFigures() {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    threads: Number(status.match(/Threads:\s+(\d+)/)[1]),
    rss_mb: Number(status.match(/VmRSS:\s+(\d+)/)[1]) / 1024,
  };
}

async function open(index) {
  const localAddress = `127.0.0.${10 + Math.floor(index / perAddress)}`;
  const answer = await connect({ port, path: wsPath, origin, localAddress, timeout: 30000 });
  if (answer.status !== 101) throw new Error(`socket ${index}: ${answer.status} ${answer.body}`);
  const client = answer.client;
  client.send({ type: 'hello' });
  await client.next('welcome', { timeout: 30000 });
  return client;
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main() {
  // 1. the active visitors, warmed up
  const active = [];
  for (let i = 0; i < activeCount; i++) active.push(await open(idleCount + i));
  await Promise.all(active.map(async (c, i) => {
    c.send({ type: 'message', text: questions[i % questions.length] });
    await c.next('reply', { timeout: 30000 });
  }));
  await new Promise((r) => setTimeout(r, 500));
  const before = serverFigures();

  // 2. the idle sockets, opened 20 at a time (the figures at half show whether threads follow sockets)
  const idle = [];
  const opened = Date.now();
  let half = null;
  for (let i = 0; i < idleCount; i += 20) {
    const batch = [];
    for (let j = i; j < Math.min(idleCount, i + 20); j++) batch.push(open(j));
    idle.push(...await Promise.all(batch));
    if (!half && idle.length >= idleCount / 2) half = serverFigures();
  }
  const openSeconds = (Date.now() - opened) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const held = serverFigures();

  // 3. the active visitors talk while the idle ones are held
  const times = [];
  let errors = 0;
  const until = Date.now() + duration;
  await Promise.all(active.map(async (c, i) => {
    await new Promise((r) => setTimeout(r, (i * 3100) / activeCount));  // spread over the interval
    let n = 0;
    while (Date.now() < until) {
      const next = Date.now() + 3100;
      const from = c.frames.length;
      const id = `b${i}-${n}`;
      const sent = process.hrtime.bigint();
      c.send({ type: 'message', text: questions[(i + n) % questions.length], id });
      n++;
      const answer = await c.next((f) => (f.type === 'reply' || f.type === 'error') && f.id === id, { from, timeout: 30000 });
      if (answer.type === 'reply') times.push(Number(answer.receivedAt - sent) / 1e6);
      else errors++;
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }));
  const after = serverFigures();
  const stillOpen = idle.filter((c) => !c.closed).length;

  times.sort((a, b) => a - b);
  const out = {
    idle_sockets: idleCount,
    idle_open_seconds: openSeconds.toFixed(1),
    idle_still_open: stillOpen,
    threads_before: before.threads,
    threads_with_half: half.threads,
    threads_with_idle: held.threads,
    threads_after: after.threads,
    rss_before_mb: before.rss_mb.toFixed(1),
    rss_with_half_mb: half.rss_mb.toFixed(1),
    rss_with_idle_mb: held.rss_mb.toFixed(1),
    rss_after_mb: after.rss_mb.toFixed(1),
    rss_added_mb: (held.rss_mb - before.rss_mb).toFixed(1),
    rss_per_socket_kb: (((held.rss_mb - before.rss_mb) * 1024) / idleCount).toFixed(1),
    active_clients: activeCount,
    round_trips: times.length,
    errors,
    rtt_p50_ms: percentile(times, 50).toFixed(2),
    rtt_p95_ms: percentile(times, 95).toFixed(2),
    rtt_p99_ms: percentile(times, 99).toFixed(2),
    rtt_max_ms: (times[times.length - 1] || NaN).toFixed(2),
  };
  for (const [k, v] of Object.entries(out)) console.log(`RESULT ${k} ${v}`);
  for (const c of [...idle, ...active]) c.destroy();
  if (stillOpen !== idleCount || errors > 0) process.exitCode = 1;
}

main().catch((e) => { console.error('widget bench:', e.message); process.exit(1); });

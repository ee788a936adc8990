// A load measurement of the console's inbox (not a test): a `tezgah serve` with 1,000
// conversations of gece-butik made through the chat API (250 of them handed over), then the
// inbox's first load in Chromium — from navigation start to the first row on screen, with a key
// already in sessionStorage — five times. Prints
//   console_inbox_first_load_ms median=.. max=..
// Run: cd tests/node && TEZGAH_BINARY_DIR=../../build node console_inbox_bench.js
'use strict';
const { startConsoleServer, createKey, launch, newPage } = require('./lib/console');

const TENANT = 'gece-butik';
const CONVERSATIONS = 1000;
const HANDED_OVER = 250;
const PARALLEL = 16;
const RUNS = 5;
const QUESTIONS = ['saten gecelik var mı?', 'kargo ne kadar sürer?', 'iade nasıl yapılır?', 'merhaba', 'pijama takımı fiyatı nedir?'];

async function turn(server, user, text) {
  const res = await fetch(`${server.url}/v1/tenants/${TENANT}/chat`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text, user_id: user }),
  });
  if (res.status !== 200) throw new Error(`chat ${user}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function fill(server) {
  let next = 0;
  let handed = 0;
  async function worker() {
    while (next < CONVERSATIONS) {
      const i = next++;
      const user = `musteri-${String(i).padStart(4, '0')}`;
      // Every fourth customer asks for a person: 250 of the 1,000.
      const text = i % 4 === 0 ? 'bir yetkiliyle görüşmek istiyorum' : QUESTIONS[i % QUESTIONS.length];
      if ((await turn(server, user, text)).handoff) handed += 1;
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return handed;
}

(async () => {
  const server = await startConsoleServer();
  let browser;
  try {
    const started = Date.now();
    const handed = await fill(server);
    if (handed < 200) throw new Error(`only ${handed} conversations were handed over`);
    process.stderr.write(`${CONVERSATIONS} conversations (${handed} handed over) in ${Date.now() - started} ms\n`);
    const key = createKey(server, { tenant: TENANT, scopes: ['conversations:read', 'conversations:write'] });
    browser = await launch();
    const times = [];
    for (let run = 0; run < RUNS; run += 1) {
      const page = await newPage(browser);
      await page.addInitScript((k) => {
        sessionStorage.setItem('tezgah.key', k);
        // The moment the first row is in the document, taken at the next frame (when it is painted).
        const seen = new MutationObserver(() => {
          if (!document.querySelector('.inbox-item')) return;
          seen.disconnect();
          requestAnimationFrame(() => { window.firstRowMs = performance.now(); });
        });
        seen.observe(document, { childList: true, subtree: true });
      }, key);
      await page.goto(`${server.url}/console/#/inbox`);
      await page.waitForFunction(() => window.firstRowMs !== undefined, null, { timeout: 30000 });
      times.push(await page.evaluate(() => window.firstRowMs));
      if (page.errors.length) throw new Error(page.errors.join('\n'));
      await page.context().close();
    }
    times.sort((a, b) => a - b);
    process.stderr.write(`runs: ${times.map((x) => x.toFixed(0)).join(' ')} ms\n`);
    console.log(`console_inbox_first_load_ms median=${times[Math.floor(RUNS / 2)].toFixed(0)} max=${times[RUNS - 1].toFixed(0)}`);
  } finally {
    if (browser) await browser.close();
    await server.stop();
  }
})().catch((e) => { console.error(e); process.exit(1); });

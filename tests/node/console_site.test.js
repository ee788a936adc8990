// The console's files as `tezgah serve` serves them at /console/: the same bytes as
// engine/console/ (embedded at build time), with the strict Content-Security-Policy on every
// answer, revalidation by ETag, gzip when asked, nothing outside the folder with --console-dir,
// and the whole console within its budget of 100 KB gzipped. No browser: plain HTTP.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { startServer, root } = require('./lib/server');

const folder = path.join(root, 'engine', 'console');
const BUDGET_BYTES = 100 * 1024;

function files(dir, prefix = '') {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const rel = prefix + entry.name;
    if (entry.isDirectory()) out.push(...files(path.join(dir, entry.name), `${rel}/`));
    else out.push(rel);
  }
  return out.sort();
}

/// A raw GET (the path exactly as given: fetch() would normalize "..").
function get(url, rawPath, headers = {}) {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = http.request({ hostname, port, path: rawPath, method: 'GET', headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

let server;
test.before(async () => { server = await startServer({ env: { TEZGAH_CONSOLE_DIR: '' } }); });
test.after(async () => { if (server) await server.stop(); });

test('every file of engine/console is served as it is, with the CSP and security headers', async () => {
  for (const rel of files(folder)) {
    const res = await get(server.url, `/console/${rel}`);
    assert.equal(res.status, 200, rel);
    assert.equal(res.body.toString('utf8'), fs.readFileSync(path.join(folder, rel), 'utf8'), `${rel}: not the file's bytes (rebuild?)`);
    const csp = res.headers['content-security-policy'];
    assert.match(csp, /default-src 'none'/, rel);
    assert.match(csp, /script-src 'self';/, rel);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, rel);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['cache-control'], 'no-cache');
  }
  const page = await get(server.url, '/console/');
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /^text\/html/);
  assert.equal(page.body.toString(), fs.readFileSync(path.join(folder, 'index.html'), 'utf8'));
  const moved = await get(server.url, '/console');
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.location, '/console/');
});

test('the page holds no inline script or style the CSP would refuse', () => {
  for (const rel of files(folder).filter((f) => f.endsWith('.html'))) {
    const html = fs.readFileSync(path.join(folder, rel), 'utf8');
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(m[1], /\bsrc=/, `${rel}: an inline <script>`);
      assert.equal(m[2].trim(), '', `${rel}: an inline <script>`);
    }
    assert.doesNotMatch(html, /\son[a-z]+=|\sstyle=|<style\b|javascript:/i, `${rel}: inline handler or style`);
  }
  for (const rel of files(folder).filter((f) => f.endsWith('.js'))) {
    const js = fs.readFileSync(path.join(folder, rel), 'utf8');
    assert.doesNotMatch(js, /\.innerHTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(/, `${rel}: builds markup from text`);
    assert.doesNotMatch(js, /setAttribute\(\s*['"]style['"]/, `${rel}: a style attribute (refused by the CSP)`);
    assert.doesNotMatch(js, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, `${rel}: a third-party host`);
  }
});

test('an unchanged file is revalidated with 304, and sent gzip-encoded when the client accepts it', async () => {
  const first = await get(server.url, '/console/js/app.js');
  const etag = first.headers.etag;
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  const again = await get(server.url, '/console/js/app.js', { 'If-None-Match': etag });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  const packed = await get(server.url, '/console/js/app.js', { 'Accept-Encoding': 'gzip, br' });
  assert.equal(packed.headers['content-encoding'], 'gzip');
  assert.ok(packed.body.length < first.body.length / 2, `gzip ${packed.body.length} of ${first.body.length} bytes`);
  assert.equal(zlib.gunzipSync(packed.body).toString(), first.body.toString());
  const refused = await get(server.url, '/console/js/app.js', { 'Accept-Encoding': 'gzip;q=0' });
  assert.equal(refused.headers['content-encoding'], undefined);
});

test('unknown files, other methods and paths out of the folder are refused', async () => {
  assert.equal((await get(server.url, '/console/nope.js')).status, 404);
  assert.equal((await get(server.url, '/console/../openapi.json')).status, 404);
  const post = await fetch(`${server.url}/console/`, { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});

test('with --console-dir the folder is served as it is now, and nothing outside it', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tezgah-console-dir-'));
  const dir = path.join(work, 'console');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>first</title>');
  fs.writeFileSync(path.join(work, 'secret.js'), 'TOP-SECRET-CONTENT');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a console file type');
  const dev = await startServer({ args: ['--console-dir', dir] });
  try {
    assert.match((await get(dev.url, '/console/')).body.toString(), /first/);
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>second</title>');
    assert.match((await get(dev.url, '/console/')).body.toString(), /second/);
    for (const p of ['/console/../secret.js', '/console/%2e%2e/secret.js', '/console/..%2fsecret.js', '/console/notes.txt', '/console//etc/passwd']) {
      const res = await get(dev.url, p);
      assert.equal(res.status, 404, p);
      assert.doesNotMatch(res.body.toString(), /TOP-SECRET-CONTENT|root:x:/, p);
    }
  } finally {
    await dev.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('the whole console is within 100 KB gzipped', () => {
  let total = 0;
  const sizes = [];
  for (const rel of files(folder)) {
    const packed = zlib.gzipSync(fs.readFileSync(path.join(folder, rel)), { level: 9 }).length;
    total += packed;
    sizes.push(`${rel} ${packed}`);
  }
  console.log(`console_gzip_bytes total=${total} budget=${BUDGET_BYTES}\n  ${sizes.join('\n  ')}`);
  assert.ok(total <= BUDGET_BYTES, `the console is ${total} bytes gzipped, over ${BUDGET_BYTES}`);
});

// Starts a real `tezgah serve` for a test: a temporary folder with the given tenants and a SQLite
// database, on a free loopback port. stop() ends it and removes the folder.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..', '..', '..');
const binaryDir = process.env.TEZGAH_BINARY_DIR || path.join(root, 'build');
const tezgah = path.join(binaryDir, 'bin', 'tezgah');

/// Copies the shipped tenants (tenants/) into a temp folder, then applies `edit(id, manifest)`.
function tenantsDir(work, edit) {
  const dir = path.join(work, 'tenants');
  fs.cpSync(path.join(root, 'tenants'), dir, { recursive: true });
  for (const id of fs.readdirSync(dir)) {
    const file = path.join(dir, id, 'tenant.json');
    if (!fs.existsSync(file)) continue;
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (edit) edit(id, manifest);
    fs.writeFileSync(file, JSON.stringify(manifest, null, 2));
  }
  return dir;
}

/// Starts the server (`edit(id, manifest)` changes the copied manifests, `prepare(dir)` may add
/// tenants to the folder); resolves {url, port, proc, work, stop(), restart()}.
async function startServer({ edit, prepare, work, port = 0, env = {}, args = [] } = {}) {
  work = work || fs.mkdtempSync(path.join(os.tmpdir(), 'tezgah-widget-'));
  let tenants = path.join(work, 'tenants');
  if (!fs.existsSync(tenants)) {
    tenants = tenantsDir(work, edit);
    if (prepare) prepare(tenants);
  }
  const proc = spawn(tezgah, ['serve', '--listen', `127.0.0.1:${port}`, '--tenants', tenants,
    '--db', `sqlite:${path.join(work, 'tezgah.db')}`, '--log-level', 'warn', ...args],
  { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('tezgah serve did not start: ' + stderr)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[0-9.]+:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error('tezgah serve exited ' + code + ': ' + stderr)); });
  });
  const server = {
    url, port: Number(new URL(url).port), proc, work, stderr: () => stderr,
    async stop({ keep = false } = {}) {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      if (!keep) fs.rmSync(work, { recursive: true, force: true });
    },
    /// Stops it and starts it again on the same port with the same database.
    async restart() {
      await server.stop({ keep: true });
      return startServer({ work, port: server.port, env, args });
    },
  };
  return server;
}

module.exports = { startServer, tezgah, root };

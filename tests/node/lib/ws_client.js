// A WebSocket client on a bare TCP socket (RFC 6455), for tests and the benchmark: it can send what
// a browser never would (oversized frames, binary frames, no Origin) and report what the server
// answers (the handshake's status, close codes, pings). Node 20 has no WebSocket client of its own.
'use strict';
const net = require('net');
const crypto = require('crypto');
const { EventEmitter } = require('events');

class WsClient extends EventEmitter {
  constructor(socket) {
    super();
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.frames = [];   // parsed JSON text frames received, in order
    this.waiters = [];
    this.closeCode = null;
    this.closed = false;
    socket.on('data', (d) => this._data(d));
    socket.on('close', () => { this.closed = true; this.emit('close', this.closeCode); this._wake(); });
    socket.on('error', () => {});
  }

  _data(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const b0 = this.buffer[0], b1 = this.buffer[1];
      let len = b1 & 0x7f, off = 2;
      if (len === 126) { if (this.buffer.length < 4) return; len = this.buffer.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (this.buffer.length < 10) return; len = Number(this.buffer.readBigUInt64BE(2)); off = 10; }
      if (this.buffer.length < off + len) return;
      const payload = this.buffer.subarray(off, off + len);
      this.buffer = this.buffer.subarray(off + len);
      const op = b0 & 0x0f;
      if (op === 0x1) {
        const text = payload.toString('utf8');
        let frame;
        try { frame = JSON.parse(text); } catch (e) { frame = { type: '(not json)', text }; }
        Object.defineProperty(frame, 'receivedAt', { value: process.hrtime.bigint(), enumerable: false });
        this.frames.push(frame);
        this.emit('frame', frame);
        this._wake();
      } else if (op === 0x8) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this._wake();
        try { this._send(0x8, payload.subarray(0, 2)); } catch (e) { /* gone */ }
        this.socket.end();
      } else if (op === 0x9) {
        this.pings = (this.pings || 0) + 1;
        this._send(0xA, payload);
      } else if (op === 0xA) {
        this.emit('pong', payload);
        this._wake();
      }
    }
  }

  _wake() { const w = this.waiters; this.waiters = []; w.forEach((f) => f()); }

  _send(opcode, payload) {
    const mask = crypto.randomBytes(4);
    const len = payload.length;
    let head;
    if (len < 126) { head = Buffer.alloc(2); head[1] = 0x80 | len; }
    else if (len < 65536) { head = Buffer.alloc(4); head[1] = 0x80 | 126; head.writeUInt16BE(len, 2); }
    else { head = Buffer.alloc(10); head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(len), 2); }
    head[0] = 0x80 | opcode;
    const masked = Buffer.alloc(len);
    for (let i = 0; i < len; i++) masked[i] = payload[i] ^ mask[i & 3];
    this.socket.write(Buffer.concat([head, mask, masked]));
  }

  sendText(text) { this._send(0x1, Buffer.from(text, 'utf8')); }
  send(obj) { this.sendText(JSON.stringify(obj)); }
  sendBinary(buf) { this._send(0x2, buf); }
  ping(data = 'p') { this._send(0x9, Buffer.from(data)); }
  close(code = 1000) { const b = Buffer.alloc(2); b.writeUInt16BE(code); this._send(0x8, b); }
  destroy() { this.socket.destroy(); }

  /// Resolves with the first received frame (from index `from` on) that `match` accepts.
  next(match, { from = 0, timeout = 10000 } = {}) {
    const pred = typeof match === 'string' ? (f) => f.type === match : match;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching frame within ' + timeout + ' ms; got ' +
        JSON.stringify(this.frames.slice(from).map((f) => f.type)))), timeout);
      const check = () => {
        const found = this.frames.slice(from).find(pred);
        if (found) { clearTimeout(timer); return resolve(found); }
        if (this.closed) { clearTimeout(timer); return reject(new Error('socket closed (code ' + this.closeCode + ')')); }
        this.waiters.push(check);
      };
      check();
    });
  }

  /// Resolves with the close code once the server closed the socket.
  closedWith(timeout = 10000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not closed within ' + timeout + ' ms')), timeout);
      const check = () => {
        if (this.closed || this.closeCode !== null) { clearTimeout(timer); return resolve(this.closeCode); }
        this.waiters.push(check);
      };
      check();
    });
  }
}

/// Opens a WebSocket to ws://host:port/path. Resolves {status, headers, client}: `client` is set
/// when the server answered 101; otherwise `body` holds the refusal.
function connect({ host = '127.0.0.1', port, path, origin, localAddress, timeout = 10000 }) {
  return new Promise((resolve, reject) => {
    const key = crypto.randomBytes(16).toString('base64');
    const socket = net.connect({ host, port, localAddress });
    socket.setNoDelay(true);
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('handshake timed out')); }, timeout);
    socket.on('error', (e) => { clearTimeout(timer); reject(e); });
    socket.on('connect', () => {
      let request = `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
      if (origin) request += `Origin: ${origin}\r\n`;
      socket.write(request + '\r\n');
    });
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      clearTimeout(timer);
      const lines = head.subarray(0, end).toString().split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const headers = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      const rest = head.subarray(end + 4);
      if (status !== 101) {
        const body = rest.toString();
        socket.destroy();
        return resolve({ status, headers, body });
      }
      const expected = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      if (headers['sec-websocket-accept'] !== expected) { socket.destroy(); return reject(new Error('bad Sec-WebSocket-Accept')); }
      const client = new WsClient(socket);
      if (rest.length) client._data(rest);
      resolve({ status, headers, client });
    };
    socket.on('data', onData);
  });
}

module.exports = { connect, WsClient };

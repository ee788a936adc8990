// The console's only way to the server: JSON requests with the signed-in principal (a key in
// sessionStorage sent as a Bearer header, or an agent's session cookie with its CSRF token), and
// the tenant's event stream read with fetch, so the key stays in a header (never in a URL).

const KEY = 'tezgah.key';
let csrfToken = null;

/** An answer the server refused: its status, the contract's error code and message, and the
 * field the message names ("price: must not be negative" → "price"). */
export class ApiError extends Error {
  constructor(status, code, message, requestId, details) {
    super(message);
    this.details = details || null;  // the whole answer: a 409 slot_taken carries its alternatives
    this.status = status;
    this.code = code;
    const m = /^([A-Za-z_][A-Za-z0-9_.[\]-]*): /.exec(message || '');
    this.field = m ? m[1] : null;
    this.requestId = requestId || null;
  }
}

export const storedKey = () => sessionStorage.getItem(KEY);
export function forgetKey() { sessionStorage.removeItem(KEY); }

/** `/v1/tenants/{tenant}{rest}` with the tenant's id encoded. */
export const tenantPath = (tenant, rest = '') => `/v1/tenants/${encodeURIComponent(tenant)}${rest}`;

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function headers(method, extra) {
  const out = { Accept: 'application/json', ...extra };
  const key = storedKey();
  if (key) out.Authorization = `Bearer ${key}`;
  else if (csrfToken && method !== 'GET' && method !== 'HEAD') out['X-CSRF-Token'] = csrfToken;
  return out;
}

/** A JSON request. Resolves the parsed answer (null for 204); rejects with ApiError. */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const extra = body === undefined ? {} : { 'Content-Type': 'application/json' };
  let res;
  try {
    res = await fetch(path, {
      method, signal, credentials: 'same-origin', cache: 'no-store',
      headers: headers(method, extra),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', e.message);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || res.statusText, err.request_id, data);
  }
  return data;
}

/** Who is signed in (GET /v1/session), or null when nobody is. */
export async function currentSession() {
  try {
    const session = await api('/v1/session');
    csrfToken = session.csrf_token || null;
    return session;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

/** Signs in with an API key: kept in sessionStorage (this tab only) once the server accepts it. */
export async function signInWithKey(key) {
  sessionStorage.setItem(KEY, key.trim());
  try {
    const session = await api('/v1/session');
    csrfToken = null;
    return session;
  } catch (e) {
    forgetKey();
    throw e;
  }
}

/** Signs an agent in: the server sets the session cookie and gives the CSRF token. */
export async function signInAgent(tenant, email, password) {
  forgetKey();
  const session = await api(tenantPath(tenant, '/session'), { method: 'POST', body: { email, password } });
  csrfToken = session.csrf_token || null;
  return { kind: 'agent', ...session };
}

export async function signOut(session) {
  if (session && session.kind === 'agent') {
    try { await api(tenantPath(session.tenant, '/session'), { method: 'DELETE' }); } catch (e) { /* gone already */ }
  }
  forgetKey();
  csrfToken = null;
}

/**
 * Follows the tenant's server-sent events with fetch (the key in a header), calling
 * onEvent(type, data) for each; reconnects after a failure with a growing pause (1 s .. 15 s)
 * until `signal` aborts. onState('open' | 'retrying') says where it is.
 */
export async function followEvents(tenant, onEvent, { signal, onState } = {}) {
  let pause = 1000;
  while (!signal || !signal.aborted) {
    try {
      const res = await fetch(tenantPath(tenant, '/events'), {
        signal, credentials: 'same-origin', cache: 'no-store',
        headers: headers('GET', { Accept: 'text/event-stream' }),
      });
      if (!res.ok || !res.body) throw new ApiError(res.status, `http_${res.status}`, res.statusText);
      if (onState) onState('open');
      pause = 1000;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = 'message';
          const data = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('event:')) type = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (!data.length) continue;  // a keep-alive comment
          try { onEvent(type, JSON.parse(data.join('\n'))); } catch (e) { /* not JSON: skipped */ }
        }
      }
    } catch (e) {
      if (signal && signal.aborted) return;
      if (e.status === 401 || e.status === 403) { if (onState) onState('refused'); return; }
    }
    if (signal && signal.aborted) return;
    if (onState) onState('retrying');
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 15000);
  }
}

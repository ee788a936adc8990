// The console's shell: sign-in, the header (business, sections, language, sound, sign-out), the
// hash router that shows one page at a time, and the one event stream every page listens to.
import { api, tenantPath, currentSession, signInWithKey, signInAgent, signOut, followEvents } from './api.js';
import { t, initLang, setLang, lang, languages, setTenantFormats } from './i18n.js';
import { h, announce, field, showError, failure } from './ui.js';
import inbox from './pages/inbox.js';
import conversation from './pages/conversation.js';
import conversations from './pages/conversations.js';
import calendar from './pages/calendar.js';
import catalog from './pages/catalog.js';
import knowledge from './pages/knowledge.js';
import analytics from './pages/analytics.js';
import staff from './pages/staff.js';

const pages = [inbox, conversations, conversation, calendar, catalog, knowledge, analytics, staff];
const TENANT_CHOICE = 'tezgah.tenant';
const SOUND = 'tezgah.sound';

const app = document.getElementById('app');
let session = null;
let profile = null;
let tenants = [];
let cleanup = null;
let events = null;
let badge = 0;
let pageTitle = '';
let audio = null;
const listeners = new Map();

/** The events hub: pages subscribe with on(type, fn) ('*' for every type) and get an off(). */
const hub = {
  on(type, fn) {
    if (!listeners.has(type)) listeners.set(type, new Set());
    listeners.get(type).add(fn);
    return () => listeners.get(type).delete(fn);
  },
  emit(type, data) {
    for (const key of [type, '*']) for (const fn of listeners.get(key) || []) {
      try { fn(data, type); } catch (e) { console.error(e); }
    }
  },
};

const can = (scope) => Boolean(session && session.scopes && session.scopes.includes(scope));
const canAny = (scopes) => !scopes || scopes.length === 0 || scopes.some(can);

function setTitle() {
  const name = profile ? profile.name : t('app.title');
  document.title = `${badge > 0 ? `(${badge}) ` : ''}${pageTitle ? `${pageTitle} · ` : ''}${name}`;
}

/** The number in the tab's title: conversations waiting for a person. */
function setBadge(n) {
  badge = Math.max(0, n | 0);
  setTitle();
  const el = document.querySelector('[data-badge=inbox]');
  if (el) { el.textContent = badge ? String(badge) : ''; el.hidden = !badge; }
}

/** A short two-tone chime (Web Audio: no file, nothing for the CSP to allow). */
function chime() {
  if (localStorage.getItem(SOUND) === 'off') return;
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    for (const [i, freq] of [[0, 880], [1, 1320]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.15);
      gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.15 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.15 + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.15);
      osc.stop(now + i * 0.15 + 0.32);
    }
    document.documentElement.dataset.chimes = String(Number(document.documentElement.dataset.chimes || 0) + 1);
  } catch (e) { /* no audio here */ }
}

function startEvents() {
  if (events) events.abort();
  if (!can('conversations:read')) return;
  events = new AbortController();
  const state = document.querySelector('[data-live]');
  followEvents(profile.id, (type, data) => {
    if (type === 'handoff') {
      setBadge(badge + 1);
      // A customer waiting rings; a colleague's take-over only counts.
      if (data.by !== 'operator') {
        chime();
        announce(t('app.handoff.new', { who: data.user_id || '' }), true);
      }
    } else if (type === 'release') {
      setBadge(badge - 1);
    }
    hub.emit(type, data);
  }, {
    signal: events.signal,
    onState(s) {
      // Events sent while the stream was down are lost: pages read their data again.
      if (s === 'open' && state && state.dataset.live === 'retrying') hub.emit('resync', {});
      if (!state) return;
      state.dataset.live = s;
      state.textContent = s === 'open' ? t('app.live.on') : t('app.live.off');
    },
  });
}

function ctx() {
  return {
    session, tenant: profile, tenants, api, events: hub, t, can, canAny, lang,
    path: (rest) => tenantPath(profile.id, rest),
    navigate: (hash) => { if (location.hash === hash) route(); else location.hash = hash; },
    setBadge, chime,
  };
}

function match(hash) {
  const path = (hash || '').split('?')[0] || '#/inbox';
  for (const page of pages) {
    const names = [];
    const pattern = new RegExp(`^${page.path.replace(/:(\w+)/g, (m, n) => { names.push(n); return '([^/]+)'; })}$`);
    const m = pattern.exec(path);
    if (m) {
      const params = {};
      names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
      const q = new URLSearchParams((hash.split('?')[1]) || '');
      for (const [k, v] of q) params[k] = v;
      return { page, params };
    }
  }
  return null;
}

function firstPage() {
  return pages.find((p) => p.nav && canAny(p.scopes));
}

async function route() {
  if (!session) return;
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  const main = document.getElementById('main');
  if (!location.hash || location.hash === '#/' || location.hash === '#') {
    const first = firstPage();
    if (first) { location.replace(first.path); return; }
  }
  const found = match(location.hash);
  main.replaceChildren();
  for (const a of document.querySelectorAll('nav.sections a')) {
    if (found && a.getAttribute('href') === found.page.path) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!found) {
    pageTitle = t('app.notfound');
    main.append(h('h1', { tabindex: '-1', class: 'page-title' }, t('app.notfound')));
  } else if (!canAny(found.page.scopes)) {
    pageTitle = t('app.forbidden');
    main.append(h('h1', { tabindex: '-1', class: 'page-title' }, t('app.forbidden')));
  } else {
    pageTitle = t(found.page.title);
    try {
      cleanup = (await found.page.render(main, found.params, ctx())) || null;
    } catch (e) {
      console.error(e);
      main.append(failure(e, route));
    }
  }
  setTitle();
  const title = main.querySelector('h1');
  if (title && document.activeElement && !main.contains(document.activeElement)) title.focus({ preventScroll: true });
}

function header() {
  const nav = h('nav', { class: 'sections', 'aria-label': t('app.nav') },
    h('ul', {}, pages.filter((p) => p.nav && canAny(p.scopes)).map((p) => h('li', {},
      h('a', { href: p.path }, t(p.nav),
        p.id === 'inbox' ? h('span', { class: 'count', 'data-badge': 'inbox', hidden: true }) : null)))));
  const language = field({
    label: t('app.language'), name: 'language', type: 'select', value: lang(),
    options: languages.map((l) => [l, l === 'tr' ? 'Türkçe' : 'English']),
  });
  language.input.addEventListener('change', () => { setLang(language.input.value); render(); });
  const sound = h('button', {
    type: 'button', class: 'btn btn-quiet', 'aria-pressed': localStorage.getItem(SOUND) === 'off' ? 'false' : 'true',
    title: t('app.sound.on'),
  }, t('app.sound'));
  sound.addEventListener('click', () => {
    const on = sound.getAttribute('aria-pressed') !== 'true';
    sound.setAttribute('aria-pressed', String(on));
    localStorage.setItem(SOUND, on ? 'on' : 'off');
    if (on) chime();
  });
  let tenantChoice = null;
  if (tenants.length > 1) {
    tenantChoice = field({
      label: t('app.tenant'), name: 'tenant', type: 'select', value: profile.id,
      options: tenants.map((x) => [x.id, x.name || x.id]),
    });
    tenantChoice.input.addEventListener('change', async () => {
      sessionStorage.setItem(TENANT_CHOICE, tenantChoice.input.value);
      await start();
    });
  }
  const who = session.kind === 'agent' ? session.agent.name : (session.key && session.key.name) || '';
  return h('header', { class: 'top' },
    h('div', { class: 'brand' },
      h('span', { class: 'logo', 'aria-hidden': 'true' }),
      h('span', { class: 'business' }, profile.name || profile.id),
      h('span', { class: 'live', 'data-live': 'closed', role: 'status' }, '')),
    nav,
    h('div', { class: 'tools' },
      tenantChoice ? tenantChoice.root : null,
      language.root, sound,
      h('span', { class: 'who' }, who),
      h('button', { type: 'button', class: 'btn btn-quiet', onClick: async () => { await signOut(session); location.hash = ''; boot(); } }, t('app.signout'))));
}

function render() {
  const skip = h('a', { class: 'skip', href: '#main-content', onClick: (e) => { e.preventDefault(); document.getElementById('main').focus(); } }, t('app.skip'));
  app.replaceChildren(skip, header(), h('main', { id: 'main', tabindex: '-1' }));
  setBadge(badge);
  startEvents();
  route();
}

async function start() {
  if (session.tenant) {
    tenants = [{ id: session.tenant }];
  } else {
    tenants = (await api('/v1/tenants')).tenants || [];
  }
  const wanted = sessionStorage.getItem(TENANT_CHOICE);
  const chosen = tenants.find((x) => x.id === wanted) || tenants[0];
  if (!chosen) throw new Error('no tenant');
  profile = await api(tenantPath(chosen.id));
  setTenantFormats(profile.timezone, profile.currency);
  if (!localStorage.getItem('tezgah.lang')) initLang(profile.language);
  badge = 0;
  render();
}

function signInView(message) {
  const tenant = field({ label: t('signin.tenant'), name: 'tenant', value: localStorage.getItem('tezgah.lastTenant') || '', required: true, attrs: { autocomplete: 'organization' } });
  const email = field({ label: t('signin.email'), name: 'email', type: 'email', required: true, attrs: { autocomplete: 'username' } });
  const password = field({ label: t('signin.password'), name: 'password', type: 'password', required: true, attrs: { autocomplete: 'current-password' } });
  const agentError = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const agentForm = h('form', { class: 'card signin', 'aria-labelledby': 'signin-agent' },
    h('h2', { id: 'signin-agent' }, t('signin.agent')), tenant.root, email.root, password.root, agentError,
    h('button', { type: 'submit', class: 'btn btn-primary' }, t('signin.submit')));
  agentForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      localStorage.setItem('tezgah.lastTenant', tenant.input.value.trim());
      session = await signInAgent(tenant.input.value.trim(), email.input.value.trim(), password.input.value);
      await start();
    } catch (err) {
      showError({ ...err, message: t('signin.failed', { message: err.message }), field: null }, {}, agentError);
    }
  });
  const key = field({ label: t('signin.key.label'), name: 'key', type: 'password', hint: t('signin.key.hint'), required: true, attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const keyError = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const keyForm = h('form', { class: 'card signin', 'aria-labelledby': 'signin-key' },
    h('h2', { id: 'signin-key' }, t('signin.key')), key.root, keyError,
    h('button', { type: 'submit', class: 'btn' }, t('signin.key.submit')));
  keyForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      session = await signInWithKey(key.input.value);
      await start();
    } catch (err) {
      showError({ message: t('signin.failed', { message: err.message }) }, {}, keyError);
    }
  });
  const language = field({ label: t('app.language'), name: 'language', type: 'select', value: lang(), options: languages.map((l) => [l, l === 'tr' ? 'Türkçe' : 'English']) });
  language.input.addEventListener('change', () => { setLang(language.input.value); signInView(); });
  document.title = t('signin.title');
  app.replaceChildren(h('main', { id: 'main', class: 'signin-page', tabindex: '-1' },
    h('div', { class: 'signin-head' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), h('h1', {}, t('signin.title'))),
    message ? h('p', { class: 'notice notice-error', role: 'alert' }, message) : null,
    h('div', { class: 'signin-forms' }, agentForm, keyForm), language.root));
}

async function boot() {
  if (events) { events.abort(); events = null; }
  if (!localStorage.getItem('tezgah.lang')) initLang(null); else setLang(localStorage.getItem('tezgah.lang'), false);
  try {
    session = await currentSession();
  } catch (e) {
    session = null;
  }
  if (!session) return signInView();
  try {
    await start();
  } catch (e) {
    session = null;
    signInView(t('app.error', { message: e.message }));
  }
}

window.addEventListener('hashchange', route);
boot();

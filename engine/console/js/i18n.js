// Turkish and English: each module adds its strings with addMessages({tr: {...}, en: {...}}),
// keys prefixed by the module's id ("inbox.empty"). The choice is kept in localStorage; without
// one, the tenant's own language when it is Turkish or English, else the browser's.

const messages = { tr: {}, en: {} };
const CHOICE = 'tezgah.lang';
let current = 'tr';
let zone = 'UTC';
let currency = 'TRY';

export const languages = ['tr', 'en'];

export function addMessages(more) {
  for (const [lang, strings] of Object.entries(more)) Object.assign(messages[lang] || (messages[lang] = {}), strings);
}

/** The string for `key` in the current language, with {name} filled from `vars`. */
export function t(key, vars) {
  let s = messages[current][key];
  if (s === undefined) s = messages.en[key];
  if (s === undefined) s = key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (vars[name] === undefined ? m : String(vars[name])));
  return s;
}

export const lang = () => current;
export const locale = () => (current === 'tr' ? 'tr-TR' : 'en-GB');

export function setLang(choice, remember = true) {
  current = languages.includes(choice) ? choice : 'en';
  if (remember) localStorage.setItem(CHOICE, current);
  document.documentElement.lang = current;
}

/** The first language: the stored choice, else the tenant's, else the browser's. */
export function initLang(tenantLanguage) {
  const stored = localStorage.getItem(CHOICE);
  if (stored && languages.includes(stored)) return setLang(stored, false);
  if (tenantLanguage && languages.includes(tenantLanguage)) return setLang(tenantLanguage, false);
  setLang((navigator.language || 'tr').toLowerCase().startsWith('tr') ? 'tr' : 'en', false);
}

/** The tenant's time zone and currency, for every date and price shown. */
export function setTenantFormats(timezone, money) {
  zone = timezone || 'UTC';
  currency = money || 'TRY';
}
export const timeZone = () => zone;

export function formatMoney(amount, code = currency) {
  if (amount === null || amount === undefined || amount === '') return '';
  try {
    return new Intl.NumberFormat(locale(), { style: 'currency', currency: code }).format(amount);
  } catch (e) {
    return `${amount} ${code}`;
  }
}

export function formatNumber(n, digits = 0) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(n);
}

const dateTimeFormats = new Map();
function formatter(options) {
  const key = `${current}|${zone}|${JSON.stringify(options)}`;
  let f = dateTimeFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale(), { timeZone: zone, ...options });
    dateTimeFormats.set(key, f);
  }
  return f;
}

/** A moment (ms since the epoch or an ISO text) on the tenant's clock. */
export const formatDateTime = (at) => formatter({ dateStyle: 'medium', timeStyle: 'short' }).format(new Date(at));
export const formatDate = (at) => formatter({ dateStyle: 'medium' }).format(new Date(at));
export const formatTime = (at) => formatter({ hour: '2-digit', minute: '2-digit' }).format(new Date(at));
export const formatWeekday = (at) => formatter({ weekday: 'short', day: 'numeric', month: 'short' }).format(new Date(at));

/** "3 min ago" for recent moments, the date and time for older ones. */
export function formatAgo(at, now = Date.now()) {
  const seconds = Math.round((new Date(at).getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  if (Math.abs(seconds) < 60) return rtf.format(seconds, 'second');
  if (Math.abs(seconds) < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (Math.abs(seconds) < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return formatDateTime(at);
}

/** YYYY-MM-DD of a moment on the tenant's clock. */
export function localDate(at) {
  const parts = formatter({ year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(at));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

addMessages({
  tr: {
    'app.title': 'Tezgah',
    'app.skip': 'İçeriğe geç',
    'app.signout': 'Çıkış',
    'app.language': 'Dil',
    'app.tenant': 'İşletme',
    'app.sound': 'Ses',
    'app.sound.on': 'Yeni devir isteklerinde ses çal',
    'app.nav': 'Bölümler',
    'app.menu': 'Menü',
    'app.loading': 'Yükleniyor…',
    'app.error': 'Bir şey ters gitti: {message}',
    'app.retry': 'Tekrar dene',
    'app.more': 'Daha fazla göster',
    'app.none': 'Kayıt yok.',
    'app.save': 'Kaydet',
    'app.saved': 'Kaydedildi.',
    'app.cancel': 'Vazgeç',
    'app.delete': 'Sil',
    'app.edit': 'Düzenle',
    'app.close': 'Kapat',
    'app.search': 'Ara',
    'app.forbidden': 'Bu bölüm için yetkiniz yok.',
    'app.notfound': 'Böyle bir sayfa yok.',
    'app.live.on': 'Canlı',
    'app.live.off': 'Bağlantı bekleniyor',
    'app.handoff.new': 'Yeni devir isteği: {who}',
    'nav.inbox': 'Gelen kutusu',
    'nav.conversations': 'Konuşmalar',
    'nav.calendar': 'Takvim',
    'nav.catalog': 'Katalog',
    'nav.knowledge': 'Bilgi bankası',
    'nav.analytics': 'Analiz',
    'nav.staff': 'Ekip',
    'signin.title': 'Tezgah konsoluna giriş',
    'signin.agent': 'Hesabınızla girin',
    'signin.tenant': 'İşletme kimliği',
    'signin.email': 'E-posta',
    'signin.password': 'Parola',
    'signin.submit': 'Giriş yap',
    'signin.key': 'API anahtarıyla girin',
    'signin.key.label': 'API anahtarı',
    'signin.key.hint': 'Anahtar yalnızca bu sekmede tutulur; sekme kapanınca unutulur.',
    'signin.key.submit': 'Anahtarla gir',
    'signin.failed': 'Giriş yapılamadı: {message}',
  },
  en: {
    'app.title': 'Tezgah',
    'app.skip': 'Skip to content',
    'app.signout': 'Sign out',
    'app.language': 'Language',
    'app.tenant': 'Business',
    'app.sound': 'Sound',
    'app.sound.on': 'Play a sound on new handoffs',
    'app.nav': 'Sections',
    'app.menu': 'Menu',
    'app.loading': 'Loading…',
    'app.error': 'Something went wrong: {message}',
    'app.retry': 'Try again',
    'app.more': 'Show more',
    'app.none': 'Nothing here.',
    'app.save': 'Save',
    'app.saved': 'Saved.',
    'app.cancel': 'Cancel',
    'app.delete': 'Delete',
    'app.edit': 'Edit',
    'app.close': 'Close',
    'app.search': 'Search',
    'app.forbidden': 'You do not have access to this section.',
    'app.notfound': 'There is no such page.',
    'app.live.on': 'Live',
    'app.live.off': 'Reconnecting',
    'app.handoff.new': 'New handoff: {who}',
    'nav.inbox': 'Inbox',
    'nav.conversations': 'Conversations',
    'nav.calendar': 'Calendar',
    'nav.catalog': 'Catalog',
    'nav.knowledge': 'Knowledge',
    'nav.analytics': 'Analytics',
    'nav.staff': 'Staff',
    'signin.title': 'Sign in to the Tezgah console',
    'signin.agent': 'Sign in with your account',
    'signin.tenant': 'Business id',
    'signin.email': 'E-mail',
    'signin.password': 'Password',
    'signin.submit': 'Sign in',
    'signin.key': 'Sign in with an API key',
    'signin.key.label': 'API key',
    'signin.key.hint': 'The key is kept in this tab only and forgotten when it closes.',
    'signin.key.submit': 'Sign in with the key',
    'signin.failed': 'Could not sign in: {message}',
  },
});

// Finding conversations: by a word of their text, status, channel and the days of their last
// activity. The filters live in the address (#/conversations?q=...), so Back returns to a search.
import { addMessages, t, formatDateTime } from '../i18n.js';
import { h, heading, field, moreButton, failure, announce } from '../ui.js';
import { query } from '../api.js';
import { customerName, channelName, statusBadge } from './talk.js';

async function render(main, params, ctx) {
  const q = field({ label: t('conversations.q'), name: 'q', type: 'search', value: params.q || '', attrs: { maxlength: 200 } });
  const status = field({
    label: t('conversations.filter.status'), name: 'status', type: 'select', value: params.status || '',
    options: [['', t('conversations.any')], ...['handed_over', 'bot', 'closed'].map((s) => [s, t(`conversations.status.${s}`)])],
  });
  const channels = [...new Set([...(ctx.tenant.channels || []), 'api', params.channel].filter(Boolean))];
  const channel = field({
    label: t('conversations.filter.channel'), name: 'channel', type: 'select', value: params.channel || '',
    options: [['', t('conversations.any')], ...channels.map((c) => [c, channelName(c)])],
  });
  const from = field({ label: t('conversations.from'), name: 'from', type: 'date', value: params.from || '' });
  const to = field({ label: t('conversations.to'), name: 'to', type: 'date', value: params.to || '' });
  const fields = { q, status, channel, from, to };
  const form = h('form', { role: 'search', class: 'toolbar search', 'aria-label': t('conversations.search') },
    Object.values(fields).map((f) => f.root), h('button', { type: 'submit', class: 'btn btn-primary' }, t('app.search')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const wanted = {};
    for (const [name, f] of Object.entries(fields)) wanted[name] = f.input.value.trim();
    ctx.navigate(`#/conversations${query(wanted)}`);
  });

  const body = h('tbody');
  const table = h('table', { class: 'data stackable' },
    h('caption', { class: 'sr-only' }, t('conversations.results')),
    h('thead', {}, h('tr', {}, ['customer', 'channel', 'status', 'last', 'count', 'when'].map((k) => h('th', { scope: 'col' }, t(`conversations.col.${k}`))))),
    body);
  const summary = h('p', { class: 'muted', role: 'status' });
  const more = moreButton((cursor) => load(cursor));
  const filter = { q: params.q, status: params.status, channel: params.channel, from: params.from, to: params.to };
  let shown = 0;

  const cell = (key, ...content) => h('td', { 'data-label': t(`conversations.col.${key}`) }, ...content);
  async function load(cursor) {
    const page = await ctx.api(ctx.path(`/conversations${query({ ...filter, limit: 50, cursor })}`));
    for (const c of page.conversations || []) {
      const last = c.last_message;
      body.append(h('tr', {},
        cell('customer', h('a', { href: `#/conversations/${encodeURIComponent(c.id)}` }, customerName(c))),
        cell('channel', channelName(c.channel)),
        cell('status', statusBadge(c.status)),
        cell('last', last ? h('span', { class: 'clip' }, last.text) : ''),
        cell('count', c.message_count === undefined ? '' : String(c.message_count)),
        cell('when', formatDateTime((last && last.at) || c.updated_at))));
      shown += 1;
    }
    more.set(page.next);
    summary.textContent = shown ? t(page.next ? 'conversations.shown.more' : shown === 1 ? 'conversations.shown.one' : 'conversations.shown', { n: shown }) : t('conversations.none');
    table.hidden = !shown;
    if (cursor) announce(summary.textContent);
  }

  main.append(heading(t('conversations.title')), form, summary, h('div', { class: 'table-box' }, table), more.root);
  try {
    await load(null);
  } catch (e) {
    const f = e.field && fields[e.field] ? fields[e.field] : null;
    if (f) f.set(e.message); else main.append(failure(e, () => ctx.navigate(location.hash)));
  }
  return null;
}

export default {
  id: 'conversations',
  path: '#/conversations',
  nav: 'nav.conversations',
  title: 'conversations.title',
  scopes: ['conversations:read'],
  render,
};

addMessages({
  tr: {
    'conversations.title': 'Konuşmalar',
    'conversations.search': 'Konuşma ara',
    'conversations.q': 'Metinde geçen',
    'conversations.filter.status': 'Durum',
    'conversations.filter.channel': 'Kanal',
    'conversations.any': 'Hepsi',
    'conversations.from': 'Başlangıç günü',
    'conversations.to': 'Bitiş günü',
    'conversations.results': 'Bulunan konuşmalar',
    'conversations.col.customer': 'Müşteri',
    'conversations.col.channel': 'Kanal',
    'conversations.col.status': 'Durum',
    'conversations.col.last': 'Son mesaj',
    'conversations.col.count': 'Mesaj',
    'conversations.col.when': 'Son etkinlik',
    'conversations.shown': '{n} konuşma',
    'conversations.shown.one': '1 konuşma',
    'conversations.shown.more': 'İlk {n} konuşma gösteriliyor',
    'conversations.none': 'Aramaya uyan konuşma yok.',
  },
  en: {
    'conversations.title': 'Conversations',
    'conversations.search': 'Search conversations',
    'conversations.q': 'Text contains',
    'conversations.filter.status': 'Status',
    'conversations.filter.channel': 'Channel',
    'conversations.any': 'Any',
    'conversations.from': 'From day',
    'conversations.to': 'To day',
    'conversations.results': 'Conversations found',
    'conversations.col.customer': 'Customer',
    'conversations.col.channel': 'Channel',
    'conversations.col.status': 'Status',
    'conversations.col.last': 'Last message',
    'conversations.col.count': 'Messages',
    'conversations.col.when': 'Last activity',
    'conversations.shown': '{n} conversations',
    'conversations.shown.one': '1 conversation',
    'conversations.shown.more': 'The first {n} conversations',
    'conversations.none': 'No conversation matches.',
  },
});

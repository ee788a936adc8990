// The inbox: conversations waiting for a person, newest handover first, kept current from the
// event stream (a handoff adds one at the top, a release removes it, a message or an assignment
// updates it) without a reload.
import { addMessages, t, formatDateTime } from '../i18n.js';
import { h, heading, moreButton, failure, announce } from '../ui.js';
import { query } from '../api.js';
import { customerName, channelName, priorityBadge, reasonText, waited } from './talk.js';

const FILTERS = [['all', ''], ['mine', 'me'], ['none', 'none']];

function render(main, params, ctx) {
  const agent = ctx.session.kind === 'agent';
  let filter = (agent && sessionStorage.getItem('tezgah.inbox.filter')) || 'all';
  const rows = new Map();  // conversation id -> {item, li}
  const list = h('ul', { class: 'list inbox', 'aria-labelledby': 'inbox-title' });
  const empty = h('p', { class: 'muted' }, t('inbox.empty'));
  const status = h('p', { class: 'muted inbox-count', role: 'status' });
  const more = moreButton((cursor) => load(cursor));
  let generation = 0;

  const count = () => {
    status.textContent = t(more.root.hidden ? 'inbox.count' : 'inbox.count.more', { n: rows.size });
    empty.hidden = rows.size > 0;
    if (filter === 'all') ctx.setBadge(rows.size);
  };

  const since = (c) => (c.ticket && c.ticket.created_at) || c.handed_over_at || c.updated_at;

  function row(c) {
    const last = c.last_message;
    const lastLabel = last ? t(`inbox.from.${last.from}`) : '';
    return h('li', { class: 'inbox-item', dataset: { id: c.id } },
      h('div', { class: 'inbox-head' },
        h('h2', { class: 'inbox-who' }, h('a', { href: `#/conversations/${encodeURIComponent(c.id)}` }, customerName(c))),
        h('span', { class: 'muted' }, channelName(c.channel)),
        c.ticket ? priorityBadge(c.ticket.priority) : null),
      c.ticket && c.ticket.reason ? h('p', { class: 'inbox-reason' }, h('strong', {}, t('inbox.reason')), ' ', reasonText(c.ticket.reason)) : null,
      last ? h('p', { class: 'inbox-last' }, h('span', { class: 'muted' }, `${lastLabel}: `), last.text) : null,
      h('p', { class: 'inbox-meta muted' },
        h('span', { title: formatDateTime(since(c)) }, t('inbox.waiting', { time: waited(since(c)) })), ' · ',
        h('span', {}, c.assignee ? t('inbox.assignee', { name: c.assignee.name }) : t('conversations.unassigned'))));
  }

  function put(c, top) {
    const old = rows.get(c.id);
    const li = row(c);
    if (old) {
      if (top) { old.li.remove(); list.prepend(li); } else old.li.replaceWith(li);
    } else if (top) list.prepend(li);
    else list.append(li);
    rows.set(c.id, { item: c, li });
  }

  function drop(id) {
    const old = rows.get(id);
    if (!old) return;
    old.li.remove();
    rows.delete(id);
  }

  const wanted = (c) => filter === 'all' || (filter === 'none' ? !c.assignee
    : Boolean(c.assignee) && agent && c.assignee.id === ctx.session.agent.id);

  async function load(cursor) {
    const mine = ++generation;
    const assignee = FILTERS.find(([f]) => f === filter)[1];
    const page = await ctx.api(ctx.path(`/conversations${query({ status: 'handed_over', assignee, limit: 50, cursor })}`));
    if (mine !== generation) return;
    if (!cursor) { list.replaceChildren(); rows.clear(); }
    for (const c of page.conversations || []) if (!rows.has(c.id)) put(c, false);
    more.set(page.next);
    count();
  }

  const filters = agent ? h('div', { class: 'toolbar', role: 'group', 'aria-label': t('inbox.filter') },
    FILTERS.map(([f]) => h('button', {
      type: 'button', class: 'btn', 'aria-pressed': String(f === filter), dataset: { filter: f },
      onClick: async (e) => {
        filter = f;
        sessionStorage.setItem('tezgah.inbox.filter', f);
        for (const b of e.currentTarget.parentNode.children) b.setAttribute('aria-pressed', String(b.dataset.filter === f));
        await load(null);
        announce(status.textContent);
      },
    }, t(`inbox.filter.${f}`)))) : null;

  const title = heading(t('inbox.title'));
  title.id = 'inbox-title';
  main.append(...[title, filters, status, list, empty, more.root].filter(Boolean));

  const offs = [
    ctx.events.on('resync', () => load(null).catch(() => {})),
    ctx.events.on('handoff', (e) => {
      const old = rows.get(e.conversation_id);
      const c = {
        ...(old ? old.item : { id: e.conversation_id, user_id: e.user_id, channel: e.channel, customer_name: '', assignee: null }),
        status: 'handed_over', updated_at: Date.now(),
      };
      if (e.ticket_id) c.ticket = { id: e.ticket_id, reason: e.reason, priority: e.priority, category: e.category, created_at: Date.now() };
      else if (!c.ticket) c.handed_over_at = Date.now();
      if (e.text) c.last_message = { from: 'customer', text: e.text, at: Date.now() };
      if (wanted(c)) put(c, true);
      count();
    }),
    ctx.events.on('release', (e) => { drop(e.conversation_id); count(); }),
    ctx.events.on('ticket', (e) => {
      const old = rows.get(e.conversation_id);
      if (!old || !old.item.ticket || old.item.ticket.id !== e.ticket_id) return;
      put({ ...old.item, ticket: { ...old.item.ticket, priority: e.priority, reason: e.reason, status: e.status } }, false);
    }),
    ctx.events.on('message', (e) => {
      const old = rows.get(e.conversation_id);
      if (!old) return;
      put({ ...old.item, last_message: { from: e.from, text: e.text, at: e.at } }, false);
    }),
    ctx.events.on('assignment', (e) => {
      const old = rows.get(e.conversation_id);
      if (!old) return;
      const c = { ...old.item, assignee: e.assignee || null };
      if (wanted(c)) put(c, false); else drop(c.id);
      count();
    }),
  ];
  // The waiting times move on by themselves.
  const timer = setInterval(() => { for (const { item } of [...rows.values()]) put(item, false); }, 60000);

  return load(null).catch((e) => { main.append(failure(e, () => ctx.navigate('#/inbox'))); })
    .then(() => () => { clearInterval(timer); for (const off of offs) off(); });
}

export default {
  id: 'inbox',
  path: '#/inbox',
  nav: 'nav.inbox',
  title: 'inbox.title',
  scopes: ['conversations:read'],
  render,
};

addMessages({
  tr: {
    'inbox.title': 'Gelen kutusu',
    'inbox.empty': 'Bekleyen konuşma yok.',
    'inbox.count': '{n} konuşma bekliyor',
    'inbox.count.more': 'En az {n} konuşma bekliyor',
    'inbox.reason': 'Neden:',
    'inbox.waiting': 'Bekleme: {time}',
    'inbox.assignee': 'Atanan: {name}',
    'inbox.filter': 'Hangi konuşmalar',
    'inbox.filter.all': 'Tümü',
    'inbox.filter.mine': 'Bana atananlar',
    'inbox.filter.none': 'Atanmamışlar',
    'inbox.from.customer': 'Müşteri',
    'inbox.from.bot': 'Asistan',
    'inbox.from.operator': 'Personel',
  },
  en: {
    'inbox.title': 'Inbox',
    'inbox.empty': 'No conversation is waiting.',
    'inbox.count': '{n} waiting',
    'inbox.count.more': 'At least {n} waiting',
    'inbox.reason': 'Reason:',
    'inbox.waiting': 'Waiting {time}',
    'inbox.assignee': 'Assigned to {name}',
    'inbox.filter': 'Which conversations',
    'inbox.filter.all': 'All',
    'inbox.filter.mine': 'Mine',
    'inbox.filter.none': 'Unassigned',
    'inbox.from.customer': 'Customer',
    'inbox.from.bot': 'Assistant',
    'inbox.from.operator': 'Staff',
  },
});

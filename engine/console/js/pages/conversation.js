// One conversation: the whole transcript (live), the tickets, and — with conversations:write —
// take over, reply (with canned replies), release, assignment and private notes.
import { addMessages, t, formatDateTime, formatTime, localDate } from '../i18n.js';
import { h, heading, field, failure, announce, showError, badge } from '../ui.js';
import { customerName, channelName, priorityBadge, reasonText, statusBadge, mine } from './talk.js';

function when(at) {
  return localDate(at) === localDate(Date.now()) ? formatTime(at) : formatDateTime(at);
}

function message(m) {
  const calls = m.tool_calls || [];
  return h('li', { class: `msg msg-${m.from}`, dataset: { id: m.id || '' } },
    h('p', { class: 'msg-meta' },
      h('strong', {}, t(`conversation.from.${m.from}`)), ' ',
      h('time', { datetime: new Date(m.at).toISOString() }, when(m.at)),
      m.from === 'bot' && m.method ? h('span', { class: 'muted' }, ` · ${t('conversation.method', { method: m.method })}`) : null),
    h('p', { class: 'msg-text' }, m.text),
    calls.length ? h('details', { class: 'msg-tools' },
      h('summary', {}, t('conversation.tools', { n: calls.length })),
      h('ul', {}, calls.map((c) => h('li', {},
        h('code', {}, c.name), ' ', badge(c.ok ? 'ok' : 'failed', c.ok ? t('conversation.tool.ok') : t('conversation.tool.failed')),
        h('pre', {}, JSON.stringify(c.arguments, null, 1)))))) : null,
    m.handoff ? h('p', { class: 'msg-handoff' }, t('conversation.handoff')) : null);
}

async function render(main, { id }, ctx) {
  const path = (rest = '') => ctx.path(`/conversations/${encodeURIComponent(id)}${rest}`);
  const write = ctx.can('conversations:write');
  const admin = ctx.can('tenant:admin');
  const agent = ctx.session.kind === 'agent';
  let c;
  try {
    c = await ctx.api(path());
  } catch (e) {
    main.append(heading(t('conversation.title')), failure(e, () => ctx.navigate(location.hash)));
    return null;
  }
  const seen = new Set();
  const lines = h('ol', { class: 'lines' });
  const log = h('div', { class: 'transcript', role: 'log', tabindex: '0', 'aria-label': t('conversation.transcript') }, lines);
  const add = (m) => {
    if (m.id && seen.has(m.id)) return;
    if (m.id) seen.add(m.id);
    lines.append(message(m));
    log.scrollTop = log.scrollHeight;
  };
  for (const m of c.messages || []) add(m);

  // The conversation's state and what can be done with it.
  const facts = h('p', { class: 'conv-facts' });
  const actions = h('div', { class: 'toolbar conv-actions' });
  const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const act = async (fn) => {
    error.hidden = true;
    try { await fn(); } catch (e) { showError(e, {}, error); }
  };
  function head() {
    facts.replaceChildren(statusBadge(c.status), ' ', h('span', {}, channelName(c.channel)), ' · ',
      h('span', {}, c.assignee ? t('conversation.assignee', { name: c.assignee.name }) : t('conversations.unassigned')));
    actions.replaceChildren();
    if (!write) return;
    if (c.status !== 'handed_over') {
      actions.append(h('button', { type: 'button', class: 'btn btn-primary', onClick: () => act(async () => {
        Object.assign(c, await ctx.api(path('/takeover'), { method: 'POST' }));
        head();
        announce(t('conversation.taken'));
      }) }, t('conversation.takeover')));
    } else {
      actions.append(h('button', { type: 'button', class: 'btn', onClick: () => act(async () => {
        Object.assign(c, await ctx.api(path('/release'), { method: 'POST' }));
        head();
        announce(t('conversation.released'));
      }) }, t('conversation.release')));
    }
    const assign = async (agentId) => {
      Object.assign(c, await ctx.api(path('/assignee'), { method: 'PUT', body: { agent_id: agentId } }));
      c.assignee = c.assignee || null;
      head();
      announce(c.assignee ? t('conversation.assignee', { name: c.assignee.name }) : t('conversations.unassigned'));
    };
    if (admin && agents && agents.length) {
      const choice = field({
        label: t('conversation.assign.to'), name: 'assignee', type: 'select', value: c.assignee ? c.assignee.id : '',
        options: [['', t('conversations.unassigned')], ...agents.map((a) => [a.id, a.name])],
      });
      actions.append(choice.root, h('button', { type: 'button', class: 'btn', onClick: () => act(() => assign(choice.input.value || null)) }, t('conversation.assign')));
    } else if (agent) {
      const mineNow = c.assignee && c.assignee.id === ctx.session.agent.id;
      actions.append(h('button', { type: 'button', class: 'btn', onClick: () => act(() => assign(mineNow ? null : ctx.session.agent.id)) },
        mineNow ? t('conversation.unassign') : t('conversation.assign.me')));
    }
  }
  let agents = null;
  if (write && admin) {
    try { agents = ((await ctx.api(ctx.path('/agents'))).agents || []).filter((a) => !a.disabled); } catch (e) { agents = null; }
  }
  head();

  // The reply box with canned replies.
  let replyForm = null;
  let canned = [];
  const cannedChoice = field({ label: t('conversation.canned'), name: 'canned', type: 'select', options: [] });
  const fillCanned = () => {
    cannedChoice.input.replaceChildren(...canned.map((r) => h('option', { value: r.id }, r.shared ? `${r.title} (${t('conversation.canned.shared')})` : r.title)));
    cannedChoice.root.parentNode && (cannedChoice.root.parentNode.hidden = !canned.length);
  };
  const loadCanned = async () => {
    try { canned = (await ctx.api(ctx.path('/canned-replies'))).canned_replies || []; } catch (e) { canned = []; }
    fillCanned();
  };
  let reply = null;
  if (write) {
    reply = field({ label: t('conversation.reply'), name: 'text', type: 'textarea', hint: t('conversation.reply.hint'), required: true, attrs: { maxlength: 4096, rows: 3 } });
    const replyError = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
    const insert = h('div', { class: 'toolbar canned-pick', hidden: true }, cannedChoice.root,
      h('button', { type: 'button', class: 'btn', onClick: () => {
        const r = canned.find((x) => x.id === cannedChoice.input.value);
        if (!r) return;
        const box = reply.input;
        const at = box.selectionStart ?? box.value.length;
        box.value = box.value.slice(0, at) + r.text + box.value.slice(box.selectionEnd ?? at);
        box.focus();
        announce(t('conversation.canned.inserted', { title: r.title }));
      } }, t('conversation.canned.insert')));
    const manage = h('button', { type: 'button', class: 'btn btn-quiet', onClick: (e) => cannedDialog(e.currentTarget) }, t('conversation.canned.manage'));
    replyForm = h('form', { class: 'card reply', 'aria-label': t('conversation.reply') },
      reply.root, replyError,
      h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('conversation.send')), manage),
      insert);
    const send = () => act(async () => {
      const text = reply.input.value.trim();
      if (!text) { reply.set(t('conversation.reply.empty')); reply.input.focus(); return; }
      reply.set('');
      try {
        const sent = await ctx.api(path('/messages'), { method: 'POST', body: { text } });
        add({ id: sent.id, from: 'operator', text, at: sent.at });
        if (sent.conversation_status && sent.conversation_status !== c.status) { c.status = sent.conversation_status; head(); }
        reply.input.value = '';
        announce(t('conversation.sent'));
      } catch (e) { showError(e, { text: reply }, replyError); }
    });
    replyForm.addEventListener('submit', (e) => { e.preventDefault(); send(); });
    reply.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); }
    });
  }

  // A small dialog to add, edit and delete canned replies.
  function cannedDialog(opener) {
    const title = field({ label: t('conversation.canned.title'), name: 'title', required: true, attrs: { maxlength: 80 } });
    const text = field({ label: t('conversation.canned.text'), name: 'text', type: 'textarea', required: true, attrs: { maxlength: 4096 } });
    const shared = admin ? field({ label: t('conversation.canned.share'), name: 'shared', type: 'checkbox' }) : null;
    const formError = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
    const items = h('ul', { class: 'list canned-list' });
    let editing = null;
    const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('conversation.canned.add'));
    const reset = () => {
      editing = null; title.input.value = ''; text.input.value = ''; if (shared) shared.input.checked = false;
      save.textContent = t('conversation.canned.add');
    };
    const list = () => items.replaceChildren(...canned.map((r) => h('li', {},
      h('p', {}, h('strong', {}, r.title), ' ', r.shared ? badge('shared', t('conversation.canned.shared')) : null),
      h('p', { class: 'msg-text' }, r.text),
      mine(ctx.session, r.owner) || admin ? h('div', { class: 'toolbar' },
        h('button', { type: 'button', class: 'btn', 'aria-label': `${t('app.edit')}: ${r.title}`, onClick: () => {
          editing = r; title.input.value = r.title; text.input.value = r.text; if (shared) shared.input.checked = r.shared;
          save.textContent = t('app.save'); title.input.focus();
        } }, t('app.edit')),
        h('button', { type: 'button', class: 'btn btn-danger', 'aria-label': `${t('app.delete')}: ${r.title}`, onClick: async () => {
          try {
            await ctx.api(ctx.path(`/canned-replies/${encodeURIComponent(r.id)}`), { method: 'DELETE' });
            await loadCanned(); list(); announce(t('conversation.canned.deleted'));
          } catch (e) { showError(e, {}, formError); }
        } }, t('app.delete'))) : null)));
    const form = h('form', { class: 'stack' }, title.root, text.root, shared ? shared.root : null, formError,
      h('div', { class: 'toolbar' }, save, h('button', { type: 'reset', class: 'btn' }, t('app.cancel'))));
    form.addEventListener('reset', (e) => { e.preventDefault(); reset(); });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { title: title.input.value.trim(), text: text.input.value };
      if (shared) body.shared = shared.input.checked;
      try {
        if (editing) await ctx.api(ctx.path(`/canned-replies/${encodeURIComponent(editing.id)}`), { method: 'PUT', body });
        else await ctx.api(ctx.path('/canned-replies'), { method: 'POST', body });
        showError(null, { title, text }, formError);
        reset(); await loadCanned(); list(); announce(t('app.saved'));
      } catch (err) { showError(err, { title, text }, formError); }
    });
    const dialog = h('dialog', { 'aria-labelledby': 'canned-title', class: 'canned-dialog' },
      h('h2', { id: 'canned-title' }, t('conversation.canned.manage')), items, form,
      h('button', { type: 'button', class: 'btn', onClick: () => dialog.close() }, t('app.close')));
    dialog.addEventListener('close', () => { dialog.remove(); opener.focus(); });
    document.body.append(dialog);
    list();
    dialog.showModal();
  }

  // Private notes.
  let notesList = null;
  const notesError = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const noteIds = new Set();
  const note = (n) => h('li', { dataset: { id: n.id } },
    h('p', { class: 'msg-meta' }, h('strong', {}, n.author ? n.author.name : ''), ' ',
      h('time', { datetime: new Date(n.at).toISOString() }, when(n.at))),
    h('p', { class: 'msg-text' }, n.text),
    write && (mine(ctx.session, n.author) || admin) ? h('button', { type: 'button', class: 'btn btn-danger', 'aria-label': t('conversation.note.delete', { at: when(n.at) }), onClick: async (e) => {
      const li = e.currentTarget.closest('li');
      try {
        await ctx.api(path(`/notes/${encodeURIComponent(n.id)}`), { method: 'DELETE' });
        li.remove(); noteIds.delete(n.id); announce(t('conversation.note.deleted'));
      } catch (err) { showError(err, {}, notesError); }
    } }, t('app.delete')) : null);
  const addNote = (n) => { if (noteIds.has(n.id)) return; noteIds.add(n.id); notesList.append(note(n)); };
  notesList = h('ul', { class: 'list notes', 'aria-labelledby': 'notes-title' });
  let noteForm = null;
  if (write) {
    const text = field({ label: t('conversation.note.new'), name: 'text', type: 'textarea', required: true, attrs: { maxlength: 4000, rows: 2 } });
    noteForm = h('form', {}, text.root, h('button', { type: 'submit', class: 'btn' }, t('conversation.note.add')));
    noteForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        addNote(await ctx.api(path('/notes'), { method: 'POST', body: { text: text.input.value } }));
        text.input.value = ''; text.set(''); announce(t('conversation.note.added'));
      } catch (err) { showError(err, { text }, notesError); }
    });
  }

  const tickets = (c.tickets || []).length ? h('section', { class: 'card', 'aria-labelledby': 'tickets-title' },
    h('h2', { id: 'tickets-title' }, t('conversation.tickets')),
    h('ul', { class: 'tickets' }, c.tickets.map((k) => h('li', {},
      priorityBadge(k.priority), ' ', h('span', {}, reasonText(k.reason || k.category)), ' ',
      h('span', { class: 'muted' }, `${t(`conversation.ticket.${k.status}`)} · ${when(k.created_at)}`))))) : null;

  main.append(
    h('div', { class: 'conv-top' }, heading(customerName(c)), facts, actions, error),
    h('div', { class: 'conv-layout' },
      h('div', { class: 'conv-main' }, log, replyForm),
      h('div', { class: 'conv-side' },
        tickets,
        h('section', { class: 'card notes-card', 'aria-labelledby': 'notes-title' },
          h('h2', { id: 'notes-title' }, t('conversation.notes')),
          h('p', { class: 'notice private' }, t('conversation.notes.private')),
          notesList, notesError, noteForm))));
  log.scrollTop = log.scrollHeight;

  ctx.api(path('/notes')).then((r) => { for (const n of r.notes || []) addNote(n); })
    .catch((e) => showError(e, {}, notesError));
  if (write) loadCanned();

  const ours = (e) => e.conversation_id === id;
  const offs = [
    ctx.events.on('resync', async () => {
      try {
        Object.assign(c, await ctx.api(path()));
        lines.replaceChildren();
        seen.clear();
        for (const m of c.messages || []) add(m);
        head();
      } catch (e) { /* the next reconnection tries again */ }
    }),
    ctx.events.on('message', (e) => { if (ours(e) && e.text) add(e); }),
    ctx.events.on('handoff', (e) => { if (ours(e)) { c.status = 'handed_over'; head(); } }),
    ctx.events.on('release', (e) => { if (ours(e)) { c.status = 'bot'; head(); announce(t('conversation.released')); } }),
    ctx.events.on('assignment', (e) => { if (ours(e)) { c.assignee = e.assignee || null; head(); } }),
    ctx.events.on('note', (e) => { if (ours(e)) addNote(e); }),
  ];
  return () => { for (const off of offs) off(); };
}

export default {
  id: 'conversation',
  path: '#/conversations/:id',
  nav: null,
  title: 'conversation.title',
  scopes: ['conversations:read'],
  render,
};

addMessages({
  tr: {
    'conversation.title': 'Konuşma',
    'conversation.transcript': 'Konuşma geçmişi',
    'conversation.from.customer': 'Müşteri',
    'conversation.from.bot': 'Asistan',
    'conversation.from.operator': 'Personel',
    'conversation.method': 'yanıt: {method}',
    'conversation.tools': 'Araç çağrıları ({n})',
    'conversation.tool.ok': 'başarılı',
    'conversation.tool.failed': 'başarısız',
    'conversation.handoff': 'Burada personele devredildi',
    'conversation.assignee': 'Atanan: {name}',
    'conversation.takeover': 'Devral',
    'conversation.taken': 'Konuşmayı devraldınız; asistan susuyor.',
    'conversation.release': 'Asistana bırak',
    'conversation.released': 'Konuşma asistana bırakıldı.',
    'conversation.assign.to': 'Atanan kişi',
    'conversation.assign': 'Ata',
    'conversation.assign.me': 'Bana ata',
    'conversation.unassign': 'Atamayı kaldır',
    'conversation.reply': 'Müşteriye yanıt',
    'conversation.reply.hint': 'Ctrl+Enter ile gönderilir. Yanıt müşterinin kanalından gider.',
    'conversation.reply.empty': 'Yanıt boş olamaz.',
    'conversation.send': 'Gönder',
    'conversation.sent': 'Yanıt gönderildi.',
    'conversation.canned': 'Hazır yanıt',
    'conversation.canned.insert': 'Ekle',
    'conversation.canned.inserted': '“{title}” yanıt kutusuna eklendi.',
    'conversation.canned.manage': 'Hazır yanıtlar',
    'conversation.canned.title': 'Başlık',
    'conversation.canned.text': 'Metin',
    'conversation.canned.share': 'Tüm ekiple paylaş',
    'conversation.canned.shared': 'paylaşılan',
    'conversation.canned.add': 'Yeni hazır yanıt ekle',
    'conversation.canned.deleted': 'Hazır yanıt silindi.',
    'conversation.tickets': 'Talepler',
    'conversation.ticket.open': 'açık',
    'conversation.ticket.assigned': 'atandı',
    'conversation.ticket.resolved': 'çözüldü',
    'conversation.notes': 'Özel notlar',
    'conversation.notes.private': 'Notları yalnızca ekibiniz görür; müşteriye asla gösterilmez.',
    'conversation.note.new': 'Yeni not',
    'conversation.note.add': 'Not ekle',
    'conversation.note.added': 'Not eklendi.',
    'conversation.note.delete': '{at} notunu sil',
    'conversation.note.deleted': 'Not silindi.',
  },
  en: {
    'conversation.title': 'Conversation',
    'conversation.transcript': 'Transcript',
    'conversation.from.customer': 'Customer',
    'conversation.from.bot': 'Assistant',
    'conversation.from.operator': 'Staff',
    'conversation.method': 'reply: {method}',
    'conversation.tools': 'Tool calls ({n})',
    'conversation.tool.ok': 'ok',
    'conversation.tool.failed': 'failed',
    'conversation.handoff': 'Handed over to a person here',
    'conversation.assignee': 'Assigned to {name}',
    'conversation.takeover': 'Take over',
    'conversation.taken': 'You have taken over; the assistant stays silent.',
    'conversation.release': 'Give back to the assistant',
    'conversation.released': 'The conversation is back with the assistant.',
    'conversation.assign.to': 'Assigned to',
    'conversation.assign': 'Assign',
    'conversation.assign.me': 'Assign to me',
    'conversation.unassign': 'Unassign',
    'conversation.reply': 'Reply to the customer',
    'conversation.reply.hint': 'Ctrl+Enter sends. The reply goes out on the customer\'s channel.',
    'conversation.reply.empty': 'The reply is empty.',
    'conversation.send': 'Send',
    'conversation.sent': 'Reply sent.',
    'conversation.canned': 'Canned reply',
    'conversation.canned.insert': 'Insert',
    'conversation.canned.inserted': '“{title}” inserted into the reply.',
    'conversation.canned.manage': 'Canned replies',
    'conversation.canned.title': 'Title',
    'conversation.canned.text': 'Text',
    'conversation.canned.share': 'Share with the whole team',
    'conversation.canned.shared': 'shared',
    'conversation.canned.add': 'Add a canned reply',
    'conversation.canned.deleted': 'Canned reply deleted.',
    'conversation.tickets': 'Tickets',
    'conversation.ticket.open': 'open',
    'conversation.ticket.assigned': 'assigned',
    'conversation.ticket.resolved': 'resolved',
    'conversation.notes': 'Private notes',
    'conversation.notes.private': 'Only your team sees notes; the customer never does.',
    'conversation.note.new': 'New note',
    'conversation.note.add': 'Add note',
    'conversation.note.added': 'Note added.',
    'conversation.note.delete': 'Delete the note of {at}',
    'conversation.note.deleted': 'Note deleted.',
  },
});

// The knowledge base and the business's information texts: entries searched and paged
// (GET .../knowledge), info texts (GET .../info); with knowledge:write entries are added, edited
// (PUT) and deleted (DELETE, confirmed) and info texts edited, the server's message at its field.
import { h, heading, field, moreButton, failure, announce } from '../ui.js';
import { t, addMessages, formatNumber } from '../i18n.js';
import { query } from '../api.js';
import { formDialog, confirmDialog } from './manage.js';

addMessages({
  tr: {
    'knowledge.entries': 'Sorular ve yanıtlar', 'knowledge.info': 'İşletme bilgileri',
    'knowledge.search': 'Bilgi bankasında ara', 'knowledge.total': '{count} kayıt', 'knowledge.one': '1 kayıt', 'knowledge.empty': 'Aramaya uyan kayıt yok.',
    'knowledge.add': 'Yeni soru ekle', 'knowledge.add.title': 'Yeni soru ve yanıt', 'knowledge.edit': '{name} düzenle',
    'knowledge.delete': '{name} sil', 'knowledge.delete.ask': '“{name}” silinsin mi?', 'knowledge.deleted': 'Silindi: {name}.',
    'knowledge.question': 'Soru', 'knowledge.answer': 'Yanıt', 'knowledge.category': 'Kategori',
    'knowledge.keywords': 'Anahtar kelimeler', 'knowledge.keywords.hint': 'Virgülle ayırın: otopark, park yeri',
    'knowledge.saved': 'Kaydedildi: {name}.', 'knowledge.text': 'Metin', 'knowledge.info.edit': '{name} metnini düzenle',
    'knowledge.info.none': 'Bilgi metni yok.',
  },
  en: {
    'knowledge.entries': 'Questions and answers', 'knowledge.info': 'Business information',
    'knowledge.search': 'Search the knowledge base', 'knowledge.total': '{count} entries', 'knowledge.one': '1 entry', 'knowledge.empty': 'Nothing matches the search.',
    'knowledge.add': 'Add a question', 'knowledge.add.title': 'New question and answer', 'knowledge.edit': 'Edit {name}',
    'knowledge.delete': 'Delete {name}', 'knowledge.delete.ask': 'Delete “{name}”?', 'knowledge.deleted': 'Deleted: {name}.',
    'knowledge.question': 'Question', 'knowledge.answer': 'Answer', 'knowledge.category': 'Category',
    'knowledge.keywords': 'Keywords', 'knowledge.keywords.hint': 'Separated by commas: parking, car park',
    'knowledge.saved': 'Saved: {name}.', 'knowledge.text': 'Text', 'knowledge.info.edit': 'Edit the text of {name}',
    'knowledge.info.none': 'No information texts.',
  },
});

// An id for a new entry from its question: lower case, Turkish letters folded, words joined by '-'.
const FOLD = { ç: 'c', ğ: 'g', ı: 'i', ö: 'o', ş: 's', ü: 'u', â: 'a', î: 'i', û: 'u' };
const slug = (text) => text.toLocaleLowerCase('tr').replace(/[çğıöşüâîû]/g, (c) => FOLD[c])
  .normalize('NFD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'soru';

export default {
  id: 'knowledge',
  path: '#/knowledge',
  nav: 'nav.knowledge',
  title: 'nav.knowledge',
  scopes: [],
  render(main, params, ctx) {
    const canEdit = ctx.can('knowledge:write');
    const search = field({ label: t('knowledge.search'), name: 'q', type: 'search' });
    const form = h('form', { role: 'search', class: 'toolbar' }, search.root, h('button', { type: 'submit', class: 'btn' }, t('app.search')));
    const total = h('p', { class: 'muted', role: 'status' });
    const list = h('ul', { class: 'list kb-list' });
    const more = moreButton((cursor) => load(cursor));
    const infoBox = h('div');
    const known = new Set();
    let q = '';

    function entry(e) {
      known.add(e.id);
      const meta = [e.category, (e.keywords || []).join(', ')].filter(Boolean).join(' · ');
      const li = h('li', { dataset: { id: e.id } },
        h('h3', {}, e.question), h('p', { class: 'kb-answer' }, e.answer),
        meta ? h('p', { class: 'kb-meta' }, meta) : null,
        canEdit ? h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn', 'aria-label': t('knowledge.edit', { name: e.question }), onClick: () => edit(e) }, t('app.edit')),
          h('button', { type: 'button', class: 'btn btn-danger', 'aria-label': t('knowledge.delete', { name: e.question }), onClick: () => remove(e) }, t('app.delete'))) : null);
      return li;
    }
    const find = (id) => [...list.children].find((li) => li.dataset.id === id);

    function edit(e) {
      const fields = {
        question: field({ label: t('knowledge.question'), name: 'question', value: e && e.question, required: true }),
        answer: field({ label: t('knowledge.answer'), name: 'answer', type: 'textarea', value: e && e.answer, required: true }),
        category: field({ label: t('knowledge.category'), name: 'category', value: e && e.category }),
        keywords: field({ label: t('knowledge.keywords'), name: 'keywords', value: e ? (e.keywords || []).join(', ') : '', hint: t('knowledge.keywords.hint') }),
      };
      formDialog({
        title: e ? t('knowledge.edit', { name: e.question }) : t('knowledge.add.title'),
        fields,
        async save() {
          const question = fields.question.input.value.trim();
          let id = e && e.id;
          if (!id) {
            // A PUT on a taken id would replace that entry: ask which ids near it exist.
            const near = await ctx.api(ctx.path(`/knowledge${query({ q: slug(question), limit: 200 })}`));
            for (const x of near.entries || []) known.add(x.id);
            id = slug(question);
            for (let n = 2; known.has(id); n++) id = `${slug(question)}-${n}`;
          }
          const body = { ...(e || {}), question, answer: fields.answer.input.value.trim() };
          delete body.id;
          // Left empty, a text is not sent, so the server's "answer: required" lands at its field.
          for (const k of ['question', 'answer']) if (!body[k]) delete body[k];
          const category = fields.category.input.value.trim();
          if (category) body.category = category; else delete body.category;
          const keywords = fields.keywords.input.value.split(',').map((k) => k.trim()).filter(Boolean);
          if (keywords.length) body.keywords = keywords; else delete body.keywords;
          const stored = await ctx.api(ctx.path(`/knowledge/${encodeURIComponent(id)}`), { method: 'PUT', body });
          const next = entry({ id, ...body, ...(stored || {}) });
          const old = find(id);
          if (old) old.replaceWith(next); else { list.prepend(next); total.textContent = ''; }
          announce(t('knowledge.saved', { name: question }));
        },
      });
    }

    async function remove(e) {
      if (!(await confirmDialog(t('knowledge.delete.ask', { name: e.question }), t('app.delete')))) return;
      try {
        await ctx.api(ctx.path(`/knowledge/${encodeURIComponent(e.id)}`), { method: 'DELETE' });
        const old = find(e.id);
        if (old) old.remove();
        known.delete(e.id);
        announce(t('knowledge.deleted', { name: e.question }));
      } catch (err) {
        announce(err.message, true);
      }
    }

    async function load(cursor) {
      try {
        const data = await ctx.api(ctx.path(`/knowledge${query({ q, limit: 20, cursor })}`));
        if (!cursor) list.replaceChildren();
        for (const e of data.entries || []) list.append(entry(e));
        total.textContent = data.total ? (data.total === 1 ? t('knowledge.one') : t('knowledge.total', { count: formatNumber(data.total) })) : t('knowledge.empty');
        more.set(data.next);
      } catch (err) {
        list.replaceChildren(h('li', {}, failure(err, () => load(cursor))));
      }
    }

    function infoRow(key, text) {
      return h('div', { class: 'card', dataset: { key } }, h('h3', {}, key), h('p', { class: 'kb-answer' }, text),
        canEdit ? h('button', { type: 'button', class: 'btn', 'aria-label': t('knowledge.info.edit', { name: key }), onClick: () => editInfo(key, text) }, t('app.edit')) : null);
    }

    function editInfo(key, text) {
      const fields = { text: field({ label: t('knowledge.text'), name: 'text', type: 'textarea', value: text, required: true }) };
      formDialog({
        title: t('knowledge.info.edit', { name: key }),
        fields,
        async save() {
          const stored = await ctx.api(ctx.path(`/info/${encodeURIComponent(key)}`), { method: 'PUT', body: { text: fields.text.input.value } });
          const old = [...infoBox.querySelectorAll('[data-key]')].find((x) => x.dataset.key === key);
          if (old) old.replaceWith(infoRow(key, stored.text));
          announce(t('knowledge.saved', { name: key }));
        },
      });
    }

    async function loadInfo() {
      try {
        const { info } = await ctx.api(ctx.path('/info'));
        const keys = Object.keys(info || {});
        infoBox.replaceChildren(...(keys.length ? [h('div', { class: 'grid' }, keys.map((k) => infoRow(k, info[k])))] : [h('p', { class: 'muted' }, t('knowledge.info.none'))]));
      } catch (err) {
        infoBox.replaceChildren(failure(err, loadInfo));
      }
    }

    form.addEventListener('submit', (ev) => { ev.preventDefault(); q = search.input.value.trim(); load(null); });
    main.append(heading(t('nav.knowledge')),
      h('div', { class: 'section-head' }, h('h2', {}, t('knowledge.entries')),
        canEdit ? h('button', { type: 'button', class: 'btn btn-primary', onClick: () => edit(null) }, t('knowledge.add')) : null),
      form, total, list, more.root,
      h('div', { class: 'section-head' }, h('h2', {}, t('knowledge.info'))), infoBox);
    load(null);
    loadInfo();
  },
};

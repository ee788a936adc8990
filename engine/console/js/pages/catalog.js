// The catalog: the tenant's offerings, searched and paged; with catalog:write each has an Edit
// button for its price, stock and availability (PATCH .../offerings/{id}), the server's message
// shown next to the field it names.
import { h, heading, field, moreButton, failure, announce } from '../ui.js';
import { t, addMessages, formatMoney, formatNumber } from '../i18n.js';
import { query } from '../api.js';
import { formDialog, table, row, numberOrNull } from './manage.js';

addMessages({
  tr: {
    'catalog.search': 'Ürün veya hizmet ara',
    'catalog.total': '{count} kayıt', 'catalog.one': '1 kayıt',
    'catalog.name': 'Ad', 'catalog.category': 'Kategori', 'catalog.price': 'Fiyat', 'catalog.stock': 'Stok',
    'catalog.available': 'Satışta', 'catalog.actions': 'İşlem', 'catalog.yes': 'Evet', 'catalog.no': 'Hayır',
    'catalog.untracked': 'takip edilmiyor', 'catalog.edit': '{name} düzenle', 'catalog.edit.title': '{name}',
    'catalog.stock.hint': 'Boş bırakılırsa stok takip edilmez.', 'catalog.saved': '{name} kaydedildi.',
    'catalog.empty': 'Aramaya uyan kayıt yok.', 'catalog.service': 'Hizmet',
  },
  en: {
    'catalog.search': 'Search products and services',
    'catalog.total': '{count} items', 'catalog.one': '1 item',
    'catalog.name': 'Name', 'catalog.category': 'Category', 'catalog.price': 'Price', 'catalog.stock': 'Stock',
    'catalog.available': 'On sale', 'catalog.actions': 'Actions', 'catalog.yes': 'Yes', 'catalog.no': 'No',
    'catalog.untracked': 'not tracked', 'catalog.edit': 'Edit {name}', 'catalog.edit.title': '{name}',
    'catalog.stock.hint': 'Leave empty not to track the stock.', 'catalog.saved': '{name} saved.',
    'catalog.empty': 'Nothing matches the search.', 'catalog.service': 'Service',
  },
});

export default {
  id: 'catalog',
  path: '#/catalog',
  nav: 'nav.catalog',
  title: 'nav.catalog',
  scopes: [],
  render(main, params, ctx) {
    const canEdit = ctx.can('catalog:write');
    const search = field({ label: t('catalog.search'), name: 'q', type: 'search', value: params.q || '' });
    const form = h('form', { role: 'search', class: 'toolbar' }, search.root,
      h('button', { type: 'submit', class: 'btn' }, t('app.search')));
    const total = h('p', { class: 'muted', role: 'status' });
    const box = h('div');
    const more = moreButton((cursor) => load(cursor));
    const heads = [t('catalog.name'), t('catalog.category'), t('catalog.price'), t('catalog.stock'), t('catalog.available')];
    if (canEdit) heads.push(t('catalog.actions'));
    const list = table(heads, []);
    const body = list.querySelector('tbody');

    function line(o) {
      const stock = o.stock === null || o.stock === undefined ? h('span', { class: 'muted' }, t('catalog.untracked')) : formatNumber(o.stock);
      const cells = [
        [t('catalog.name'), [h('span', { class: 'strong' }, o.name), o.type === 'SERVICE' ? h('span', { class: 'muted' }, ` · ${t('catalog.service')}`) : null]],
        [t('catalog.category'), o.category || ''],
        [t('catalog.price'), formatMoney(o.price, o.currency || ctx.tenant.currency)],
        [t('catalog.stock'), stock],
        [t('catalog.available'), o.available === false ? t('catalog.no') : t('catalog.yes')],
      ];
      if (canEdit) {
        cells.push([t('catalog.actions'), h('button', {
          type: 'button', class: 'btn', 'aria-label': t('catalog.edit', { name: o.name }), onClick: () => edit(o),
        }, t('app.edit'))]);
      }
      const tr = row(cells, { dataset: { id: o.id } });
      tr.offering = o;
      return tr;
    }

    function edit(o) {
      const fields = {
        price: field({ label: t('catalog.price'), name: 'price', type: 'number', value: o.price, attrs: { step: 'any', inputmode: 'decimal' } }),
        stock: field({ label: t('catalog.stock'), name: 'stock', type: 'number', value: o.stock, hint: t('catalog.stock.hint'), attrs: { step: '1', inputmode: 'numeric' } }),
        available: field({ label: t('catalog.available'), name: 'available', type: 'checkbox', value: o.available !== false }),
      };
      formDialog({
        title: t('catalog.edit.title', { name: o.name }),
        fields,
        async save() {
          const patch = { stock: numberOrNull(fields.stock.input), available: fields.available.input.checked };
          const price = numberOrNull(fields.price.input);
          if (price !== null) patch.price = price;
          const stored = await ctx.api(ctx.path(`/offerings/${encodeURIComponent(o.id)}`), { method: 'PATCH', body: patch });
          const old = [...body.children].find((tr) => tr.offering && tr.offering.id === o.id);
          if (old) old.replaceWith(line({ ...o, ...stored }));
          announce(t('catalog.saved', { name: o.name }));
        },
      });
    }

    let q = params.q || '';
    async function load(cursor) {
      try {
        const data = await ctx.api(ctx.path(`/offerings${query({ q, limit: 20, cursor })}`));
        if (!cursor) body.replaceChildren();
        for (const o of data.offerings || []) body.append(line(o));
        total.textContent = (data.total || 0) ? (data.total === 1 ? t('catalog.one') : t('catalog.total', { count: formatNumber(data.total) })) : t('catalog.empty');
        more.set(data.next);
        box.replaceChildren(body.children.length ? list : '');
      } catch (err) {
        box.replaceChildren(failure(err, () => load(cursor)));
      }
    }
    form.addEventListener('submit', (e) => { e.preventDefault(); q = search.input.value.trim(); load(null); });
    main.append(heading(t('nav.catalog')), form, total, box, more.root);
    load(null);
  },
};

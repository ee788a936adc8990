// Analytics: a range of days (presets 7 and 30), the summary figures of GET .../analytics and
// five SVG bar charts drawn here (no library). Each chart is a <figure> whose svg says its numbers
// in its aria-label, with the same numbers in a table; each bar carries data-value.
import { h, svg, heading, field, failure, announce } from '../ui.js';
import { t, addMessages, formatNumber, formatMoney, formatDate, localDate } from '../i18n.js';
import { query } from '../api.js';

addMessages({
  tr: {
    'analytics.from': 'Başlangıç', 'analytics.to': 'Bitiş', 'analytics.apply': 'Göster',
    'analytics.last': 'Son {days} gün', 'analytics.range': '{from} – {to}',
    'analytics.conversations': 'Konuşma', 'analytics.customer': 'Müşteri mesajı', 'analytics.assistant': 'Asistan yanıtı',
    'analytics.operator': 'Temsilci mesajı', 'analytics.handoffs': 'Devir', 'analytics.handoff_rate': 'Devir oranı',
    'analytics.p50': 'Ortanca yanıt süresi', 'analytics.cache': 'Önbellekten yanıt', 'analytics.cost': 'Model maliyeti',
    'analytics.booked': 'Randevu', 'analytics.ms': '{n} ms',
    'analytics.by_day': 'Günlere göre konuşmalar', 'analytics.reasons': 'Devir nedenleri', 'analytics.methods': 'Yanıt yöntemleri',
    'analytics.models': 'Modellere göre maliyet (USD)', 'analytics.hours': 'Saatlere göre müşteri mesajları',
    'analytics.numbers': 'Sayılar', 'analytics.label': 'Ne', 'analytics.value': 'Sayı', 'analytics.nodata': 'Bu aralıkta veri yok.',
    'analytics.chart': '{title}: {values}', 'analytics.loaded': '{from} – {to} analizi gösteriliyor.',
    'analytics.method.llm': 'dil modeli', 'analytics.method.intent': 'niyet', 'analytics.method.rule': 'kural',
    'analytics.method.cache': 'önbellek', 'analytics.method.fallback': 'yanıtsız',
  },
  en: {
    'analytics.from': 'From', 'analytics.to': 'To', 'analytics.apply': 'Show',
    'analytics.last': 'Last {days} days', 'analytics.range': '{from} – {to}',
    'analytics.conversations': 'Conversations', 'analytics.customer': 'Customer messages', 'analytics.assistant': 'Assistant replies',
    'analytics.operator': 'Operator messages', 'analytics.handoffs': 'Handoffs', 'analytics.handoff_rate': 'Handoff rate',
    'analytics.p50': 'Median reply time', 'analytics.cache': 'Replies from the cache', 'analytics.cost': 'Model cost',
    'analytics.booked': 'Appointments', 'analytics.ms': '{n} ms',
    'analytics.by_day': 'Conversations per day', 'analytics.reasons': 'Handoff reasons', 'analytics.methods': 'Replies by method',
    'analytics.models': 'Cost by model (USD)', 'analytics.hours': 'Customer messages by hour',
    'analytics.numbers': 'Numbers', 'analytics.label': 'What', 'analytics.value': 'Count', 'analytics.nodata': 'No data in this range.',
    'analytics.chart': '{title}: {values}', 'analytics.loaded': 'Showing analytics for {from} – {to}.',
    'analytics.method.llm': 'language model', 'analytics.method.intent': 'intent', 'analytics.method.rule': 'rule',
    'analytics.method.cache': 'cache', 'analytics.method.fallback': 'unanswered',
  },
});

const DAY = 86400000;
const addDays = (date, n) => new Date(new Date(`${date}T12:00:00Z`).getTime() + n * DAY).toISOString().slice(0, 10);
const percent = (x) => `${formatNumber((x || 0) * 100, 1)}%`;
const W = 600;

/**
 * A bar chart: `items` [{label, value}], `text(value)` how a number is said. Vertical bars for a
 * series (days, hours), horizontal ones for categories.
 */
function chart(id, title, items, { series = false, text = (v) => formatNumber(v, 2) } = {}) {
  const captionId = `chart-${id}`;
  const said = items.map((x) => `${x.label} ${text(x.value)}`).join(', ');
  const max = Math.max(...items.map((x) => x.value), 0) || 1;
  let picture;
  if (!items.length) {
    picture = h('p', { class: 'muted' }, t('analytics.nodata'));
  } else if (series) {
    const H = 180;
    const top = 16;
    const base = H - 22;
    const step = W / items.length;
    const every = Math.ceil(items.length / 12);
    picture = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('analytics.chart', { title, values: said }) },
      svg('line', { x1: 0, x2: W, y1: base, y2: base }),
      items.map((x, i) => {
        const height = (x.value / max) * (base - top);
        return [
          svg('rect', { x: i * step + step * 0.15, width: step * 0.7, y: base - height, height, 'data-value': x.value, 'data-label': x.label }),
          i % every === 0 ? svg('text', { x: i * step + step / 2, y: H - 6, 'text-anchor': 'middle' }, x.short || x.label) : null,
          x.value && items.length <= 14 ? svg('text', { x: i * step + step / 2, y: base - height - 4, 'text-anchor': 'middle' }, text(x.value)) : null,
        ];
      }));
  } else {
    const rowH = 26;
    const H = items.length * rowH + 4;
    const left = 190;
    picture = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('analytics.chart', { title, values: said }) },
      items.map((x, i) => {
        const width = (x.value / max) * (W - left - 90);
        const y = i * rowH + 4;
        const label = x.label.length > 26 ? `${x.label.slice(0, 25)}…` : x.label;
        return [
          svg('text', { x: left - 8, y: y + 15, 'text-anchor': 'end' }, label),
          svg('rect', { x: left, y, width: Math.max(width, x.value ? 2 : 0), height: rowH - 8, 'data-value': x.value, 'data-label': x.label }),
          svg('text', { x: left + width + 6, y: y + 15 }, text(x.value)),
        ];
      }));
  }
  return h('figure', { class: 'chart', 'aria-labelledby': captionId, dataset: { chart: id } },
    h('figcaption', { id: captionId }, title), picture,
    items.length ? h('details', {}, h('summary', {}, t('analytics.numbers')),
      h('table', { class: 'data' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('analytics.label')), h('th', { scope: 'col' }, t('analytics.value')))),
        h('tbody', {}, items.map((x) => h('tr', {}, h('th', { scope: 'row' }, x.label), h('td', { dataset: { value: x.value } }, text(x.value))))))) : null);
}

export default {
  id: 'analytics',
  path: '#/analytics',
  nav: 'nav.analytics',
  title: 'nav.analytics',
  scopes: ['analytics:read'],
  render(main, params, ctx) {
    const today = localDate(Date.now());
    const from = field({ label: t('analytics.from'), name: 'from', type: 'date', value: params.from || addDays(today, -6) });
    const to = field({ label: t('analytics.to'), name: 'to', type: 'date', value: params.to || today });
    const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
    const preset = (days) => h('button', { type: 'button', class: 'btn', onClick: () => {
      to.input.value = localDate(Date.now());
      from.input.value = addDays(to.input.value, 1 - days);
      load();
    } }, t('analytics.last', { days }));
    const form = h('form', { class: 'toolbar range', 'aria-label': t('nav.analytics') }, from.root, to.root,
      h('button', { type: 'submit', class: 'btn btn-primary' }, t('analytics.apply')),
      h('div', { class: 'presets' }, preset(7), preset(30)));
    const out = h('div');
    form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
    main.append(heading(t('nav.analytics')), form, error, out);

    async function load() {
      error.hidden = true;
      from.set('');
      to.set('');
      let a;
      try {
        a = await ctx.api(ctx.path(`/analytics${query({ from: from.input.value, to: to.input.value })}`));
      } catch (err) {
        const f = { from, to }[err.field];
        if (f) f.set(err.message); else out.replaceChildren(failure(err, load));
        return;
      }
      const cost = (a.cost || []).reduce((s, c) => s + (c.cost_usd || 0), 0);
      const figures = [
        ['conversations', a.conversations],
        ['customer', a.messages.customer], ['assistant', a.messages.assistant], ['operator', a.messages.operator],
        ['handoffs', a.handoff.count], ['handoff_rate', percent(a.handoff.rate)],
        ['p50', t('analytics.ms', { n: formatNumber(a.response_time_ms.p50, 1) })], ['cache', percent(a.cache.hit_rate)],
        ['cost', formatMoney(cost, 'USD')],
      ];
      if (ctx.tenant.appointments && a.appointments) figures.push(['booked', a.appointments.booked]);
      const money = (v) => formatMoney(v, 'USD');
      const days = (a.by_day || []).map((d) => ({ label: formatDate(`${d.date}T12:00:00Z`), short: d.date.slice(8), value: d.conversations }));
      const charts = [
        chart('by_day', t('analytics.by_day'), days, { series: true, text: (v) => formatNumber(v) }),
        chart('reasons', t('analytics.reasons'), (a.handoff.reasons || []).map((r) => ({ label: r.reason || '—', value: r.count })), { text: (v) => formatNumber(v) }),
        chart('methods', t('analytics.methods'), Object.entries(a.replies_by_method || {}).map(([m, n]) => ({ label: t(`analytics.method.${m}`), value: n })), { text: (v) => formatNumber(v) }),
        chart('cost', t('analytics.models'), (a.cost || []).map((c) => ({ label: `${c.provider}/${c.model}`, value: c.cost_usd })), { text: money }),
      ];
      if (a.by_hour) {
        charts.push(chart('by_hour', t('analytics.hours'), a.by_hour.map((x) => ({ label: `${String(x.hour).padStart(2, '0')}:00`, short: String(x.hour), value: x.messages })),
          { series: true, text: (v) => formatNumber(v) }));
      }
      out.replaceChildren(
        h('h2', {}, t('analytics.range', { from: formatDate(`${a.from}T12:00:00Z`), to: formatDate(`${a.to}T12:00:00Z`) })),
        h('dl', { class: 'figures' }, figures.map(([k, v]) => h('div', { dataset: { figure: k } }, h('dt', {}, t(`analytics.${k}`)), h('dd', {}, typeof v === 'number' ? formatNumber(v) : v)))),
        h('div', { class: 'charts' }, charts));
      announce(t('analytics.loaded', { from: a.from, to: a.to }));
    }
    load();
  },
};

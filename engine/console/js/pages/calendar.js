// The calendar: one resource's week (Monday to Sunday on the tenant's clock) with its bookings
// (GET .../appointments) and the free starts of one of its services (GET .../availability); with
// appointments:write a free start books (POST), a booking moves (PATCH) or is cancelled (DELETE).
import { h, heading, field, failure, announce, badge } from '../ui.js';
import { t, addMessages, formatTime, formatDate, formatWeekday, localDate } from '../i18n.js';
import { query } from '../api.js';
import { openDialog, formDialog, confirmDialog, actions } from './manage.js';

addMessages({
  tr: {
    'calendar.off': 'Bu işletmede randevu aracı açık değil; takvimde gösterilecek randevu yok. Açmak için tenant.json dosyasındaki "tools" listesine "appointments" eklenir.',
    'calendar.resource': 'Kişi veya salon', 'calendar.service': 'Boş saatleri gösterilen hizmet',
    'calendar.prev': 'Önceki hafta', 'calendar.next': 'Sonraki hafta', 'calendar.this': 'Bu hafta',
    'calendar.week': '{from} – {to}', 'calendar.free': 'boş', 'calendar.places': '{count} yer',
    'calendar.none': 'Randevu ya da boş saat yok.', 'calendar.noservice': 'Bu kaynağa bağlı hizmet yok.',
    'calendar.book': '{time} boş: randevu ver', 'calendar.book.title': 'Randevu: {when}',
    'calendar.book.submit': 'Randevu ver', 'calendar.name': 'Müşterinin adı', 'calendar.phone': 'Telefon',
    'calendar.notes': 'Not', 'calendar.booked': 'Randevu verildi: {what}.',
    'calendar.taken': 'Bu saat dolu. Yakın boş saatler:', 'calendar.alt': '{when} seç',
    'calendar.chosen': 'Seçilen saat: {when}', 'calendar.details': '{service}, {customer}',
    'calendar.move': 'Taşı', 'calendar.move.title': 'Randevuyu taşı', 'calendar.date': 'Gün', 'calendar.time': 'Saat',
    'calendar.moved': 'Randevu taşındı: {when}.', 'calendar.cancel': 'Randevuyu iptal et',
    'calendar.cancel.ask': '{what} iptal edilsin mi?', 'calendar.cancelled': 'Randevu iptal edildi.',
    'calendar.status.completed': 'tamamlandı', 'calendar.status.no_show': 'gelmedi', 'calendar.status.confirmed': 'onaylı',
    'calendar.customer': 'Müşteri', 'calendar.with': 'Kiminle', 'calendar.when': 'Ne zaman', 'calendar.status': 'Durum',
  },
  en: {
    'calendar.off': 'This business does not use the appointments tool, so there is nothing to show here. It is turned on by adding "appointments" to the "tools" of tenant.json.',
    'calendar.resource': 'Person or room', 'calendar.service': 'Free times of',
    'calendar.prev': 'Previous week', 'calendar.next': 'Next week', 'calendar.this': 'This week',
    'calendar.week': '{from} – {to}', 'calendar.free': 'free', 'calendar.places': '{count} places',
    'calendar.none': 'No bookings or free times.', 'calendar.noservice': 'No service uses this resource.',
    'calendar.book': '{time} free: book', 'calendar.book.title': 'Book {when}',
    'calendar.book.submit': 'Book', 'calendar.name': 'Customer name', 'calendar.phone': 'Phone',
    'calendar.notes': 'Notes', 'calendar.booked': 'Booked: {what}.',
    'calendar.taken': 'That time is taken. The nearest free times:', 'calendar.alt': 'Choose {when}',
    'calendar.chosen': 'Chosen time: {when}', 'calendar.details': '{service}, {customer}',
    'calendar.move': 'Move', 'calendar.move.title': 'Move the appointment', 'calendar.date': 'Day', 'calendar.time': 'Time',
    'calendar.moved': 'Appointment moved: {when}.', 'calendar.cancel': 'Cancel the appointment',
    'calendar.cancel.ask': 'Cancel {what}?', 'calendar.cancelled': 'Appointment cancelled.',
    'calendar.status.completed': 'completed', 'calendar.status.no_show': 'no-show', 'calendar.status.confirmed': 'confirmed',
    'calendar.customer': 'Customer', 'calendar.with': 'With', 'calendar.when': 'When', 'calendar.status': 'Status',
  },
});

const DAY = 86400000;
const noon = (date) => new Date(`${date}T12:00:00Z`);
const addDays = (date, n) => new Date(noon(date).getTime() + n * DAY).toISOString().slice(0, 10);
const monday = (date) => addDays(date, -((noon(date).getUTCDay() + 6) % 7));
const slotWhen = (s) => `${formatWeekday(noon(s.date))} ${s.time}`;

export default {
  id: 'calendar',
  path: '#/calendar',
  nav: 'nav.calendar',
  title: 'nav.calendar',
  scopes: ['appointments:read'],
  render(main, params, ctx) {
    main.append(heading(t('nav.calendar')));
    const resources = (ctx.tenant.resources || []);
    if (!ctx.tenant.appointments || !resources.length) {
      main.append(h('p', { class: 'notice' }, t('calendar.off')));
      return;
    }
    const canWrite = ctx.can('appointments:write');
    const serviceName = (id) => ((ctx.tenant.services || []).find((s) => s.id === id) || { name: id }).name;
    let week = monday(params.week || localDate(Date.now()));
    const resource = field({ label: t('calendar.resource'), name: 'resource', type: 'select', value: params.resource,
      options: resources.map((r) => [r.id, r.name]) });
    if (params.resource) resource.input.value = params.resource;
    const service = field({ label: t('calendar.service'), name: 'service', type: 'select' });
    const title = h('h2', { class: 'cal-title', 'aria-live': 'polite', tabindex: '-1' });
    const grid = h('div', { class: 'cal-week' });
    const current = () => resources.find((r) => r.id === resource.input.value) || resources[0];
    const services = () => current().services || [];
    function fillServices() {
      service.input.replaceChildren(...services().map((id) => h('option', { value: id }, serviceName(id))));
      service.root.hidden = !services().length;
    }
    const step = (n) => h('button', { type: 'button', class: 'btn', onClick: () => { week = n ? addDays(week, 7 * n) : monday(localDate(Date.now())); load(); } },
      t(n < 0 ? 'calendar.prev' : n > 0 ? 'calendar.next' : 'calendar.this'));
    resource.input.addEventListener('change', () => { fillServices(); load(); });
    service.input.addEventListener('change', () => load());
    fillServices();
    main.append(h('div', { class: 'toolbar' }, resource.root, service.root,
      h('div', { class: 'cal-steps' }, step(-1), step(0), step(1))), title, grid);

    let controller = null;
    async function load() {
      if (controller) controller.abort();
      controller = new AbortController();
      const { signal } = controller;
      const days = [...Array(7).keys()].map((i) => addDays(week, i));
      title.textContent = t('calendar.week', { from: formatDate(noon(days[0])), to: formatDate(noon(days[6])) });
      try {
        const [booked, free] = await Promise.all([
          ctx.api(ctx.path(`/appointments${query({ from: days[0], to: days[6], resource: current().id })}`), { signal }),
          service.input.value
            ? ctx.api(ctx.path(`/availability${query({ service: service.input.value, date: days[0], days: 7 })}`), { signal })
            : { slots: [] },
        ]);
        const items = new Map(days.map((d) => [d, []]));
        for (const a of booked.appointments || []) {
          if (a.status === 'cancelled') continue;
          const list = items.get(localDate(a.start));
          if (list) list.push({ at: formatTime(a.start), node: booking(a) });
        }
        for (const s of free.slots || []) {
          const list = items.get(s.date);
          if (list) list.push({ at: s.time, node: slot(s, free.service) });
        }
        grid.replaceChildren(...days.map((d) => {
          const list = items.get(d).sort((a, b) => a.at.localeCompare(b.at));
          const id = `cal-${d}`;
          return h('section', { class: ['cal-day', d === localDate(Date.now()) && 'cal-today'], 'aria-labelledby': id },
            h('h3', { id }, formatWeekday(noon(d))),
            list.length ? h('ul', { class: 'cal-items' }, list.map((x) => h('li', {}, x.node)))
              : h('p', { class: 'muted' }, t('calendar.none')));
        }));
        // A redrawn week drops the focused button (a booking just made or moved): keep the place.
        if (document.activeElement === document.body) title.focus();
      } catch (err) {
        if (err.name !== 'AbortError') grid.replaceChildren(failure(err, load));
      }
    }

    function booking(a) {
      const label = `${formatTime(a.start)}–${formatTime(a.end)} ${a.service_name}, ${a.customer_name}${a.status !== 'confirmed' ? `, ${t(`calendar.status.${a.status}`)}` : ''}`;
      return h('button', { type: 'button', class: 'cal-booking', 'aria-label': label, onClick: () => details(a) },
        h('span', { class: 'cal-time' }, `${formatTime(a.start)}–${formatTime(a.end)}`),
        h('span', {}, a.service_name), h('span', { class: 'cal-who' }, a.customer_name),
        a.status !== 'confirmed' ? badge('closed', t(`calendar.status.${a.status}`)) : null);
    }

    function slot(s, svc) {
      const places = svc && svc.group ? ` · ${t('calendar.places', { count: s.places_left })}` : '';
      const text = `${s.time} ${t('calendar.free')}${places}`;
      if (!canWrite) return h('span', { class: 'cal-slot' }, text);
      return h('button', { type: 'button', class: 'cal-slot', 'aria-label': t('calendar.book', { time: s.time }) + places,
        onClick: () => book(s) }, text);
    }

    // The server's nearest free times after a refusal, each a button that picks it.
    function alternatives(err, pick) {
      const list = (err.details && err.details.alternatives) || err.alternatives || [];
      if (!list.length) return null;
      return h('div', { class: 'cal-alts' }, h('p', {}, t('calendar.taken')),
        h('ul', { class: 'cal-items' }, list.map((s) => h('li', {}, h('button', { type: 'button', class: 'btn',
          onClick: () => pick(s) }, t('calendar.alt', { when: slotWhen(s) }))))));
    }

    function book(s) {
      let chosen = s;
      const fields = {
        service: field({ label: t('calendar.service'), name: 'service', type: 'select', options: services().map((id) => [id, serviceName(id)]), value: service.input.value }),
        customer_name: field({ label: t('calendar.name'), name: 'customer_name', required: true, attrs: { autocomplete: 'off' } }),
        customer_phone: field({ label: t('calendar.phone'), name: 'customer_phone', type: 'tel', required: true, attrs: { autocomplete: 'off' } }),
      };
      const when = h('p', { class: 'strong' }, t('calendar.chosen', { when: slotWhen(s) }));
      const alts = h('div');
      const d = formDialog({
        title: t('calendar.book.title', { when: slotWhen(s) }), fields, extra: [when, alts], submit: t('calendar.book.submit'),
        async save() {
          alts.replaceChildren();
          try {
            const { appointment } = await ctx.api(ctx.path('/appointments'), { method: 'POST', body: {
              service: fields.service.input.value, date: chosen.date, time: chosen.time,
              customer_name: fields.customer_name.input.value.trim(), customer_phone: fields.customer_phone.input.value.trim(),
            } });
            announce(t('calendar.booked', { what: `${appointment.service_name}, ${formatWeekday(appointment.start)} ${formatTime(appointment.start)}` }));
            load();
          } catch (err) {
            if (err.status === 409 || err.status === 422) {
              await withAlternatives(err, fields.service.input.value, chosen);
              alts.replaceChildren(alternatives(err, (x) => {
                chosen = x;
                when.textContent = t('calendar.chosen', { when: slotWhen(x) });
                alts.replaceChildren();
                d.querySelector('button[type=submit]').focus();
              }) || '');
            }
            throw err;
          }
        },
      });
    }

    // The server's alternatives are in the refusal's body; a shell without them asks for the
    // day's free times and keeps the nearest three, as the server orders them.
    async function withAlternatives(err, svc, at) {
      if ((err.details && err.details.alternatives) || err.alternatives) return;
      try {
        const free = await ctx.api(ctx.path(`/availability${query({ service: svc, date: at.date, time: at.time })}`));
        const target = new Date(at.start || `${at.date}T${at.time}:00Z`).getTime();
        const list = free.alternatives && free.alternatives.length ? free.alternatives : (free.slots || [])
          .filter((x) => x.start !== at.start)
          .sort((a, b) => Math.abs(new Date(a.start) - target) - Math.abs(new Date(b.start) - target) || new Date(a.start) - new Date(b.start));
        err.alternatives = list.slice(0, 3);
      } catch (e) { /* no alternatives then */ }
    }

    function details(a) {
      const info = h('dl', { class: 'cal-details' },
        h('dt', {}, t('calendar.when')), h('dd', {}, `${formatWeekday(a.start)} ${formatTime(a.start)}–${formatTime(a.end)}`),
        h('dt', {}, t('calendar.with')), h('dd', {}, a.resource_name),
        h('dt', {}, t('calendar.customer')), h('dd', {}, `${a.customer_name} ${a.customer_phone || ''}`),
        h('dt', {}, t('calendar.status')), h('dd', {}, t(`calendar.status.${a.status}`)),
        a.notes ? [h('dt', {}, t('calendar.notes')), h('dd', {}, a.notes)] : null);
      const buttons = canWrite ? [
        h('button', { type: 'button', class: 'btn', onClick: () => { d.close(); move(a); } }, t('calendar.move')),
        h('button', { type: 'button', class: 'btn btn-danger', onClick: async () => {
          d.close();
          if (!(await confirmDialog(t('calendar.cancel.ask', { what: `${a.service_name}, ${a.customer_name}, ${formatWeekday(a.start)} ${formatTime(a.start)}` }), t('calendar.cancel')))) return;
          try {
            await ctx.api(ctx.path(`/appointments/${encodeURIComponent(a.id)}`), { method: 'DELETE' });
            announce(t('calendar.cancelled'));
          } catch (err) {
            announce(err.message, true);
          }
          load();
        } }, t('calendar.cancel')),
      ] : [];
      const d = openDialog(t('calendar.details', { service: a.service_name, customer: a.customer_name }), info, actions(() => d, buttons, t('app.close')));
    }

    function move(a) {
      const fields = {
        date: field({ label: t('calendar.date'), name: 'date', type: 'date', value: localDate(a.start), required: true }),
        time: field({ label: t('calendar.time'), name: 'time', type: 'time', value: formatTime(a.start), required: true }),
      };
      const alts = h('div');
      formDialog({
        title: t('calendar.move.title'), fields, extra: alts, submit: t('calendar.move'),
        async save() {
          alts.replaceChildren();
          const at = { date: fields.date.input.value, time: fields.time.input.value };
          try {
            const { appointment } = await ctx.api(ctx.path(`/appointments/${encodeURIComponent(a.id)}`), { method: 'PATCH', body: at });
            announce(t('calendar.moved', { when: `${formatWeekday(appointment.start)} ${formatTime(appointment.start)}` }));
            week = monday(localDate(appointment.start));
            load();
          } catch (err) {
            if (err.status === 409 || err.status === 422) {
              await withAlternatives(err, a.service, at);
              alts.replaceChildren(alternatives(err, (x) => {
                fields.date.input.value = x.date;
                fields.time.input.value = x.time;
                alts.replaceChildren();
                fields.time.input.focus();
              }) || '');
            }
            throw err;
          }
        },
      });
    }

    load();
    // A booking made, moved or cancelled elsewhere (a customer, another operator) shows at once.
    const off = ctx.events.on('appointment', () => load());
    return () => { off(); if (controller) controller.abort(); };
  },
};

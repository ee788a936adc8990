// Staff: the tenant's agent accounts (GET/POST/PATCH/DELETE .../agents) for a principal with
// tenant:admin: create one, change its role, disable or enable it, remove it (confirmed); the
// server's messages next to the field they name (a taken e-mail under the e-mail).
import { h, heading, field, showError, failure, announce, badge } from '../ui.js';
import { t, addMessages, formatDateTime } from '../i18n.js';
import { confirmDialog, table, row } from './manage.js';

addMessages({
  tr: {
    'staff.accounts': 'Hesaplar', 'staff.add': 'Yeni hesap', 'staff.create': 'Hesabı aç',
    'staff.name': 'Ad', 'staff.email': 'E-posta', 'staff.password': 'Parola', 'staff.password.hint': 'En az 10 karakter.',
    'staff.role': 'Rol', 'staff.role.owner': 'Sahip', 'staff.role.agent': 'Temsilci', 'staff.status': 'Durum',
    'staff.active': 'etkin', 'staff.disabled': 'kapalı', 'staff.last': 'Son giriş', 'staff.never': 'hiç', 'staff.actions': 'İşlem',
    'staff.role.of': '{name} rolü', 'staff.disable': '{name} hesabını kapat', 'staff.enable': '{name} hesabını aç',
    'staff.disable.short': 'Kapat', 'staff.enable.short': 'Aç', 'staff.remove': '{name} hesabını sil',
    'staff.remove.ask': '{name} ({email}) hesabı silinsin mi? Oturumları kapanır, üzerindeki konuşmalar boşa çıkar.',
    'staff.created': '{name} hesabı açıldı.', 'staff.updated': '{name} güncellendi.', 'staff.removed': '{name} silindi.',
    'staff.none': 'Henüz hesap yok.',
  },
  en: {
    'staff.accounts': 'Accounts', 'staff.add': 'New account', 'staff.create': 'Create the account',
    'staff.name': 'Name', 'staff.email': 'E-mail', 'staff.password': 'Password', 'staff.password.hint': 'At least 10 characters.',
    'staff.role': 'Role', 'staff.role.owner': 'Owner', 'staff.role.agent': 'Agent', 'staff.status': 'Status',
    'staff.active': 'active', 'staff.disabled': 'disabled', 'staff.last': 'Last sign-in', 'staff.never': 'never', 'staff.actions': 'Actions',
    'staff.role.of': 'Role of {name}', 'staff.disable': 'Disable {name}', 'staff.enable': 'Enable {name}',
    'staff.disable.short': 'Disable', 'staff.enable.short': 'Enable', 'staff.remove': 'Remove {name}',
    'staff.remove.ask': 'Remove the account of {name} ({email})? Its sessions end and its conversations are unassigned.',
    'staff.created': 'Account of {name} created.', 'staff.updated': '{name} updated.', 'staff.removed': '{name} removed.',
    'staff.none': 'No accounts yet.',
  },
});

export default {
  id: 'staff',
  path: '#/staff',
  nav: 'nav.staff',
  title: 'nav.staff',
  scopes: ['tenant:admin'],
  render(main, params, ctx) {
    const roles = () => ['agent', 'owner'].map((r) => [r, t(`staff.role.${r}`)]);
    const base = ctx.path('/agents');
    const alert = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
    const box = h('div');

    const fields = {
      name: field({ label: t('staff.name'), name: 'name', required: true, attrs: { autocomplete: 'off' } }),
      email: field({ label: t('staff.email'), name: 'email', type: 'email', required: true, attrs: { autocomplete: 'off' } }),
      password: field({ label: t('staff.password'), name: 'password', type: 'password', hint: t('staff.password.hint'), required: true, attrs: { autocomplete: 'new-password' } }),
      role: field({ label: t('staff.role'), name: 'role', type: 'select', options: roles(), value: 'agent' }),
    };
    const formAlert = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'card staff-form', novalidate: true, 'aria-labelledby': 'staff-add' },
      h('h2', { id: 'staff-add' }, t('staff.add')), h('div', { class: 'grid' }, Object.values(fields).map((f) => f.root)), formAlert,
      h('button', { type: 'submit', class: 'btn btn-primary' }, t('staff.create')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      showError(null, fields, formAlert);
      try {
        const agent = await ctx.api(base, { method: 'POST', body: {
          name: fields.name.input.value.trim(), email: fields.email.input.value.trim(),
          password: fields.password.input.value, role: fields.role.input.value,
        } });
        form.reset();
        announce(t('staff.created', { name: agent.name }));
        load();
      } catch (err) {
        // A taken e-mail is a 409 whose message may not name the field: it is the e-mail's.
        showError(err.status === 409 && !err.field ? { message: err.message, field: 'email' } : err, fields, formAlert);
      }
    });

    async function change(agent, patch) {
      alert.hidden = true;
      try {
        const stored = await ctx.api(`${base}/${encodeURIComponent(agent.id)}`, { method: 'PATCH', body: patch });
        announce(t('staff.updated', { name: (stored && stored.name) || agent.name }));
      } catch (err) {
        showError(err, {}, alert);
      }
      load();
    }

    async function remove(agent) {
      if (!(await confirmDialog(t('staff.remove.ask', agent), t('app.delete')))) return;
      alert.hidden = true;
      try {
        await ctx.api(`${base}/${encodeURIComponent(agent.id)}`, { method: 'DELETE' });
        announce(t('staff.removed', { name: agent.name }));
      } catch (err) {
        showError(err, {}, alert);
      }
      load();
    }

    function line(a) {
      const role = h('select', { 'aria-label': t('staff.role.of', { name: a.name }) }, roles().map(([v, l]) => h('option', { value: v }, l)));
      role.value = a.role;
      role.addEventListener('change', () => change(a, { role: role.value }));
      return row([
        [t('staff.name'), h('span', { class: 'strong' }, a.name)],
        [t('staff.email'), a.email],
        [t('staff.role'), role],
        [t('staff.status'), a.disabled ? badge('closed', t('staff.disabled')) : t('staff.active')],
        [t('staff.last'), a.last_sign_in_at ? formatDateTime(a.last_sign_in_at) : t('staff.never')],
        [t('staff.actions'), h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn', 'aria-label': t(a.disabled ? 'staff.enable' : 'staff.disable', { name: a.name }),
            onClick: () => change(a, { disabled: !a.disabled }) }, t(a.disabled ? 'staff.enable.short' : 'staff.disable.short')),
          h('button', { type: 'button', class: 'btn btn-danger', 'aria-label': t('staff.remove', { name: a.name }), onClick: () => remove(a) }, t('app.delete')))],
      ], { dataset: { id: a.id } });
    }

    async function load() {
      try {
        const { agents } = await ctx.api(base);
        box.replaceChildren(agents.length
          ? table([t('staff.name'), t('staff.email'), t('staff.role'), t('staff.status'), t('staff.last'), t('staff.actions')], agents.map(line))
          : h('p', { class: 'muted' }, t('staff.none')));
      } catch (err) {
        box.replaceChildren(failure(err, load));
      }
    }

    main.append(heading(t('nav.staff')), h('h2', {}, t('staff.accounts')), alert, box, form);
    load();
  },
};

// What the management pages (calendar, catalog, knowledge, analytics, staff) share: modal dialogs
// that give focus back, a confirmation, a form in a dialog that shows the server's message next
// to the field it names, and stackable tables.
import { h, showError } from '../ui.js';
import { t, addMessages } from '../i18n.js';

addMessages({ tr: { 'manage.keep': 'Vazgeç' }, en: { 'manage.keep': 'No, keep it' } });

let dialogs = 0;

/** A modal <dialog> titled `title`; removed on close, focus back where it was (or the page's heading). */
export function openDialog(title, ...content) {
  const opener = document.activeElement;
  const id = `dialog-${++dialogs}`;
  const dialog = h('dialog', { 'aria-labelledby': id, class: 'manage-dialog' }, h('h2', { id }, title), ...content);
  dialog.addEventListener('close', () => {
    dialog.remove();
    // The opener may have been redrawn by the change: its namesake then, else the page's heading.
    const name = opener && opener.getAttribute && opener.getAttribute('aria-label');
    const back = (opener && opener.isConnected && opener)
      || (name && document.querySelector(`main [aria-label="${CSS.escape(name)}"]`)) || document.querySelector('main h1');
    if (back) back.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** A row of dialog buttons: `close` (Cancel; closes `dialog()`) then `buttons`. */
export const actions = (dialog, buttons, close = t('app.cancel')) => h('div', { class: 'actions' },
  h('button', { type: 'button', class: 'btn', onClick: () => dialog().close() }, close), buttons);

/** Asks `question`; resolves true when `yes` is pressed. */
export function confirmDialog(question, yes) {
  return new Promise((resolve) => {
    let answer = false;
    const d = openDialog(question, actions(() => d,
      h('button', { type: 'button', class: 'btn btn-danger', onClick: () => { answer = true; d.close(); } }, yes), t('manage.keep')));
    d.addEventListener('close', () => resolve(answer));
  });
}

/**
 * A form in a dialog: `fields` ({name: field()}), `extra` nodes after them; on submit awaits
 * `save()`, closing on success and otherwise showing the ApiError next to its field (or above the
 * buttons). `save` returning false keeps the dialog open.
 */
export function formDialog({ title, fields, extra, submit = t('app.save'), save }) {
  const alert = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, submit);
  const form = h('form', { novalidate: true }, Object.values(fields).map((f) => f.root), extra, alert,
    actions(() => d, button));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      showError(null, fields, alert);
      if ((await save()) !== false) d.close();
    } catch (err) {
      showError(err, fields, alert);
    } finally {
      button.disabled = false;
    }
  });
  const d = openDialog(title, form);
  d.alert = alert;
  return d;
}

/** A table that stacks on phones: `heads` the column names, `rows` from row(). */
export const table = (heads, rows) => h('div', { class: 'table-box' }, h('table', { class: 'data stackable' },
  h('thead', {}, h('tr', {}, heads.map((x) => h('th', { scope: 'col' }, x)))),
  h('tbody', {}, rows)));

/** A table row: `cells` are [label, content] pairs (the label shown before it on phones). */
export const row = (cells, attrs) => h('tr', attrs, cells.map(([label, content]) => h('td', { 'data-label': label }, content)));

/** A number input's value: null when empty, else the number (NaN stays NaN for the server to refuse). */
export const numberOrNull = (input) => (input.value.trim() === '' ? null : Number(input.value));

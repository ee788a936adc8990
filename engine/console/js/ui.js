// Building the page: DOM elements from data (never innerHTML with data), form fields with their
// labels and server-side error messages, "show more" paging, announcements for screen readers.
import { t } from './i18n.js';

function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) { for (const c of child) append(el, c); return; }
  el.append(child instanceof Node ? child : document.createTextNode(String(child)));
}

function apply(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (name === 'text') el.textContent = value;
    else if (name === 'style') Object.assign(el.style, value);  // CSSOM: allowed by the CSP
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name in el && typeof value !== 'string' && !(el instanceof SVGElement)) el[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  return el;
}

/** h('button', {class: 'btn', onClick}, 'Save') */
export function h(tag, attrs, ...children) {
  const el = apply(document.createElement(tag), attrs);
  append(el, children);
  return el;
}

/** An SVG element (charts): svg('rect', {x: 0, y: 0, width: 10, height: 4}) */
export function svg(tag, attrs, ...children) {
  const el = apply(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs);
  append(el, children);
  return el;
}

/** Says `text` to screen readers (the page's polite live region; `urgent`: the assertive one). */
export function announce(text, urgent = false) {
  const region = document.getElementById(urgent ? 'alert' : 'live');
  if (!region) return;
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 30);
}

let fieldCount = 0;

/**
 * A labelled field: {label, name, type ('text', 'number', 'textarea', 'select', 'checkbox'...),
 * value, options: [[value, label]], hint, required, attrs}. Returns {root, input, error, set(msg)}.
 */
export function field({ label, name, type = 'text', value, options, hint, required, attrs = {} }) {
  const id = `f-${name}-${++fieldCount}`;
  let input;
  if (type === 'textarea') input = h('textarea', { id, name, rows: 4, ...attrs });
  else if (type === 'select') {
    input = h('select', { id, name, ...attrs }, (options || []).map(([v, l]) => h('option', { value: v }, l)));
  } else input = h('input', { id, name, type, ...attrs });
  if (type === 'checkbox') input.checked = Boolean(value);
  else if (value !== undefined && value !== null) input.value = String(value);
  if (required) input.required = true;
  const error = h('p', { id: `${id}-error`, class: 'field-error', hidden: true });
  const hintEl = hint ? h('p', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  const labelEl = h('label', { for: id }, label);
  const root = type === 'checkbox'
    ? h('div', { class: 'field field-check' }, input, labelEl, hintEl, error)
    : h('div', { class: 'field' }, labelEl, input, hintEl, error);
  const set = (message) => {
    error.textContent = message || '';
    error.hidden = !message;
    if (message) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', [error.id, hintEl && hintEl.id].filter(Boolean).join(' '));
    } else {
      input.removeAttribute('aria-invalid');
      if (hintEl) input.setAttribute('aria-describedby', hintEl.id); else input.removeAttribute('aria-describedby');
    }
  };
  return { root, input, error, set };
}

/**
 * Shows an ApiError next to the field it names (fields: {name: field()}), else in `fallback`
 * (an element with role=alert). Returns the field that took it, if any.
 */
export function showError(err, fields, fallback) {
  for (const f of Object.values(fields || {})) f.set('');
  const name = err && err.field ? err.field.split(/[.[]/)[0] : null;
  if (name && fields && fields[name]) {
    fields[name].set(err.message);
    fields[name].input.focus();
    return fields[name];
  }
  if (fallback) {
    fallback.textContent = err ? err.message : '';
    fallback.hidden = !err;
  }
  return null;
}

/** An element that shows a failure to load, with a button that tries again. */
export function failure(err, retry) {
  return h('div', { class: 'notice notice-error', role: 'alert' },
    h('p', {}, t('app.error', { message: err.message })),
    retry ? h('button', { type: 'button', class: 'btn', onClick: retry }, t('app.retry')) : null);
}

/** A "show more" button for cursor-paged lists: calls load(next) and hides when there is no next. */
export function moreButton(load) {
  const button = h('button', { type: 'button', class: 'btn more', hidden: true }, t('app.more'));
  let cursor = null;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try { await load(cursor); } finally { button.disabled = false; }
  });
  return {
    root: button,
    set(next) { cursor = next || null; button.hidden = !cursor; },
  };
}

/** A badge for a priority or status, with its text (never colour alone). */
export function badge(kind, text) {
  return h('span', { class: `badge badge-${kind}` }, text);
}

/** The page's heading, focusable so the router can move focus to it after navigation. */
export function heading(text) {
  return h('h1', { tabindex: '-1', class: 'page-title' }, text);
}

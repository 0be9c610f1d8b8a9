// Builds DOM from plain values. Text is always set as text, never parsed as HTML, so a client
// named "<b>Acme</b>" shows those characters.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else if (key === 'value' || key === 'checked') {
      el[key] = value;
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function money(minor, currency) {
  if (minor === null || minor === undefined) return '—';
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency || ''}`.trim();
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled form control with a place beside it for the API's message about that field.
// name is the field's path in the API ("address.city"), which is how a 422 names it.
export function field(label, name, control = {}) {
  const id = nextId('f');
  const errId = `${id}-err`;
  const { type = 'text', options, value, hint, required, ...rest } = control;
  let input;
  if (options) {
    input = h('select', { id, name, 'aria-describedby': errId, ...rest },
      options.map((o) => {
        const [v, text] = Array.isArray(o) ? o : [o, o];
        return h('option', { value: v, selected: String(value ?? '') === String(v) }, text);
      }));
  } else if (type === 'checkbox') {
    input = h('input', { id, name, type, checked: Boolean(value), 'aria-describedby': errId, ...rest });
  } else {
    input = h('input', { id, name, type, value: value ?? '', required, 'aria-describedby': errId, ...rest });
  }
  return h('div', { class: type === 'checkbox' ? 'field check' : 'field', dataset: { field: name } },
    h('label', { for: id }, label),
    input,
    hint ? h('small', { class: 'hint' }, hint) : null,
    h('span', { id: errId, class: 'field-error', role: 'alert' }));
}

// Clears a form's field messages.
export function clearFieldErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

// Puts each {field, message} of a 422 beside its control; returns those that have no control.
export function showFieldErrors(form, errors) {
  const unplaced = [];
  let first = null;
  for (const e of errors || []) {
    const box = form.querySelector(`[data-field="${CSS.escape(e.field)}"]`);
    if (!box) {
      unplaced.push(e);
      continue;
    }
    box.querySelector('.field-error').textContent = e.message;
    const control = box.querySelector('input, select, textarea');
    control.setAttribute('aria-invalid', 'true');
    first = first || control;
  }
  if (first) first.focus();
  return unplaced;
}

// Appends children to el, leaving out null, undefined and false (a section not offered).
export function appendAll(el, ...children) {
  return append(el, children);
}

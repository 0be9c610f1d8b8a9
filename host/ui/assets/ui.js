// What every page shares: the signed-in session, problems shown as their title and detail with
// the prompt's action offered, tables and paging.
import { h, clear, appendAll, showFieldErrors } from './dom.js';
import { billingInfoForm } from './billing_info.js';

export const session = { role: null, rights: [], tenant: null };
export const can = (right) => session.rights.includes(right);

// Shows an API error in box: its title and detail, every field it names (beside the field when
// form has it), and the prompt's next step. retry runs the refused action again once the prompt
// is dealt with, so nothing the user typed is asked for twice.
export function showProblem(box, err, { form, retry } = {}) {
  clear(box);
  const p = err.problem || { title: String(err.message || err) };
  let unplaced = p.errors || [];
  if (form && unplaced.length) unplaced = showFieldErrors(form, unplaced);
  const panel = h('div', { class: 'problem', role: 'alert' },
    h('strong', { class: 'problem-title' }, p.title || 'Error'),
    p.detail ? h('p', { class: 'problem-detail' }, p.detail) : null,
    unplaced.length ? h('ul', {}, unplaced.map((e) => h('li', {}, `${e.field}: ${e.message}`))) : null);
  box.append(panel);
  const prompt = p.prompt;
  if (prompt && prompt.action === 'add_billing_info' && prompt.client_id) {
    const holder = h('div', { class: 'prompt-form' });
    const open = h('button', {
      type: 'button', class: 'primary',
      onclick: () => {
        open.hidden = true;
        appendAll(clear(holder), billingInfoForm(prompt.client_id, {
          submitLabel: retry ? 'Add and continue' : 'Add',
          onSaved: async () => {
            clear(holder);
            if (!retry) return;
            appendAll(clear(box), h('p', { class: 'note', role: 'status' }, 'Billing information saved; trying again…'));
            try {
              await retry();
            } catch (again) {
              showProblem(box, again, { form, retry });
            }
          },
        }));
        holder.querySelector('input')?.focus();
      },
    }, 'Add billing information');
    panel.append(h('p', {}, open), holder);
  } else if (prompt && prompt.action === 'verify_invoice_numbering') {
    panel.append(h('p', {}, h('a', { href: '#/billing' }, 'Verify the invoice numbering')));
  } else if (prompt && prompt.action === 'set_part_prices') {
    panel.append(h('p', {}, 'Set a price on the marked parts, then activate again.'));
  } else if (prompt && prompt.href) {
    panel.append(h('p', {}, `Next: ${prompt.action}`));
  }
  return panel;
}

// Runs action with its button disabled; its failure is shown in box.
export function busy(button, box, action, options = {}) {
  return async (event) => {
    event?.preventDefault();
    button.disabled = true;
    if (box) clear(box);
    try {
      await action();
    } catch (err) {
      if (box) showProblem(box, err, { ...options, retry: options.retry || action });
      else throw err;
    } finally {
      button.disabled = false;
    }
  };
}

export function table(caption, headers, rows) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length }, 'Nothing here yet.'))));
}

export function page(title, ...children) {
  return [h('h1', {}, title), ...children];
}

export function status(text) {
  return h('p', { class: 'note', role: 'status' }, text);
}

// A "next page" button for lists the API pages with ?after.
export function pager(nextAfter, go) {
  if (!nextAfter) return null;
  return h('p', {}, h('button', { type: 'button', onclick: () => go(nextAfter) }, 'Next page'));
}

/// <reference lib="dom" />
import { describeScope, type FreezeScopeShape } from '../../common/freezeStatement';
import { api, ApiFailure, type FreezesView } from '../api';
import { announce, h, render, table } from '../dom';
import { when } from '../format';
import type { App } from '../app';
import { currentKey, signFreezeStatement } from '../signing';
import { keyPicker } from './keyPicker';

/**
 * The kill switch (docs/kill-switch-and-notifications.md): the freezes in force and the freeze log, and freeze /
 * unfreeze signed in this browser with the human's own key. The controls workflow verifies each statement (freeze
 * group, signature, nonce, clock); a refusal is shown here and kept in the freeze log. Refreshed every 3 s.
 */
export function renderFreezes(app: App): void {
  const session = app.session!;
  render(h('h1', {}, 'Kill switch'), h('p', { class: 'muted' }, 'Loading…'));
  let timer: number | undefined;
  let stopped = false;
  app.cleanup = () => {
    stopped = true;
    window.clearTimeout(timer);
  };

  const result = h('div', { id: 'freeze-result', role: 'status', 'aria-live': 'assertive' });
  const showError = (text: string | null) =>
    result.replaceChildren(...(text ? [h('p', { class: 'error', id: 'freeze-error' }, text)] : []));
  const kind = h(
    'select',
    { id: 'freeze-kind' },
    h('option', { value: 'agent' }, 'an agent'),
    h('option', { value: 'actionType' }, 'an action type'),
    h('option', { value: 'all' }, 'everything'),
  );
  const target = h('input', { id: 'freeze-target', type: 'text', maxlength: 200, autocomplete: 'off' });
  const reason = h('textarea', { id: 'freeze-reason', rows: 2, maxlength: 1000 });
  const freezeButton = h('button', { type: 'button', class: 'danger', id: 'freeze-submit' }, 'Freeze');
  let state: FreezesView | null = null;
  const unfreezeButtons: HTMLButtonElement[] = [];
  const refresh = () => {
    const ready = !!currentKey() && !!state?.mayFreeze;
    freezeButton.disabled = !ready;
    for (const b of unfreezeButtons) b.disabled = !ready;
    target.disabled = kind.value === 'all';
  };
  const picker = keyPicker(session, 'freeze', showError, refresh);
  kind.addEventListener('change', refresh);

  const scopeOf = (): FreezeScopeShape | null => {
    const value = target.value.trim();
    if (kind.value === 'all') return { kind: 'all' };
    if (value === '') return null;
    return kind.value === 'agent' ? { kind: 'agent', agent: value } : { kind: 'actionType', actionType: value };
  };

  const send = async (op: 'freeze' | 'unfreeze', scope: FreezeScopeShape | null) => {
    showError(null);
    if (!scope) {
      showError(`Name the ${kind.value === 'agent' ? 'agent' : 'action type'} to freeze.`);
      target.focus();
      return;
    }
    if (reason.value.trim() === '') {
      reason.setAttribute('aria-invalid', 'true');
      showError(`A ${op} needs a reason.`);
      reason.focus();
      return;
    }
    reason.removeAttribute('aria-invalid');
    freezeButton.disabled = true;
    try {
      const signed = await signFreezeStatement({ op, scope, reason: reason.value.trim(), human: session.human });
      const entry = await api.sendFreeze(signed);
      const text = `${op === 'freeze' ? 'Now frozen' : 'Unfrozen'}: ${describeScope(entry.scope)} (freeze log entry ${entry.seq}).`;
      result.replaceChildren(h('p', { class: 'success', id: 'freeze-done' }, text));
      announce(text);
      reason.value = '';
      await load();
    } catch (err) {
      showError(err instanceof ApiFailure ? `Refused (${err.code}): ${err.message}` : (err as Error).message);
    }
    refresh();
  };
  freezeButton.addEventListener('click', () => void send('freeze', scopeOf()));

  const draw = (view: FreezesView) => {
    unfreezeButtons.length = 0;
    const rows = view.freezes.map((f) => {
      const button = h('button', { type: 'button', class: 'unfreeze', 'data-seq': String(f.seq) }, 'Unfreeze');
      button.addEventListener('click', () => void send('unfreeze', f.scope));
      unfreezeButtons.push(button);
      return h(
        'tr',
        { 'data-scope': describeScope(f.scope) },
        h('td', {}, describeScope(f.scope)),
        h('td', {}, f.human),
        h('td', {}, when(f.at)),
        h('td', {}, f.reason),
        h('td', {}, String(f.seq)),
        h('td', {}, button),
      );
    });
    render(
      h('h1', {}, 'Kill switch'),
      h(
        'p',
        {},
        'Freezes and unfreezes are signed by a human of the group ',
        h('code', {}, view.freezeGroup),
        view.mayFreeze ? ' — you are in it.' : ' — you are not in it: you can see the freezes but not change them.',
      ),
      h('h2', {}, 'In force'),
      view.freezes.length
        ? h('div', { id: 'freezes-in-force' }, table(['Scope', 'By', 'At', 'Why', 'Entry', ''], rows, 'Freezes in force', { stack: true }))
        : h('p', { class: 'muted', id: 'no-freezes' }, 'Nothing is frozen.'),
      view.mayFreeze
        ? h(
            'section',
            { class: 'panel decide', id: 'freeze-panel', 'aria-labelledby': 'freeze-heading' },
            h('h2', { id: 'freeze-heading' }, 'Freeze or unfreeze'),
            h('p', { class: 'muted' }, 'New attempts of a frozen scope are DENIED; waiting ones close; cancellable running ones stop.'),
            picker.label,
            picker.status,
            h(
              'div',
              { class: 'row' },
              h('label', { for: 'freeze-kind' }, 'Freeze', kind),
              h('label', { for: 'freeze-target' }, 'Name', target),
            ),
            h('label', { for: 'freeze-reason' }, 'Reason (required, for freeze and unfreeze)', reason),
            h('div', { class: 'row' }, freezeButton),
            result,
          )
        : result,
      h('h2', {}, 'Freeze log'),
      view.log.length
        ? table(
            ['Entry', 'Op', 'Scope', 'By', 'At', 'Why'],
            [...view.log]
              .reverse()
              .map((e) =>
                h(
                  'tr',
                  {},
                  h('td', {}, String(e.seq)),
                  h('td', {}, e.op),
                  h('td', {}, describeScope(e.scope)),
                  h('td', {}, e.human),
                  h('td', {}, when(e.at)),
                  h('td', {}, e.reason),
                ),
              ),
            'Freeze log, newest first',
            { stack: true },
          )
        : h('p', { class: 'muted' }, 'No entries yet.'),
    );
    picker.refresh();
  };

  const load = async () => {
    window.clearTimeout(timer);
    try {
      const next = await api.freezes();
      if (stopped) return;
      // Redraw only on change, so typing in the form is not disturbed by the refresh.
      if (!state || state.seq !== next.seq) draw(next);
      state = next;
      refresh();
    } catch (err) {
      if (!state)
        render(
          h('h1', {}, 'Kill switch'),
          h('p', { class: 'error', role: 'alert' }, err instanceof ApiFailure ? err.message : String(err)),
        );
    }
    if (!stopped) timer = window.setTimeout(() => void load(), 3000);
  };
  void load();
}

/// <reference lib="dom" />
import type { AttemptView } from '../api';
import { announce, h } from '../dom';
import type { App } from '../app';
import { currentKey } from '../signing';
import { when } from '../format';
import { keyPicker } from './keyPicker';
import { sendSignedDecision } from './signedDecision';

/**
 * Ratification of an accepted break-glass override (docs/governance.md#ratification): a second human of the ratifying
 * group countersigns within the window. Offered only where the API says this human may ratify; the statement is the
 * one `ecp ratify` signs (common/statement.ts's `decisionStatement`, verdict `ratify`), signed in the browser with the
 * human's own key. The workflow checks it (group, overrider, owner, window). Not retried: a refusal is shown.
 */
export function renderRatify(app: App, view: AttemptView, reload: () => void): HTMLElement {
  const session = app.session!;
  const { attemptId, proposalHash } = view.record;
  const window = view.record.governance?.ratification;
  const overrides = view.record.decisions.accepted.filter((d) => d.verdict === 'override');
  const result = h('div', { id: 'ratify-result', role: 'status', 'aria-live': 'assertive' });
  const showError = (text: string | null) =>
    result.replaceChildren(...(text ? [h('p', { class: 'error', id: 'ratify-error' }, text)] : []));
  const reason = h('textarea', { id: 'ratify-reason', rows: 2, maxlength: 2000 });
  const confirm = h('input', { id: 'ratify-confirm', type: 'checkbox' });
  const submit = h('button', { type: 'button', class: 'primary', id: 'ratify-submit' }, 'Ratify override');
  const refresh = () => (submit.disabled = !currentKey() || !confirm.checked);
  const picker = keyPicker(session, 'ratify', showError, refresh);
  confirm.addEventListener('change', refresh);

  submit.addEventListener('click', () => {
    showError(null);
    submit.disabled = true;
    void (async () => {
      try {
        const answer = await sendSignedDecision({
          attemptId,
          proposalHash,
          verdict: 'ratify',
          human: session.human,
          reason: reason.value.trim(),
        });
        result.replaceChildren(h('p', { class: 'success', id: 'ratify-done' }, `Your ratification counted: ${answer.message}.`));
        announce('Ratification recorded');
        reload();
      } catch (err) {
        showError((err as Error).message);
        refresh();
      }
    })();
  });

  const panel = h(
    'section',
    { class: 'panel decide', id: 'ratify-panel', 'aria-labelledby': 'ratify-heading' },
    h('h2', { id: 'ratify-heading' }, 'Ratify the override'),
    h(
      'p',
      {},
      ...overrides.map((d) => `${d.human} overrode ${(d.statement.overrides ?? []).join(', ')}: "${d.reason}". `),
      'Policy asks a second human of ',
      window?.groups.join(' or ') ?? '—',
      ' to countersign by ',
      window ? when(window.until) : '—',
      '; until then the attempt is flagged NOT RATIFIED. Your signature names proposal ',
      h('span', { class: 'hash' }, proposalHash),
      '.',
    ),
    picker.label,
    picker.status,
    h('label', { for: 'ratify-reason' }, 'Reason (optional, kept in the record)', reason),
    h(
      'label',
      { class: 'check', for: 'ratify-confirm' },
      confirm,
      h('span', {}, 'I have reviewed the override and its justification and countersign it'),
    ),
    h('div', { class: 'row' }, submit),
    result,
  );
  picker.refresh();
  return panel;
}

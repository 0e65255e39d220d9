/// <reference lib="dom" />
import type { AttemptView } from '../api';
import { announce, h } from '../dom';
import type { App } from '../app';
import { currentKey } from '../signing';
import { keyPicker } from './keyPicker';
import { sendSignedDecision } from './signedDecision';

/**
 * Break-glass override (docs/governance.md). Offered only where the API says this human may override; the statement
 * names this page's attempt ID, proposal hash and the overridable policy ids, carries the mandatory justification,
 * and is signed in the browser with the human's own key. The workflow checks it like any decision; the re-check
 * before enforcement still runs. Not retried: a refusal is shown and recorded in the attempt.
 */
export function renderOverride(app: App, view: AttemptView, reload: () => void): HTMLElement {
  const session = app.session!;
  const { attemptId, proposalHash } = view.record;
  const overrides = view.viewer.overridable;
  const result = h('div', { id: 'override-result', role: 'status', 'aria-live': 'assertive' });
  const showError = (text: string | null) =>
    result.replaceChildren(...(text ? [h('p', { class: 'error', id: 'override-error' }, text)] : []));
  const justification = h('textarea', { id: 'override-justification', rows: 3, maxlength: 2000, required: true });
  const confirm = h('input', { id: 'override-confirm', type: 'checkbox' });
  const submit = h('button', { type: 'button', class: 'danger', id: 'override-submit' }, 'Override (break-glass)');
  const refresh = () => (submit.disabled = !currentKey() || !confirm.checked);
  const picker = keyPicker(session, 'override', showError, refresh);
  confirm.addEventListener('change', refresh);

  submit.addEventListener('click', () => {
    showError(null);
    if (justification.value.trim() === '') {
      justification.setAttribute('aria-invalid', 'true');
      showError('An override needs a justification.');
      justification.focus();
      return;
    }
    justification.removeAttribute('aria-invalid');
    submit.disabled = true;
    void (async () => {
      try {
        const answer = await sendSignedDecision({
          attemptId,
          proposalHash,
          verdict: 'override',
          human: session.human,
          reason: justification.value.trim(),
          overrides,
        });
        result.replaceChildren(h('p', { class: 'success' }, `Your override counted: ${answer.message}. It is flagged OVERRIDDEN.`));
        announce('Override recorded');
        reload();
      } catch (err) {
        showError((err as Error).message);
        refresh();
      }
    })();
  });

  const panel = h(
    'section',
    { class: 'panel decide override-submit', id: 'override-submit-panel', 'aria-labelledby': 'override-heading' },
    h('h2', { id: 'override-heading' }, 'Break-glass override'),
    h(
      'p',
      {},
      'Overrides ',
      ...overrides.flatMap((id, i) => [i ? ', ' : '', h('code', {}, id)]),
      ' on proposal ',
      h('span', { class: 'hash' }, proposalHash),
      '. Your signed justification is kept in the record and the attempt is flagged OVERRIDDEN; the re-check before enforcement still runs.',
    ),
    picker.label,
    picker.status,
    h('label', { for: 'override-justification' }, 'Justification (required)', justification),
    h(
      'label',
      { class: 'check', for: 'override-confirm' },
      confirm,
      h('span', {}, `I take responsibility for overriding ${overrides.join(', ')} on this attempt`),
    ),
    h('div', { class: 'row' }, submit),
    result,
  );
  picker.refresh();
  return panel;
}

/// <reference lib="dom" />
import type { Verdict } from '../../common/decision';
import type { AttemptView } from '../api';
import { announce, h } from '../dom';
import type { App } from '../app';
import { currentKey, importKey } from '../signing';
import { sendSignedDecision } from './signedDecision';

/**
 * Approve / reject. The statement is built from what this page shows — its attempt ID and proposal hash — signed in
 * the browser with the human's own key, and sent; the server refuses it if the attempt's hash is no longer the one
 * shown, and the workflow verifies the signature. Approving needs an explicit confirmation of the hash.
 */
export function renderDecide(app: App, view: AttemptView, reload: () => void): HTMLElement {
  const session = app.session!;
  const { attemptId, proposalHash } = view.record;
  const result = h('div', { id: 'decide-result', role: 'status', 'aria-live': 'assertive' });
  const keyStatus = h('p', { id: 'key-status' });
  const keyFile = h('input', { id: 'key-file', type: 'file', accept: '.key,.pem,application/x-pem-file' });
  const reason = h('textarea', { id: 'reason', rows: 3, maxlength: 2000, 'aria-describedby': 'reason-help' });
  const confirm = h('input', { id: 'confirm-hash', type: 'checkbox' });
  const approve = h('button', { type: 'button', class: 'primary', id: 'approve' }, 'Approve');
  const reject = h('button', { type: 'button', class: 'danger', id: 'reject' }, 'Reject');

  const refresh = () => {
    const key = currentKey();
    keyStatus.replaceChildren(
      key
        ? h(
            'span',
            { class: 'success' },
            `Signing key loaded: registered to ${key.human} (fingerprint ${key.fingerprint}). It stays in this tab's memory only.`,
          )
        : h(
            'span',
            {},
            `Load your private key file (${session.human}.key, written by `,
            h('code', {}, 'ecp keys new'),
            ') to sign decisions in this browser.',
          ),
    );
    approve.disabled = !key || !confirm.checked;
    reject.disabled = !key;
  };

  keyFile.addEventListener('change', () => {
    const file = keyFile.files?.[0];
    if (!file) return;
    result.replaceChildren();
    file
      .text()
      .then((pem) => importKey(pem, session.human, session.publicKeys))
      .then(() => announce('Signing key loaded'))
      .catch((err: unknown) => result.replaceChildren(h('p', { class: 'error' }, (err as Error).message)))
      .finally(() => {
        keyFile.value = '';
        refresh();
      });
  });
  confirm.addEventListener('change', refresh);

  const send = async (verdict: Verdict) => {
    result.replaceChildren();
    if (verdict === 'reject' && reason.value.trim() === '') {
      reason.setAttribute('aria-invalid', 'true');
      result.replaceChildren(h('p', { class: 'error', id: 'reason-error' }, 'A reject needs a reason.'));
      reason.focus();
      return;
    }
    reason.removeAttribute('aria-invalid');
    approve.disabled = reject.disabled = true;
    try {
      const answer = await sendSignedDecision({ attemptId, proposalHash, verdict, human: session.human, reason: reason.value.trim() });
      result.replaceChildren(h('p', { class: 'success' }, `Your ${verdict} counted: ${answer.message} — the attempt is ${answer.status}.`));
      announce(`Decision recorded; the attempt is ${answer.status}`);
      reload();
    } catch (err) {
      result.replaceChildren(h('p', { class: 'error', id: 'decide-error' }, (err as Error).message));
      refresh();
    }
  };
  approve.addEventListener('click', () => void send('approve'));
  reject.addEventListener('click', () => void send('reject'));

  const panel = h(
    'section',
    { class: 'panel decide', id: 'decide-panel', 'aria-labelledby': 'decide-heading' },
    h('h2', { id: 'decide-heading' }, 'Your decision'),
    h(
      'p',
      {},
      'You are deciding on proposal ',
      h('span', { class: 'hash', id: 'decide-hash' }, proposalHash),
      '. Your signature binds exactly this attempt and this hash.',
    ),
    h('label', { for: 'key-file' }, 'Signing key file', keyFile),
    keyStatus,
    h('label', { for: 'reason' }, 'Reason (required to reject)', reason),
    h('p', { id: 'reason-help', class: 'muted' }, 'Recorded with your signed decision.'),
    h(
      'label',
      { class: 'check', for: 'confirm-hash' },
      confirm,
      h('span', {}, `I have reviewed the parameters and facts above and approve proposal ${proposalHash.slice(0, 19)}…`),
    ),
    h('div', { class: 'row' }, approve, reject),
    result,
  );
  refresh();
  return panel;
}

/// <reference lib="dom" />
import type { SessionInfo } from '../api';
import { announce, h } from '../dom';
import { currentKey, importKey } from '../signing';

/** A key file input and its status line; `onChange` runs after each load attempt (buttons re-enable). */
export interface KeyPicker {
  input: HTMLInputElement;
  label: HTMLElement;
  status: HTMLElement;
  refresh(): void;
}

/**
 * Loads the signed-in human's private key into this tab's memory (ui/signing.ts: non-extractable, never sent). The
 * key is shared by every panel of the tab, so one load serves approvals, overrides and freezes. `id` prefixes the
 * element IDs so two pickers can be on one page.
 */
export function keyPicker(session: SessionInfo, id: string, error: (text: string | null) => void, onChange: () => void): KeyPicker {
  const input = h('input', { id: `${id}-key-file`, type: 'file', accept: '.key,.pem,application/x-pem-file' });
  const status = h('p', { id: `${id}-key-status` });
  const refresh = () => {
    const key = currentKey();
    status.replaceChildren(
      key
        ? h('span', { class: 'success' }, `Signing key loaded: registered to ${key.human} (fingerprint ${key.fingerprint}).`)
        : h('span', {}, `Load your private key file (${session.human}.key, written by `, h('code', {}, 'ecp keys new'), ') to sign.'),
    );
    onChange();
  };
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (!file) return;
    error(null);
    file
      .text()
      .then((pem) => importKey(pem, session.human, session.publicKeys))
      .then(() => announce('Signing key loaded'))
      .catch((err: unknown) => error((err as Error).message))
      .finally(() => {
        input.value = '';
        refresh();
      });
  });
  const label = h('label', { for: `${id}-key-file` }, 'Signing key file', input);
  return { input, label, status, refresh };
}

/// <reference lib="dom" />
import { api, ApiFailure } from '../api';
import { h, render } from '../dom';
import type { App } from '../app';

export function renderSignIn(app: App): void {
  const error = h('div', { role: 'alert', id: 'signin-error' });
  const human = h('input', {
    id: 'human',
    name: 'human',
    autocomplete: 'username',
    required: true,
    autocapitalize: 'off',
    spellcheck: 'false',
  });
  const secret = h('input', { id: 'secret', name: 'secret', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'stack', 'aria-describedby': 'signin-help' },
    h('label', { for: 'human' }, 'Human ID', human),
    h('label', { for: 'secret' }, 'Sign-in secret', secret),
    submit,
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.replaceChildren();
    submit.disabled = true;
    api
      .signIn(human.value.trim(), secret.value)
      .then((session) => {
        app.signedIn(session);
        app.navigate(location.pathname === '/' ? '/' : location.pathname);
      })
      .catch((err: unknown) => {
        error.append(h('p', { class: 'error' }, err instanceof ApiFailure ? err.message : 'cannot reach the console'));
        secret.value = '';
        secret.focus();
      })
      .finally(() => (submit.disabled = false));
  });
  render(
    h('h1', {}, 'Sign in'),
    h(
      'p',
      { id: 'signin-help', class: 'muted' },
      'Humans from the directory sign in with the secret an operator gave them (',
      h('code', {}, 'npm start'),
      ' prints the demo ones).',
    ),
    form,
  );
  human.focus();
}

/// <reference lib="dom" />
import { api, ApiFailure, type SignInMethods } from '../api';
import { h, render } from '../dom';
import type { App } from '../app';

/** The sign-in page: single sign-on and/or the secret form, whichever the console offers (secrets if unknown). */
export async function renderSignIn(app: App): Promise<void> {
  const methods: SignInMethods = await api.signInMethods().catch(() => ({ secret: true, oidc: null }));
  // A plain link: the identity provider's pages need a top-level navigation, and the server does the redirect.
  const sso = methods.oidc
    ? h('p', {}, h('a', { href: methods.oidc.startUrl, id: 'sso', class: 'button primary' }, methods.oidc.label))
    : null;
  if (!methods.secret) {
    render(h('h1', {}, 'Sign in'), h('p', { class: 'muted' }, 'Humans from the directory sign in with their organisation account.'), sso);
    return;
  }

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
    sso,
    sso ? h('p', { class: 'muted' }, 'Or with a secret:') : null,
    form,
  );
  human.focus();
}

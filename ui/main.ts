/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/** The ECP console in the browser: a small single-page app over the console API. */
import { api, ApiFailure, setCsrfToken, type AttemptList } from './api';
import { announce, h } from './dom';
import { forgetKey } from './signing';
import { renderAttempt } from './views/attempt';
import { renderFreezes } from './views/freezes';
import { renderAll, renderInbox } from './views/lists';
import { renderSignIn } from './views/signin';
import type { App } from './app';

let events: EventSource | null = null;
let pollTimer: number | undefined;

const app: App = {
  session: null,
  inbox: null,
  onInbox: null,
  cleanup: null,
  navigate(path) {
    if (path !== location.pathname + location.search) history.pushState(null, '', path);
    void route();
  },
  signedIn(session) {
    app.session = session;
    setCsrfToken(session.csrfToken);
    showChrome();
    startLive();
  },
  async signOut() {
    await api.signOut().catch(() => {});
    signedOut('Signed out.');
  },
};

function signedOut(message: string): void {
  app.session = null;
  forgetKey();
  stopLive();
  showChrome();
  announce(message);
  app.navigate('/');
}

function showChrome(): void {
  const nav = document.getElementById('nav')!;
  const who = document.getElementById('who')!;
  nav.hidden = !app.session;
  who.replaceChildren();
  if (app.session) {
    who.append(
      h('span', {}, 'Signed in as ', h('strong', {}, app.session.name ?? app.session.human)),
      h('button', { type: 'button', id: 'sign-out', onclick: () => void app.signOut() }, 'Sign out'),
    );
  }
}

function setInbox(list: AttemptList): void {
  const before = app.inbox?.count;
  app.inbox = list;
  document.getElementById('inbox-count')!.textContent = String(list.count);
  if (before !== undefined && before !== list.count) announce(`Inbox updated: ${list.count} awaiting your decision`);
  app.onInbox?.(list);
}

/** Live inbox: Server-Sent Events, falling back to polling every 5 s if the stream cannot be used. */
function startLive(): void {
  stopLive();
  const poll = () => {
    api.inbox().then(setInbox, (err: unknown) => {
      if (err instanceof ApiFailure && err.status === 401) signedOut('Your session ended; sign in again.');
    });
  };
  if (typeof EventSource === 'undefined') {
    poll();
    pollTimer = window.setInterval(poll, 5000);
    return;
  }
  events = new EventSource('/api/events');
  events.addEventListener('inbox', (e) => setInbox(JSON.parse((e as MessageEvent<string>).data) as AttemptList));
  events.addEventListener('signed-out', () => signedOut('Your session ended; sign in again.'));
  events.onerror = () => {
    if (events?.readyState === EventSource.CLOSED) {
      events = null;
      poll();
      pollTimer = window.setInterval(poll, 5000);
    }
  };
}

function stopLive(): void {
  events?.close();
  events = null;
  if (pollTimer) window.clearInterval(pollTimer);
  pollTimer = undefined;
}

async function route(): Promise<void> {
  app.cleanup?.();
  app.cleanup = null;
  app.onInbox = null;
  if (!app.session) return renderSignIn(app);
  const path = location.pathname;
  for (const link of document.querySelectorAll('nav a')) link.removeAttribute('aria-current');
  const attempt = /^\/attempts\/([^/]+)$/.exec(path);
  if (attempt) return renderAttempt(app, decodeURIComponent(attempt[1]!));
  if (path === '/freezes') {
    document.getElementById('nav-freezes')!.setAttribute('aria-current', 'page');
    return renderFreezes(app);
  }
  if (path === '/all') {
    document.getElementById('nav-all')!.setAttribute('aria-current', 'page');
    return renderAll(app);
  }
  document.getElementById('nav-inbox')!.setAttribute('aria-current', 'page');
  return renderInbox(app);
}

// In-app links navigate without a page load (keeps the imported key in memory).
document.addEventListener('click', (e) => {
  const link = (e.target as Element).closest?.('a[data-link]');
  if (!link || e.defaultPrevented || (e as MouseEvent).ctrlKey || (e as MouseEvent).metaKey || (e as MouseEvent).shiftKey) return;
  e.preventDefault();
  app.navigate(link.getAttribute('href')!);
});
window.addEventListener('popstate', () => void route());

async function boot(): Promise<void> {
  try {
    app.signedIn(await api.session());
  } catch {
    app.session = null;
  }
  await route();
  performance.mark('ecp:first-view'); // the first page is usable from here (read by the browser test)
}

void boot();

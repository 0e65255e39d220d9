import type { AttemptList, SessionInfo } from './api';

/**
 * What a view may use of the running console (session, live inbox, navigation). Declared apart from main.ts, which
 * implements it, so views do not import main.ts (which imports the views).
 */
export interface App {
  session: SessionInfo | null;
  inbox: AttemptList | null;
  navigate(path: string): void;
  signedIn(session: SessionInfo): void;
  signOut(): Promise<void>;
  /** Called when the live inbox changes; the current view may re-render. */
  onInbox: ((list: AttemptList) => void) | null;
  /** Cleanup of the current view (timers). */
  cleanup: (() => void) | null;
}

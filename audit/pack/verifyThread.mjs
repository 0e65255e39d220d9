// Entry of a verification thread (verifyThreads.ts): registers tsx's loader (no build step), then runs the thread.
import { register } from 'tsx/esm/api';

register();
await import('./verifyThread.ts');

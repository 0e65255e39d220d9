import { compact, duration as durationOf, relative as relativeOf, when as whenOf } from '../common/timeFormat';

// The console counts down live, so it keeps seconds under an hour ("59m 58s"); otherwise the CLI's shapes.
export const duration = (ms: number) => durationOf(ms, { seconds: true });
export const relative = (iso: string | null | undefined, now = Date.now()) => relativeOf(iso, now, { seconds: true });
export const when = (iso: string | null | undefined, now = Date.now()) => whenOf(iso, now, { seconds: true });
export { compact };

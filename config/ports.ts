import { createServer } from 'node:net';
import { EcpError } from '../common';

/** A port the plane is about to listen on: who uses it, and how to avoid the clash (env variable to change it). */
export interface PlannedPort {
  port: number;
  what: string;
  hint: string;
}

/** Whether `port` on 127.0.0.1 is taken by someone else right now (port 0 is never taken). */
export async function isPortBusy(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(true);
      else reject(err);
    });
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

/** Throws a clear EcpError if `port` on 127.0.0.1 is taken, naming who should give it up or how to avoid it. */
export async function assertPortFree(port: number, what: string, hint: string): Promise<void> {
  await assertPortsFree([{ port, what, hint }]);
}

/**
 * Checks every planned port before anything starts and names ALL the busy ones in one error, so a newcomer fixes
 * them in one go rather than one per run.
 */
export async function assertPortsFree(ports: PlannedPort[]): Promise<void> {
  const busy: PlannedPort[] = [];
  for (const planned of ports) if (await isPortBusy(planned.port)) busy.push(planned);
  if (busy.length === 0) return;
  if (busy.length === 1) {
    const [b] = busy as [PlannedPort];
    throw new EcpError('connection', `port ${b.port} (${b.what}) is already in use on 127.0.0.1. ${b.hint}`);
  }
  const hints = [...new Set(busy.map((b) => b.hint))];
  throw new EcpError(
    'connection',
    [`ports already in use on 127.0.0.1: ${busy.map((b) => `${b.port} (${b.what})`).join(', ')}.`, ...hints.map((h) => `  ${h}`)].join(
      '\n',
    ),
  );
}

/** A port number from the environment variable `name` (default `fallback`); anything else is a clear error naming it. */
export function portFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new EcpError('config_invalid', `${name} "${raw}" is not a port number (0-65535)`, name);
  return port;
}

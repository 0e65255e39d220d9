import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { EcpError } from '../common/errors';

export type { Logger } from 'pino';

/** How log lines are written: `json` (one object a line, for collectors) or `pretty` (for a person at a terminal). */
export type LogFormat = 'json' | 'pretty';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * ECP_LOG_FORMAT (`json` | `pretty`); default `pretty` when stdout is a terminal, else `json`. Anything else is a clear
 * error naming the variable.
 */
export function logFormatFromEnv(env: NodeJS.ProcessEnv = process.env, isTty = Boolean(process.stdout.isTTY)): LogFormat {
  const raw = env.ECP_LOG_FORMAT?.trim().toLowerCase();
  if (!raw) return isTty ? 'pretty' : 'json';
  if (raw === 'json' || raw === 'pretty') return raw;
  throw new EcpError('config_invalid', `ECP_LOG_FORMAT "${env.ECP_LOG_FORMAT}" must be json or pretty`, 'ECP_LOG_FORMAT');
}

/**
 * ECP_PLANE_LOG_LEVEL for ECP's own lines (pino's names, case-insensitive); default `info`. Not ECP_LOG_LEVEL: that
 * one has always set the Temporal SDK's level (docs/configuration.md), and quieting the SDK must not hide the plane's
 * own lines (scripts wait for "ECP worker running").
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.ECP_PLANE_LOG_LEVEL?.trim().toLowerCase();
  if (!raw) return 'info';
  const level = raw === 'warning' ? 'warn' : raw === 'off' ? 'silent' : raw;
  if (!LEVELS.includes(level))
    throw new EcpError(
      'config_invalid',
      `ECP_PLANE_LOG_LEVEL "${env.ECP_PLANE_LOG_LEVEL}" must be one of ${LEVELS.join(', ')}`,
      'ECP_PLANE_LOG_LEVEL',
    );
  return level;
}

/**
 * A structured logger for one part of the plane (`name`: `ecp`, `worker`, `console` …). JSON lines carry `name`,
 * `level`, `time`, `msg` and the fields given (attempt ID, agent, action type where known). Pretty output keeps the
 * plane's familiar `[ecp] message` lines, with fields on the same line. Writes synchronously, so nothing is lost when
 * the process exits right after a line.
 */
export function createLogger(
  name: string,
  options: { format?: LogFormat; level?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const format = options.format ?? logFormatFromEnv();
  const level = options.level ?? logLevelFromEnv();
  if (format === 'json') return pino({ name, level, base: { name } }, options.destination ?? pino.destination({ sync: true }));
  const stream = pretty({
    destination: options.destination ?? 1,
    sync: true,
    colorize: options.destination ? false : Boolean(process.stdout.isTTY),
    singleLine: true,
    ignore: 'pid,hostname,time,name,level',
    // Levels below warn read as before (`[ecp] …`); warnings and errors say so.
    messageFormat: (log, messageKey) => `[${String(log.name)}] ${severity(log.level)}${String(log[messageKey])}`,
  });
  return pino({ name, level, base: { name } }, stream);
}

/** `warning: ` / `error: ` before a pretty line at that level; nothing below warn. */
function severity(level: unknown): string {
  if (typeof level !== 'number' || level < 40) return '';
  return level >= 60 ? 'fatal: ' : level >= 50 ? 'error: ' : 'warning: ';
}

/** The `(line) => void` callback older parts of the plane take, writing through `logger` at info. */
export function lineLogger(logger: Logger): (line: string) => void {
  return (line) => logger.info(line);
}

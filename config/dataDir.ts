import { resolve } from 'node:path';

/** The data directory: an explicit choice, else ECP_DATA_DIR, else `.ecp-data` in the current directory. */
export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env, explicit?: string): string {
  return resolve(explicit ?? (env.ECP_DATA_DIR || '.ecp-data'));
}

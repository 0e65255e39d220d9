import { resolve } from 'node:path';

/** The data directory: ECP_DATA_DIR, else `.ecp-data` in the current directory. */
export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.ECP_DATA_DIR || '.ecp-data');
}

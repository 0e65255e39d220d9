import { resolve } from 'node:path';
import { z } from 'zod';
import type { PayloadKeySources } from '../codec/dataConverter';
import { payloadEncryptionSchema } from '../codec/keys';
import { parseSourceFile, readSourceFile } from './yamlFile';

const sectionOnly = z.object({ payloadEncryption: payloadEncryptionSchema.optional() });

/**
 * Reads only the `payloadEncryption` section of an ecp.yaml — for clients (the CLI's `show`, `approve`) that need
 * the keys but not the whole configuration (policies, directory). Errors name file, line and field.
 */
export function payloadKeySourcesFromFile(configPath: string, env: NodeJS.ProcessEnv = process.env): PayloadKeySources {
  const file = resolve(configPath);
  const { payloadEncryption } = parseSourceFile(readSourceFile(file), sectionOnly);
  return { config: { file, ...(payloadEncryption ? { payloadEncryption } : {}) }, env };
}

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from '../../common/canonical';
import { EcpError } from '../../common/errors';
import { formatPath, issuePath, plainIssue } from '../../common/validation';
import { evidencePackSchema, type EvidencePack } from './schema';

/** The pack as bytes: RFC 8785 canonical JSON, so equal packs are equal files. */
export function packBytes(pack: EvidencePack): Uint8Array {
  return utf8ToBytes(canonicalJson(pack));
}

/** Validates untrusted input as an evidence pack; the error names the offending field. */
export function parsePack(input: unknown, source = 'evidence pack'): EvidencePack {
  const result = evidencePackSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = formatPath(issuePath(issue));
  throw new EcpError(
    'invalid_input',
    `${source} is not a valid evidence pack: ${path ? `field "${path}" ` : ''}${plainIssue(issue)}`,
    path || undefined,
  );
}

export function readPack(path: string): EvidencePack {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EcpError('not_found', `cannot read ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new EcpError('invalid_input', `${path} is not JSON: ${(err as Error).message}`);
  }
  return parsePack(json, path);
}

/** Writes atomically (temp file + rename), so a crash never leaves half a pack under the final name. */
export function writePack(path: string, pack: EvidencePack): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, packBytes(pack));
  renameSync(tmp, path);
}

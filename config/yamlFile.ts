import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { EcpError, formatPath, issuePath, plainIssue } from '../common';

/** A parsed YAML/JSON file that can say on which line a field sits. */
export interface SourceFile {
  path: string;
  data: unknown;
  lineOf(path: readonly PropertyKey[]): number | null;
}

export function readSourceFile(path: string): SourceFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EcpError('config_invalid', `cannot read ${path}: ${(err as Error).message}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    throw new EcpError('config_invalid', `${path}${line ? `:${line}` : ''}: ${first.message.split('\n')[0]}`);
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // E.g. an alias to an anchor that does not exist, or an alias bomb: the YAML parses but has no value.
    throw new EcpError('config_invalid', `${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  return {
    path,
    data,
    lineOf(fieldPath) {
      for (let n = fieldPath.length; n >= 0; n--) {
        const node = doc.getIn(fieldPath.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
        if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return null;
    },
  };
}

/** Validates a file's content; the error names file, line and field. */
export function parseSourceFile<S extends z.ZodType>(file: SourceFile, schema: S, data: unknown = file.data): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const line = file.lineOf(issue.path);
  const field = formatPath(issuePath(issue));
  throw new EcpError(
    'config_invalid',
    `${file.path}${line ? `:${line}` : ''}: ${field ? `field "${field}" ` : ''}${plainIssue(issue)}`,
    field || undefined,
  );
}

import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, digestOf } from '../../common/canonical';
import { formatPath } from '../../common/validation';
import { parseRecord, recordSchemas, type AttemptRecord } from '../../common/record';
import { parsePack } from '../../audit/pack/io';
import { sealPack } from '../../audit/pack/seal';
import { historyJsonSchema } from '../../audit/pack/schema';
import { loadSavedHistory, rawFinalRecord, recordRefusal, savedHistoryFiles } from '../helpers/savedRecords';

/** Every record a saved history ends with: this version's, ECP 0.1's, the audit fixtures'. */
const saved = savedHistoryFiles()
  .map((file) => ({ file, history: loadSavedHistory(file), raw: rawFinalRecord(loadSavedHistory(file)) }))
  .filter((s) => s.raw !== null);
const quorum = saved.find((s) => s.file.endsWith('histories/succeeded-quorum.json'))!;

const DELETE = Symbol('delete');
type Path = Array<string | number>;

/** A copy of the quorum record with the value at `path` replaced (or deleted): what a tamperer hands a reader. */
function tampered(path: Path, value: unknown): unknown {
  const copy = structuredClone(quorum.raw);
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  if (value === DELETE) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return copy;
}

/** The EcpError `parseRecord` throws, so a test can check the field it names. */
const refusal = (input: unknown) => recordRefusal(parseRecord, input);

describe('the record schema (ecp.record.v1)', () => {
  it('has every saved record to check: each lifecycle path, from this version and from ECP 0.1', () => {
    const statuses = saved.map((s) => (s.raw as AttemptRecord).status);
    expect(saved.length).toBeGreaterThanOrEqual(15);
    expect(new Set(statuses)).toEqual(new Set(['CANCELLED', 'DENIED', 'EXPIRED', 'FAILED', 'REJECTED', 'SUCCEEDED']));
  });

  it.each(saved.map((s) => [`${basename(s.file)} (${s.file.split('/').at(-2)})`, s] as const))(
    'accepts %s, exactly as saved',
    (_name, s) => {
      const record = parseRecord(s.raw);
      // Nothing defaulted, dropped or transformed: the parsed record is the saved one, so its digest still verifies.
      expect(canonicalJson(record)).toBe(canonicalJson(s.raw));
      const { digest, ...body } = record;
      expect(digestOf(body)).toBe(digest);
    },
  );

  it.each<[string, Path, unknown]>([
    ['another format', ['schema'], 'ecp.record.v2'],
    ['an unknown status', ['status'], 'DONE'],
    ['a field the schema does not know', ['approvedByCeo'], true],
    ['an unknown field deep inside', ['context', 'directory', 'humans', 'bob', 'role'], 'admin'],
    ['a missing field that a default would fill in', ['proposal', 'claims'], DELETE],
    ['a signed statement without its reason', ['decisions', 'accepted', 1, 'statement', 'reason'], DELETE],
    ['a signature that is not one', ['decisions', 'accepted', 0, 'signature'], 'forged'],
    ['a pinned agent without scopes', ['context', 'directory', 'agent', 'scopes'], DELETE],
    ['a public key that is not Ed25519 hex', ['context', 'directory', 'humans', 'erin', 'publicKeys', 0], 'KEY'],
    ['an outcome both ok and failed', ['outcome', 'error'], { type: 'x', message: 'y' }],
    ['advice with an unknown verdict', ['advice', 'verdict'], 'maybe'],
    ['a refusal with an unknown code', ['decisions', 'refused', 0, 'code'], 'too_late'],
    ['a quorum that is not a count', ['requirements', 0, 'quorum'], 1.5],
    ['a time that is not a time', ['timeline', 2, 'at'], 'yesterday'],
  ])('refuses %s, naming the field', (_what, path, value) => {
    const err = refusal(tampered(path, value));
    const field = formatPath(path);
    expect(err.code).toBe('invalid_input');
    expect(err.field).toBe(field);
    expect(err.message).toContain(`field "${field}"`);
  });

  it('refuses what is not a record at all', () => {
    expect(refusal(null).message).toMatch(/^invalid execution record: /);
    expect(refusal({ schema: 'ecp.record.v1' }).field).toBe('attemptId');
  });

  it('is built once, on first use (workflows import the module but never parse a record)', () => {
    expect(recordSchemas()).toBe(recordSchemas());
  });
});

describe('an evidence pack is read with the record schema', () => {
  const pack = () =>
    sealPack(parseRecord(quorum.raw).attemptId, '2026-11-22T03:00:00.000Z', {
      record: parseRecord(quorum.raw),
      history: historyJsonSchema.parse(quorum.history),
      directory: parseRecord(quorum.raw).context!.directory,
      policyBundle: null,
      code: { ecpVersion: '0.0.0', workflowBundleDigest: null, buildIds: [] },
    });

  it('reads a pack whose record fits, and gives back exactly that record', () => {
    const read = parsePack(JSON.parse(JSON.stringify(pack())));
    expect(canonicalJson(read.parts.record)).toBe(canonicalJson(quorum.raw));
  });

  it('refuses a pack whose record does not fit, naming the field inside the pack', () => {
    const json = JSON.parse(JSON.stringify(pack()));
    json.parts.record.decisions.accepted[0].keyFingerprint = 'alice';
    expect(() => parsePack(json, 'tampered.json')).toThrow(
      /^tampered\.json is not a valid evidence pack: field "parts\.record\.decisions\.accepted\[0\]\.keyFingerprint" /,
    );
    const extra = JSON.parse(JSON.stringify(pack()));
    extra.parts.directory.humans.mallory = { groups: ['sre'], publicKeys: ['00'.repeat(32)], note: 'x' };
    expect(() => parsePack(extra)).toThrow(/field "parts\.directory\.humans\.mallory\.note"/);
  });
});

describe('the console API documents the record with the record schema itself', () => {
  it('names AttemptRecord and JsonValue as components, even when the schemas were built before the API loaded', async () => {
    // Built first, as a client or pack reader in the same process would: the API must not depend on import order.
    recordSchemas();
    const { OpenAPIHono, createRoute } = await import('@hono/zod-openapi');
    const { attemptViewSchema } = await import('../../api/schemas');
    const app = new OpenAPIHono();
    const route = createRoute({
      method: 'get',
      path: '/view',
      responses: { 200: { description: 'view', content: { 'application/json': { schema: attemptViewSchema } } } },
    });
    app.openapi(route, (c) => c.json(null as never));
    const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'test', version: '1' } });
    const schemas = doc.components!.schemas as Record<string, { properties: Record<string, unknown>; required?: string[] }>;
    expect(schemas.AttemptView!.properties.record).toEqual({ $ref: '#/components/schemas/AttemptRecord' });
    // `governance` is optional: records of attempts started before the governance controls have none.
    expect(schemas.AttemptRecord!.required).toEqual(Object.keys(recordSchemas().attemptRecord.shape).filter((k) => k !== 'governance'));
    expect(JSON.stringify(schemas.AttemptRecord)).toContain('"$ref":"#/components/schemas/JsonValue"');
  });
});

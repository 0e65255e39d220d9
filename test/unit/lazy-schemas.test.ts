import { describe, expect, it } from 'vitest';
import { z } from 'zod';

// Every workflow evaluates common/ afresh in its own sandbox, so a schema built at module load is paid for by every
// attempt, used or not. zod calls `globalThis.__zod_globalConfig.postProcessor` for each schema it constructs: count.
const config = (globalThis as { __zod_globalConfig?: { postProcessor?: (schema: unknown) => void } }).__zod_globalConfig!;
let built = 0;
config.postProcessor = () => void built++;

describe('common/ schemas are built on first use', () => {
  it('loading common/ builds (almost) none; using one builds it once', async () => {
    const before = built;
    const common = await import('../../common');
    await import('../../common/mcpRelay');
    // z.json() (jsonValueSchema, named as an OpenAPI component) is built at load: a z.lazy, two constructions.
    expect(built - before).toBeLessThanOrEqual(2);

    const loaded = built;
    expect(common.freezeScopeSchema.safeParse({ kind: 'all' }).success).toBe(true);
    const afterUse = built;
    expect(afterUse).toBeGreaterThan(loaded);
    expect(common.freezeScopeSchema.safeParse({ kind: 'agent', agent: 'a1' }).success).toBe(true);
    expect(built).toBe(afterUse);
  });

  it('a lazy schema behaves as the schema: composition, extend, instanceof, errors naming the field', async () => {
    const { proposalSchema, digestSchema, humanIdSchema } = await import('../../common');
    expect(digestSchema).toBeInstanceOf(z.ZodString);
    const wrapped = z.object({ by: humanIdSchema, digest: digestSchema.optional() });
    expect(wrapped.safeParse({ by: 'alice' }).success).toBe(true);
    expect(wrapped.safeParse({ by: '' }).error?.issues[0]?.message).toBe('must not be empty');
    const extended = proposalSchema.extend({ note: z.string() });
    expect(Object.keys(extended.shape)).toContain('note');
    expect(Object.keys(proposalSchema.shape)).not.toContain('note');
  });

  it('one schema per name: builders of the same code share it; different code under one name is refused', async () => {
    const { lazySchema, sharedSchema } = await import('../../common/lazySchema');
    // Two module instances of the same code (as two workflows' sandboxed copies of common/ are) build under one name.
    const instance = () => lazySchema('test.shared', () => z.strictObject({ n: z.number().int() }));
    const first = instance();
    const second = instance();
    const before = built;
    expect(first.safeParse({ n: 1 }).success).toBe(true);
    const afterFirst = built;
    expect(afterFirst).toBeGreaterThan(before);
    expect(second.safeParse({ n: 1.5 }).success).toBe(false);
    expect(built).toBe(afterFirst);
    expect(second._zod).toBe(first._zod);
    expect(() => sharedSchema('test.shared', () => z.string())).toThrow(
      'schema name "test.shared" is used by two different schema builders',
    );
  });
});

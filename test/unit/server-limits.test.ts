import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LIMITS, SERVER_LIMITS, SERVER_LIMIT_SETTINGS } from '../../common';
import { serverLimitArgs } from '../../worker/serverLimits';

const TEMPORAL_HISTORY_LIMIT = 50 * 1024 * 1024;

describe("ECP's server limits", () => {
  it('fit an attempt in Temporal’s history limit whatever signals arrive, with room for its own events', () => {
    expect(SERVER_LIMITS.signalsPerAttempt * SERVER_LIMITS.blobBytes).toBeLessThanOrEqual(TEMPORAL_HISTORY_LIMIT * 0.7);
    // A proposal, and everything a record holds twice over (context and re-check), stays below the payload limit.
    expect(LIMITS.proposalBytes + 2 * LIMITS.factsBytes).toBeLessThan(SERVER_LIMITS.blobBytes / 2);
  });

  it('are the ones docker-compose.yml gives its Temporal server (one source, no drift)', () => {
    const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as {
      configs: Record<string, { content: string }>;
    };
    const dynamic = parse(compose.configs['temporal-dynamic-config']!.content) as Record<string, Array<{ value: unknown }>>;
    for (const [key, value] of Object.entries(SERVER_LIMIT_SETTINGS))
      expect({ key, value: dynamic[key]?.[0]?.value }).toEqual({ key, value });
  });

  it('are what the embedded dev server is started with', () => {
    const args = serverLimitArgs();
    for (const [key, value] of Object.entries(SERVER_LIMIT_SETTINGS)) expect(args).toContain(`${key}=${value}`);
  });
});

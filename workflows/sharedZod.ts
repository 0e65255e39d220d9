/**
 * Preloaded into the plane's workflow bundle and the audit replay bundle (like sharedCrypto.ts): one instance of the
 * zod library for every workflow, instead of evaluating its modules again for each new or replayed workflow (about
 * half of a workflow's start-up CPU in the profile). Our own schemas are shared too, through common/lazySchema.ts (its
 * cache is module state the SDK's freezing of shared modules does not reach).
 *
 * zod sets some module state lazily, on first use: its default locale and memoizer (in its global config) and
 * whether it may generate code (`util.allowsEval`). The SDK freezes shared modules after preloading, so that state
 * is settled here, before then, by building and using one schema of each kind that triggers it. Runs in the
 * workflow sandbox.
 */
import { z } from 'zod';
import { util } from 'zod/v4/core';

void util.allowsEval.value;
z.object({ text: z.string().min(1), list: z.array(z.number()) }).safeParse({ text: '', list: ['x'] });

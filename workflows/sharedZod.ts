/**
 * Preloaded into the plane's workflow bundle and the audit replay bundle (like sharedCrypto.ts): one instance of the
 * zod library for every workflow, instead of evaluating its modules again for each new or replayed workflow (about
 * half of a workflow's start-up CPU in the profile). Our own schemas (common/*) stay per workflow: zod caches
 * derived state on schema objects, and shared modules are frozen.
 *
 * zod sets some module state lazily, on first use: its default locale and memoizer (in its global config) and
 * whether it may generate code (`util.allowsEval`; never, with `jitless`). The SDK freezes shared modules after
 * preloading, so that state is settled here, before then, by building and using one schema of each kind that
 * triggers it. Runs in the workflow sandbox.
 */
import { z } from 'zod';
import { util } from 'zod/v4/core';

// No generated parsers in the sandbox: zod compiles a parser (`new Function`) per object schema on its first parse,
// and every workflow builds its own schemas and parses each about once, so compiling costs more than it saves. The
// interpreted path gives the same results. (Set before the SDK freezes this module's state.)
z.config({ jitless: true });
void util.allowsEval.value;
z.object({ text: z.string().min(1), list: z.array(z.number()) }).safeParse({ text: '', list: ['x'] });

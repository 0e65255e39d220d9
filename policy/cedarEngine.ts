/**
 * The one way Node code reaches cedar-wasm. Import Cedar from here, never from the package directly.
 *
 * Why: V8 11.x (Node 20) aborts the whole process ("Fatal error … unreachable code" in
 * `Deoptimizer::DoComputeBuiltinContinuation`) when TurboFan has inlined a JS→Wasm call whose signature uses
 * `externref` and the optimised caller is lazily deoptimised while Wasm runs. Every cedar-wasm export takes and
 * returns `externref`, and Cedar calls back into JS (reading the request) in the middle, so a busy worker meets
 * this sooner or later. Newer V8 materialises reference results when deoptimising; older V8 does not.
 * Turning that one inlining off before any Cedar call is optimised removes the crash at the cost of an ordinary
 * call per evaluation. `test/unit/cedar-engine.test.ts` reproduces the crash without this line.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-turbo-inline-js-wasm-calls');

export * from '@cedar-policy/cedar-wasm/nodejs';

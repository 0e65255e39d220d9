// @ts-check
/**
 * ECP's layers, checked by `npm run lint` (dependency-cruiser). Each top-level folder is one layer and may import
 * only the layers listed for it (its own folder included); everything else is a violation. Lowest first:
 *
 *   common                       the sandbox-safe contract (proposal, decision, record, rules, duration …)
 *   codec, policy                payload codec; Cedar bundle and advice
 *   config                       ecp.yaml, Temporal connection, ports and data directory from the environment
 *   telemetry                    metrics (prom-client), structured logs (pino), tracing (OpenTelemetry), health endpoint
 *   workflows                    the deterministic workflow code (+ workflows/bundle*.ts, how it is bundled: Node-side)
 *   client                       the client library services import (EcpClient, keys, list queries, listing seals)
 *   audit                        evidence packs, replay, archive, back-testing (built on the client library)
 *   gateway                      the MCP gateway agents connect to (tools/list, tools/call → attempts); a client
 *   adapters                     governed tools for agent frameworks (Vercel AI SDK, OpenAI Agents SDK); a client
 *   activities                   the plane's side effects (context, policy, executors, archiver)
 *   api                          the console's HTTP API (and the gateway's Streamable HTTP endpoint)
 *   examples                     the demo (action types, target service, set-up)
 *   worker, cli                  the two programs: the plane (`npm start`, `npm run worker`) and the `ecp` CLI;
 *                                neither imports the other
 *   ui                           browser code: only common/ and itself, no Node built-ins
 *   test, bench                  leaves: nothing outside them imports them
 *
 * Why these edges: see docs/layout.md ("Layers").
 */

/** Which layers each layer may import (its own folder is always allowed). */
const MAY_IMPORT = {
  common: [],
  codec: ['common'],
  policy: ['common'],
  config: ['common', 'codec', 'policy'],
  telemetry: ['common', 'config'],
  workflows: ['common'],
  client: ['common', 'codec', 'config'],
  audit: ['common', 'codec', 'policy', 'config', 'workflows', 'client'],
  gateway: ['common', 'codec', 'config', 'client'],
  adapters: ['common', 'client'],
  activities: ['common', 'codec', 'policy', 'config', 'workflows', 'client', 'audit'],
  api: ['common', 'codec', 'policy', 'config', 'workflows', 'client', 'audit', 'gateway'],
  examples: ['common', 'codec', 'policy', 'config', 'client', 'gateway', 'api'],
  worker: ['common', 'codec', 'policy', 'config', 'workflows', 'client', 'audit', 'activities', 'api', 'examples', 'gateway', 'telemetry'],
  cli: ['common', 'codec', 'policy', 'config', 'workflows', 'client', 'audit', 'api', 'gateway', 'telemetry'],
  ui: ['common'],
};
/**
 * Imports of types only (erased before run time) that a layer may make beyond MAY_IMPORT. The one exception:
 * Temporal's `proxyActivities<PlaneActivities>()` types the workflow's calls with the activities' own signatures;
 * a type import never reaches the workflow bundle.
 */
const MAY_IMPORT_TYPES = {
  workflows: ['activities'],
};
const LAYERS = Object.keys(MAY_IMPORT);
/** Folders no layer may import: tests and benchmarks are leaves (they may import each other's helpers). */
const LEAVES = ['test', 'bench'];

/** Modules that cannot run in Temporal's workflow sandbox or in a browser. */
const NODE_ONLY_PACKAGES =
  '(^|/)node_modules/(@temporalio/(worker|client|activity|testing)|@cedar-policy|ajv|yaml|hono|@hono|commander|cli-table3|esbuild|tsx)/';

/** @type {import('dependency-cruiser').IConfiguration['forbidden']} */
const layerRules = LAYERS.flatMap((layer) => {
  const allowed = [layer, ...MAY_IMPORT[layer]];
  const typesOnly = MAY_IMPORT_TYPES[layer] ?? [];
  const forbidden = [...LAYERS, ...LEAVES].filter((l) => !allowed.includes(l) && !typesOnly.includes(l));
  const comment = `${layer}/ may import only ${allowed.join(', ')}${typesOnly.length ? ` (and types from ${typesOnly.join(', ')})` : ''}`;
  const rules = [
    { name: `layer-${layer}`, comment, severity: 'error', from: { path: `^${layer}/` }, to: { path: `^(${forbidden.join('|')})/` } },
  ];
  if (typesOnly.length > 0) {
    rules.push({
      name: `layer-${layer}-types-only`,
      comment,
      severity: 'error',
      from: { path: `^${layer}/` },
      to: { path: `^(${typesOnly.join('|')})/`, dependencyTypesNot: ['type-only'] },
    });
  }
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: the modules cannot be understood (or loaded) one before the other.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'leaves-not-imported',
      comment: 'test/ and bench/ are leaves: the product never imports them.',
      severity: 'error',
      from: { pathNot: `^(${LEAVES.join('|')})/` },
      to: { path: `^(${LEAVES.join('|')})/` },
    },
    {
      name: 'workflow-sandbox-no-node',
      comment:
        "workflows/ and common/ run in Temporal's deterministic sandbox: no Node built-ins, no Node-only packages " +
        '(workflows/bundle.ts and bundleOutputs.ts are the Node-side bundler, never imported by workflow code).',
      severity: 'error',
      from: { path: '^(workflows|common)/', pathNot: '^workflows/bundle(Outputs)?\\.ts$' },
      to: { dependencyTypesNot: ['type-only'], path: NODE_ONLY_PACKAGES },
    },
    {
      name: 'workflow-sandbox-no-core',
      comment: "workflows/ and common/ run in Temporal's deterministic sandbox: no Node built-ins.",
      severity: 'error',
      from: { path: '^(workflows|common)/', pathNot: '^workflows/bundle(Outputs)?\\.ts$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'workflow-bundle-not-in-sandbox',
      comment:
        'workflows/bundle.ts and bundleOutputs.ts bundle the workflow code with Node; workflow and common code must not import them.',
      severity: 'error',
      from: { path: '^(workflows|common)/', pathNot: '^workflows/bundle\\.ts$' },
      to: { path: '^workflows/bundle(Outputs)?\\.ts$' },
    },
    {
      name: 'config-without-policies-no-cedar',
      comment:
        'config/withoutPolicies.ts is how the CLI and clients read ecp.yaml without the policy engine (loading Cedar costs ' +
        'a command ≈ 0.7 s): nothing it reaches may load policy/ or Cedar.',
      severity: 'error',
      from: { path: '^config/withoutPolicies\\.ts$' },
      to: { path: '^policy/|(^|/)node_modules/@cedar-policy/', reachable: true },
    },
    {
      name: 'ui-browser-only',
      comment: 'ui/ runs in the browser: no Node built-ins, no Node-only packages.',
      severity: 'error',
      from: { path: '^ui/' },
      to: { path: NODE_ONLY_PACKAGES },
    },
    {
      name: 'ui-no-core',
      comment: 'ui/ runs in the browser: no Node built-ins.',
      severity: 'error',
      from: { path: '^ui/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'layer-unknown',
      comment: 'Every source folder is a layer: add a new top-level folder to MAY_IMPORT (and docs/layout.md) first.',
      severity: 'error',
      from: { pathNot: `^(${[...LAYERS, ...LEAVES, 'bin', 'node_modules'].join('|')})/|^[^/]+$` },
      to: {},
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(\\.ecp-data|test-artifacts)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count as edges too: a type from a higher layer couples the layers just the same.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mjs', '.js', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};

import { EcpError } from '../common';
import { loadPolicyBundle, type PolicyBundle } from '../policy/bundle';
import { parseDuration } from '../common/duration';
import type { McpToolDefinition } from '../common/mcp';
import { dataDirFromEnv } from './dataDir';
import { mcpCatalogueFile } from './mcpCatalogueFile';
import { mcpCedarDeclarations } from './mcpActionTypes';
import { readConfigWithoutPolicies, throwOnProblems, type ConfigWithoutPolicies, type LoadConfigOptions } from './withoutPolicies';

export { loadConfigWithoutPolicies, type ConfigWithoutPolicies, type LoadConfigOptions } from './withoutPolicies';

/** Everything the plane needs to govern attempts, loaded and cross-checked. Immutable; reload builds a new one. */
export interface PlaneConfig extends ConfigWithoutPolicies {
  bundle: PolicyBundle;
}

export type LoadPlaneConfigOptions = LoadConfigOptions;

/**
 * Loads `ecp.yaml` (and the files it points to), validates every part and cross-references them. Any problem throws
 * an EcpError naming the file, line and field — the plane refuses to start on a bad configuration (fail closed).
 * Everything but the policies is read as `loadConfigWithoutPolicies` reads it (config/withoutPolicies.ts).
 */
export function loadPlaneConfig(configPath: string, options: LoadPlaneConfigOptions = {}): PlaneConfig {
  const { config, policies, mcp, problems } = readConfigWithoutPolicies(configPath, options);
  let bundle: PolicyBundle;
  try {
    bundle = loadPolicyBundle(policies.dir, {
      defaultDeadlineSeconds: parseDuration(policies.defaultDeadline),
      ...(mcp ? { extendSchema: (declared) => mcpCedarDeclarations(mcp.raw, mcp.tools, declared) } : {}),
    });
  } catch (err) {
    if (err instanceof EcpError && err.message.startsWith('cannot read'))
      throw new EcpError(err.code, `${config.file}: field "policies": ${err.message}`, 'policies');
    if (mcp && err instanceof EcpError && err.message.includes('Action::"mcp.')) throw undiscoveredToolHint(err, mcp.catalogue);
    throw err;
  }
  throwOnProblems(config.file, [...problems.directory, ...policyProblems(config, bundle), ...problems.others]);
  return { ...config, bundle };
}

/** A policy names an MCP action the catalogue does not (yet) have: say so, and where the catalogue comes from. */
function undiscoveredToolHint(err: EcpError, tools: readonly McpToolDefinition[] | null): EcpError {
  const source =
    tools === null
      ? `no tool catalogue has been discovered yet (${mcpCatalogueFile(dataDirFromEnv())} is missing: start the worker once)`
      : `the tool catalogue lists ${tools.length} tool(s)`;
  return new EcpError(
    err.code,
    `${err.message}\n  (MCP tool actions are declared from the discovered catalogue and ${source}; a tool that is not (yet) discovered cannot be named — name its server's group, e.g. \`action in Action::"mcp.<server>"\`)`,
    err.field,
  );
}

/** What the policies name that the directory and action types do not have. */
function policyProblems(config: ConfigWithoutPolicies, bundle: PolicyBundle): string[] {
  const problems: string[] = [];
  const groups = new Set(Object.keys(config.directory.groups));
  for (const [policyId, req] of Object.entries(bundle.requirements)) {
    for (const g of req.groups) {
      if (!groups.has(g)) problems.push(`${bundle.sources[policyId]}: policy "${policyId}" requires approval from undeclared group "${g}"`);
    }
  }
  const declared = new Set(bundle.actions);
  for (const name of Object.keys(config.actionTypes)) {
    if (!declared.has(name)) problems.push(`action type "${name}" has no action in ${bundle.dir}/schema.cedarschema`);
  }
  return problems;
}

import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { digestOf, directorySchema, EcpError, type Directory, type Proposal } from '../common';
import { loadPolicyBundle, type PolicyBundle } from '../policy/bundle';
import { parseDuration } from './duration';
import { actionTypesFileSchema, configFileSchema, type ActionTypeConfig } from './schema';
import { parseSourceFile, readSourceFile } from './yamlFile';

/** Everything the plane needs to govern attempts, loaded and cross-checked. Immutable; reload builds a new one. */
export interface PlaneConfig {
  file: string;
  directory: Directory;
  directoryVersion: string;
  actionTypes: Record<string, ActionTypeConfig>;
  actionTypeVersions: Record<string, string>;
  bundle: PolicyBundle;
  validateParameters(proposal: Pick<Proposal, 'actionType' | 'parameters'>): string | null;
}

/**
 * Loads `ecp.yaml` (and the files it points to), validates every part and cross-references them. Any problem throws
 * an EcpError naming the file, line and field — the plane refuses to start on a bad configuration (fail closed).
 */
export function loadPlaneConfig(configPath: string): PlaneConfig {
  const file = resolve(configPath);
  const base = dirname(file);
  const source = readSourceFile(file);
  const raw = parseSourceFile(source, configFileSchema);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(base, p));

  let directory: Directory;
  if (typeof raw.directory === 'string') {
    const dirFile = readSourceFile(at(raw.directory));
    directory = parseSourceFile(dirFile, directorySchema);
  } else directory = raw.directory;

  let actionTypes: Record<string, ActionTypeConfig>;
  if (typeof raw.actionTypes === 'string') {
    const atFile = readSourceFile(at(raw.actionTypes));
    actionTypes = parseSourceFile(atFile, actionTypesFileSchema);
  } else actionTypes = raw.actionTypes;

  const bundle = loadPolicyBundle(at(raw.policies), { defaultDeadlineSeconds: parseDuration(raw.defaults.approvalDeadline) });
  const problems = crossCheck(directory, actionTypes, bundle);

  const ajv = new Ajv({ allErrors: false, strict: true });
  const validators: Record<string, ValidateFunction> = {};
  for (const [name, type] of Object.entries(actionTypes)) {
    try {
      validators[name] = ajv.compile(type.parameters);
    } catch (err) {
      problems.push(`action type "${name}": parameters is not a valid JSON Schema: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new EcpError('config_invalid', `${file} is inconsistent:\n  ${problems.join('\n  ')}`);

  return {
    file,
    directory,
    directoryVersion: digestOf(directory),
    actionTypes,
    actionTypeVersions: Object.fromEntries(Object.entries(actionTypes).map(([n, t]) => [n, digestOf(t)])),
    bundle,
    validateParameters({ actionType, parameters }) {
      const validate = validators[actionType];
      if (!validate) return `unknown action type "${actionType}"`;
      if (validate(parameters)) return null;
      const err = validate.errors?.[0];
      const field = `parameters${(err?.instancePath ?? '').replace(/\//g, '.')}`;
      return `field "${field}" ${err?.message ?? 'is invalid'}`;
    },
  };
}

function crossCheck(directory: Directory, actionTypes: Record<string, ActionTypeConfig>, bundle: PolicyBundle): string[] {
  const problems: string[] = [];
  const groups = new Set(Object.keys(directory.groups));
  for (const [id, human] of Object.entries(directory.humans)) {
    for (const g of human.groups) if (!groups.has(g)) problems.push(`directory: human "${id}" is in undeclared group "${g}"`);
    if (id in directory.agents) problems.push(`directory: "${id}" is both a human and an agent`);
  }
  for (const [id, agent] of Object.entries(directory.agents)) {
    if (!(agent.owner in directory.humans)) problems.push(`directory: agent "${id}" has owner "${agent.owner}", who is not a human in the directory`);
  }
  for (const [policyId, req] of Object.entries(bundle.requirements)) {
    for (const g of req.groups) {
      if (!groups.has(g)) problems.push(`${bundle.sources[policyId]}: policy "${policyId}" requires approval from undeclared group "${g}"`);
    }
  }
  const declared = new Set(bundle.actions);
  for (const name of Object.keys(actionTypes)) {
    if (!declared.has(name)) problems.push(`action type "${name}" has no action in ${bundle.dir}/schema.cedarschema`);
  }
  return problems;
}

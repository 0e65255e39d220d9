import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as cedar from './cedarEngine';
import type { ApprovalRequirement } from '../common/advice';
import { digestOf } from '../common/canonical';
import { EcpError } from '../common/errors';
import { requirementFromAnnotations } from './annotations';
import { sliceIndexFor } from './slices';
import { describeCedarErrors, lineAndColumn } from './sourceLocation';

export const SCHEMA_FILE = 'schema.cedarschema';

/** A validated, preparsed Cedar policy bundle. Immutable; a reload builds a new one. */
export interface PolicyBundle {
  dir: string;
  /** Digest over the schema and every policy, pinned in each attempt's context and advice. */
  version: string;
  schemaText: string;
  policies: Record<string, string>;
  effects: Record<string, 'permit' | 'forbid'>;
  /** Where each policy starts, "file:line", for messages. */
  sources: Record<string, string>;
  requirements: Record<string, ApprovalRequirement>;
  /** Every group any approval policy names: only their members are pinned as possible deciders. */
  approvalGroups: string[];
  /** Actions the schema declares (action type names). */
  actions: string[];
  /** Deadline of approval policies without `@deadline` (from configuration); kept so the bundle can be re-derived. */
  defaultDeadlineSeconds: number;
}

export interface LoadPolicyOptions {
  defaultDeadlineSeconds: number;
}

/**
 * Loads every `*.cedar` file in `dir` plus `schema.cedarschema`, validates the policies against the schema in strict
 * mode, and preparses them. Throws an EcpError listing every problem as "file:line:col: reason" — fail closed.
 */
export function loadPolicyBundle(dir: string, options: LoadPolicyOptions): PolicyBundle {
  const problems: string[] = [];
  const schemaPath = join(dir, SCHEMA_FILE);
  let schemaText = '';
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    schemaText = readFileSync(schemaPath, 'utf8');
  } catch (err) {
    throw new EcpError('policy_invalid', `cannot read the Cedar schema ${schemaPath}: ${(err as Error).message}`);
  }
  const schemaCheck = cedar.checkParseSchema(schemaText);
  if (schemaCheck.type === 'failure') problems.push(...describeCedarErrors(schemaPath, schemaText, schemaCheck.errors));

  const policies: Record<string, string> = {};
  const effects: Record<string, 'permit' | 'forbid'> = {};
  const sources: Record<string, string> = {};
  const requirements: Record<string, ApprovalRequirement> = {};
  const offsets: Record<string, { file: string; text: string; offset: number }> = {};

  const files = readdirSync(dir).filter((f) => f.endsWith('.cedar')).sort();
  for (const name of files) {
    const file = join(dir, name);
    const text = readFileSync(file, 'utf8');
    const parsed = cedar.policySetTextToParts(text);
    if (parsed.type === 'failure') {
      problems.push(...describeCedarErrors(file, text, parsed.errors));
      continue;
    }
    if (parsed.policy_templates.length > 0) problems.push(`${file}: policy templates are not supported`);
    let searchFrom = 0;
    parsed.policies.forEach((policyText, index) => {
      const offset = Math.max(0, text.indexOf(policyText, searchFrom));
      searchFrom = offset + policyText.length;
      const where = `${relative(process.cwd(), file) || file}:${lineAndColumn(text, offset).line}`;
      const json = cedar.policyToJson(policyText);
      if (json.type === 'failure') {
        problems.push(...describeCedarErrors(file, text, json.errors, offset));
        return;
      }
      const annotations = json.json.annotations ?? {};
      const id = annotations.id ?? `${name.replace(/\.cedar$/, '')}#${index + 1}`;
      if (id in policies) {
        problems.push(`${where}: duplicate policy id "${id}" (also at ${sources[id]})`);
        return;
      }
      policies[id] = policyText;
      effects[id] = json.json.effect;
      sources[id] = where;
      offsets[id] = { file, text, offset };
      const { requirement, problems: annotationProblems } = requirementFromAnnotations(
        id,
        json.json.effect,
        annotations,
        options.defaultDeadlineSeconds,
      );
      problems.push(...annotationProblems.map((p) => `${where}: policy "${id}": ${p}`));
      if (requirement) requirements[id] = requirement;
    });
  }

  if (problems.length === 0) {
    const validation = cedar.validate({ schema: schemaText, policies: { staticPolicies: policies }, validationSettings: { mode: 'strict' } });
    if (validation.type === 'failure') problems.push(...describeCedarErrors(schemaPath, schemaText, validation.errors));
    else {
      for (const { policyId, error } of validation.validationErrors) {
        const at = offsets[policyId];
        problems.push(...(at ? describeCedarErrors(at.file, at.text, [error], at.offset) : [`policy "${policyId}": ${error.message}`]));
      }
    }
  }
  if (problems.length > 0) {
    throw new EcpError('policy_invalid', `policy bundle ${dir} is invalid:\n  ${problems.join('\n  ')}`);
  }

  const version = digestOf({ schema: schemaText, policies });
  const preparsed = cedar.preparsePolicySet(version, { staticPolicies: policies });
  if (preparsed.type === 'failure') {
    throw new EcpError('policy_invalid', `policy bundle ${dir} could not be prepared: ${preparsed.errors.map((e) => e.message).join('; ')}`);
  }
  const bundle: PolicyBundle = {
    dir,
    version,
    schemaText,
    policies,
    effects,
    sources,
    requirements,
    approvalGroups: [...new Set(Object.values(requirements).flatMap((r) => r.groups))].sort(),
    actions: schemaActions(schemaText),
    defaultDeadlineSeconds: options.defaultDeadlineSeconds,
  };
  // Index and preparse the per-action slices now, so the first attempt does not pay for it (policy/slices.ts).
  try {
    sliceIndexFor(bundle);
  } catch (err) {
    throw new EcpError('policy_invalid', `policy bundle ${dir} could not be prepared: ${(err as Error).message}`);
  }
  return bundle;
}

function schemaActions(schemaText: string): string[] {
  const json = cedar.schemaToJson(schemaText);
  if (json.type === 'failure') return [];
  return Object.values(json.json).flatMap((ns) => Object.keys(ns.actions ?? {}));
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AdviceRequest } from '../../policy/evaluate';

/**
 * A realistic large policy bundle for the policy benchmark and the slicing differential test, generated
 * deterministically from a seed. Shape (for 1,000 policies):
 *  - 48 action types over 8 domains (payments.refund, deploys.release, db.migrate, …), one Cedar schema;
 *  - 240 agents (`agent-000` …), each scoped to the actions of one or two domains; 24 approver groups;
 *  - ≈1% unscoped policies (`action` unconstrained: global risk forbids and a global approval for huge amounts);
 *  - the rest spread evenly over the action types, per action a mix of: an automatic permit under a threshold
 *    (scope check), one or two approval permits (`@requires_approval`, quorum 1–2, deadline), forbids on facts
 *    (freeze, amount over the verified total), per-agent permits and forbids (`principal == Agent::"…"`), and
 *    action-group policies (`action in [A, B, C]` across a domain).
 */

export const DOMAINS = ['payments', 'deploys', 'db', 'crm', 'infra', 'hr', 'support', 'data'] as const;
export const VERBS = ['create', 'update', 'delete', 'export', 'approve', 'rollback'] as const;
export const AGENTS = 240;
export const GROUPS = 24;

export const benchActions = (): string[] => DOMAINS.flatMap((d) => VERBS.map((v) => `${d}.${v}`));
export const agentId = (i: number) => `agent-${String(i % AGENTS).padStart(3, '0')}`;
export const groupId = (i: number) => `approvers-${String(i % GROUPS).padStart(2, '0')}`;

/** Scopes of agent i: the actions of its home domain, and every other agent also a second domain's. */
export function agentScopes(i: number): string[] {
  const home = DOMAINS[i % DOMAINS.length]!;
  const extra = i % 2 === 0 ? [DOMAINS[(i + 3) % DOMAINS.length]!] : [];
  return [home, ...extra].flatMap((d) => VERBS.map((v) => `${d}.${v}`));
}

/** A small deterministic PRNG (mulberry32), so every run evaluates the same bundle and requests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCHEMA_CONTEXT = `{
    parameters: { amount: Long, environment: String, region: String, count: Long },
    claims: { reason?: String },
    facts: { total: Long, risk: Long, frozen: Bool, tier: String },
  }`;

export function benchSchema(): string {
  const actions = benchActions()
    .map((a) => `action "${a}" appliesTo {\n  principal: [Agent], resource: [Resource],\n  context: ${SCHEMA_CONTEXT},\n};`)
    .join('\n');
  return `entity Agent = { owner: String, scopes: Set<String> };\nentity Resource;\n${actions}\n`;
}

const act = (a: string) => `Action::"${a}"`;

/** Policy texts, grouped into one file per domain (plus `global.cedar`). */
export function benchPolicies(count: number, seed = 6): Record<string, string[]> {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const actions = benchActions();
  const files: Record<string, string[]> = { global: [] };
  const globals = Math.max(2, Math.round(count / 100));
  for (let i = 0; i < globals; i++) {
    files.global!.push(
      i % 2 === 0
        ? `@id("global.risk-${i}")\nforbid (principal, action, resource)\nwhen { context.facts.risk > ${90 + (i % 10)} && context.facts.tier == "${pick(['gold', 'silver', 'bronze'])}" };`
        : `@id("global.huge-${i}")\n@requires_approval("${groupId(i)}")\n@quorum("2")\n@deadline("8h")\npermit (principal, action, resource)\nwhen { context.parameters.amount > ${1_000_000 * (i + 1)} };`,
    );
  }
  for (let n = 0; n < count - globals; n++) {
    const a = actions[n % actions.length]!;
    const domain = a.split('.')[0]!;
    const round = Math.floor(n / actions.length);
    const id = `${a}.p${round}`;
    const threshold = 1_000 * (1 + Math.floor(rand() * 50));
    let text: string;
    switch (round % 8) {
      case 0:
        text = `permit (principal, action == ${act(a)}, resource)\nwhen { principal.scopes.contains("${a}") && context.parameters.amount <= ${threshold} };`;
        break;
      case 1:
        text = `@requires_approval("${groupId(n)}")\n@quorum("${1 + (n % 2)}")\n@deadline("${pick(['1h', '4h', '1d'])}")\npermit (principal, action == ${act(a)}, resource)\nwhen { principal.scopes.contains("${a}") && context.parameters.amount > ${threshold} };`;
        break;
      case 2:
        text = `forbid (principal, action == ${act(a)}, resource)\nwhen { context.facts.frozen || context.parameters.amount > context.facts.total };`;
        break;
      case 3:
        text = `permit (principal == Agent::"${agentId(Math.floor(rand() * AGENTS))}", action == ${act(a)}, resource)\nwhen { context.parameters.region == "${pick(['eu', 'us', 'apac'])}" && context.parameters.count <= ${1 + Math.floor(rand() * 100)} };`;
        break;
      case 4:
        text = `forbid (principal == Agent::"${agentId(Math.floor(rand() * AGENTS))}", action == ${act(a)}, resource)\nwhen { context.facts.risk > ${40 + Math.floor(rand() * 50)} };`;
        break;
      case 5: {
        const group = VERBS.filter(() => rand() < 0.5).map((v) => act(`${domain}.${v}`));
        text = `permit (principal, action in [${[act(a), ...group.filter((g) => g !== act(a))].join(', ')}], resource)\nwhen { context.parameters.environment == "staging" && principal.scopes.contains("${a}") };`;
        break;
      }
      case 6:
        text = `@requires_approval("${groupId(n + 7)}")\npermit (principal, action == ${act(a)}, resource)\nwhen { context.parameters.environment == "production" && context.facts.tier != "gold" };`;
        break;
      default:
        text = `forbid (principal, action == ${act(a)}, resource)\nunless { principal.scopes.contains("${a}") };`;
    }
    (files[domain] ??= []).push(`@id("${id}")\n${text}`);
  }
  return files;
}

/** Writes schema + policy files to `dir` (created) and returns it, ready for loadPolicyBundle. */
export function writeBenchPolicySet(dir: string, count: number, seed = 6): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'schema.cedarschema'), benchSchema());
  for (const [file, policies] of Object.entries(benchPolicies(count, seed))) {
    if (policies.length > 0) writeFileSync(join(dir, `${file}.cedar`), `${policies.join('\n\n')}\n`);
  }
  return dir;
}

/** Deterministic requests over the bench vocabulary: every kind of outcome (allow, approval, forbid, default deny). */
export function benchRequests(n: number, seed = 7): AdviceRequest[] {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const actions = benchActions();
  return Array.from({ length: n }, () => {
    const i = Math.floor(rand() * AGENTS);
    return {
      agent: { id: agentId(i), owner: `owner-${i % 30}`, scopes: agentScopes(i) },
      // Mostly actions the agent is scoped for (as real traffic is), sometimes any action.
      actionType: rand() < 0.9 ? pick(agentScopes(i)) : pick(actions),
      resource: `res-${Math.floor(rand() * 1000)}`,
      parameters: {
        amount: Math.floor(rand() * 60_000),
        environment: pick(['staging', 'production']),
        region: pick(['eu', 'us', 'apac']),
        count: Math.floor(rand() * 120),
      },
      claims: (rand() < 0.5 ? { reason: 'customer request' } : {}) as AdviceRequest['claims'],
      facts: {
        total: 10_000 + Math.floor(rand() * 100_000),
        risk: Math.floor(rand() * 100),
        frozen: rand() < 0.05,
        tier: pick(['gold', 'silver', 'bronze']),
      },
    };
  });
}

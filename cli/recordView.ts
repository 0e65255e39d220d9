/*
 * `ecp show`'s rendering of a record, in a module of its own so the CLI loads it (and the record schema, claims and
 * text checks it needs) only when a record is shown.
 */
import { compareClaims } from '../common/claims';
import { TERMINAL_STATUSES, type AttemptRecord, type JsonValue } from '../common/record';
import { textWarnings } from '../common/textWarnings';
import { bold, compact, deadlineText, dim, fields, pretty, red, status, table, when, yellow } from './format';

/** The human-readable record; `summary` is the action type's one-line summary (null: none, the line is left out). */
export function renderRecord(r: AttemptRecord, now = Date.now(), summary: string | null = null): string {
  const out: string[] = [];
  const section = (title: string) => out.push('', bold(title));
  const agent = r.context?.directory.agent;
  const p = r.proposal;

  const overrides = r.decisions.accepted.filter((d) => d.verdict === 'override');
  out.push(`${bold(`Attempt ${r.attemptId}`)}  ${status(r.status)}${overrides.length > 0 ? `  ${red(bold('OVERRIDDEN'))}` : ''}`);
  // Break-glass overrides are never unremarkable: who, what, why, and the ratification they still need.
  for (const d of overrides) {
    out.push(red(`  OVERRIDDEN by ${d.human} (${(d.statement.overrides ?? []).join(', ')}): ${d.reason}`));
  }
  const ratification = r.governance?.ratification;
  if (ratification) {
    out.push(
      ratification.ratifiedBy
        ? `  ratified by ${ratification.ratifiedBy} at ${when(ratification.ratifiedAt!, now)}`
        : red(`  NOT RATIFIED: needs a countersignature from ${ratification.groups.join(' or ')} by ${when(ratification.until, now)}`),
    );
  }
  out.push(
    fields([
      ...(summary ? [['summary', summary] as [string, string]] : []),
      ['agent', agent ? `${p.agent} (owner: ${agent.owner})` : p.agent],
      ['action', p.actionType],
      ['resource', p.resource],
      ['justification', p.justification],
      ['proposal hash', r.proposalHash],
      ['deadline', deadlineText(r.deadline, r.status, TERMINAL_STATUSES.includes(r.status), now)],
    ]),
  );

  section('Parameters — exactly what will run');
  out.push(indent(pretty(p.parameters)));
  // Same rule as the console: strings that may look like a different value are flagged next to the values.
  for (const w of textWarnings(p.parameters, 'parameters')) out.push(yellow(`  ⚠ ${w.message}`));

  section("Agent's claims vs verified facts");
  out.push(renderClaims(p.claims, r.context?.facts ?? null));
  for (const w of textWarnings(p.claims ?? {}, 'claims')) out.push(yellow(`  ⚠ ${w.message}`));
  if (r.context?.factsError) out.push(red(`  facts unavailable: ${r.context.factsError}`));
  for (const problem of r.context?.problems ?? []) out.push(red(`  problem: ${problem}`));

  section('Advice');
  if (!r.advice) out.push('  not evaluated yet');
  else {
    out.push(`  ${bold(r.advice.verdict)}  policies: ${r.advice.policyIds.join(', ') || '— (nothing permits it: default deny)'}`);
    for (const reason of r.advice.reasons) out.push(`  - ${reason}`);
    for (const error of r.advice.errors) out.push(red(`  ! ${error}`));
    out.push(dim(`  bundle ${r.advice.bundleVersion}`));
  }

  if (r.requirements.length > 0) {
    section('Requirements');
    out.push(
      table(
        ['policy', 'groups', 'approvals', 'approved by', 'met'],
        r.requirements.map((q) => [
          q.kind === 'override' ? `${q.policyId} (forbid)` : q.policyId,
          [
            q.groups.join(' or ') || '—',
            q.escalatedTo?.length ? `(escalated to ${q.escalatedTo.join(', ')})` : '',
            q.overrideBy ? `override: ${q.overrideBy.join(' or ')}` : '',
          ]
            .filter(Boolean)
            .join(' '),
          q.kind === 'override' ? 'override only' : `${q.approvedBy.length}/${q.quorum}`,
          [q.approvedBy.join(', '), q.overriddenBy?.length ? `OVERRIDDEN by ${q.overriddenBy.join(', ')}` : '']
            .filter(Boolean)
            .join('; ') || '—',
          q.met ? 'yes' : 'no',
        ]),
      ),
    );
  }

  section('Decisions');
  const { accepted, refused, refusedTotal } = r.decisions;
  if (accepted.length === 0 && refusedTotal === 0) out.push('  none yet');
  if (accepted.length > 0) {
    out.push(
      table(
        ['accepted', 'verdict', 'decided', 'key', 'via', 'reason'],
        accepted.map((d) => [d.human, d.verdict, when(d.decidedAt, now), d.keyFingerprint, d.via, d.reason || '—']),
      ),
    );
  }
  if (refused.length > 0) {
    out.push(
      table(
        ['refused', 'code', 'message', 'received', 'via'],
        refused.map((d) => [d.human ?? '?', d.code, d.message, when(d.receivedAt, now), d.via]),
      ),
    );
  }
  if (refusedTotal > refused.length) out.push(dim(`  … and ${refusedTotal - refused.length} more refused decisions (counted, not kept)`));

  section('Enforcement');
  const e = r.enforcement;
  if (!e) out.push('  not yet');
  else {
    const recheck = e.recheckAdvice ? `${e.recheckAdvice.verdict} (${e.recheckAdvice.policyIds.join(', ') || '—'})` : '—';
    out.push(
      fields([
        ['verdict', e.verdict === 'blocked' ? red('blocked') : e.verdict],
        ['re-check', recheck],
        ['at', when(e.at, now)],
      ]),
    );
    if (e.blockedReason) out.push(red(`  blocked: ${e.blockedReason}`));
  }

  section('Outcome');
  const oc = r.outcome;
  if (!oc) out.push('  none yet');
  else if (oc.ok) out.push(`  ok at ${when(oc.finishedAt, now)}`, indent(pretty(oc.result)));
  else out.push(red(`  failed at ${when(oc.finishedAt, now)}: ${oc.error.type}: ${oc.error.message}`));

  section('Timeline');
  out.push(fields(r.timeline.map((t) => [t.event ?? t.status, `${when(t.at, now)}${t.note ? `  ${t.note}` : ''}`])));
  out.push('', dim(`record digest ${r.digest}`));
  return out.join('\n');
}

/** One row per key in either; a key in both with different values is marked (rule shared with the web console). */
function renderClaims(claims: Record<string, JsonValue>, facts: Record<string, JsonValue> | null): string {
  const checks = compareClaims(claims, facts);
  if (checks.length === 0) return '  no claims, no facts';
  const mismatches = checks.filter((c) => c.mismatch).length;
  const rows = checks.map((c) => [
    c.key,
    c.claimed ? compact(c.claim) : '—',
    c.verified ? compact(c.fact) : '—',
    c.mismatch ? red('MISMATCH') : '',
  ]);
  const t = table(['key', 'agent claims', 'verified fact', 'check'], rows);
  return mismatches > 0
    ? `${t}\n${yellow(`  ${mismatches === 1 ? '1 claim disagrees' : `${mismatches} claims disagree`} with verified facts`)}`
    : t;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/// <reference lib="dom" />
import type { AttemptRecord } from '../../common/record';
import { textWarnings, type TextWarning } from '../../common/textWarnings';
import { TERMINAL_STATUSES } from '../../common/status';
import { api, ApiFailure, type AttemptView } from '../api';
import { announce, fields, h, render, statusBadge, table } from '../dom';
import { deadlineText } from '../../common/timeFormat';
import { compact, duration, when } from '../format';
import type { App } from '../app';
import { renderDecide } from './decide';
import { renderOverride } from './override';
import { renderRatify } from './ratify';

/**
 * True while an accepted override awaits its countersignature: the status may already be final (e.g. SUCCEEDED), but
 * the page keeps following the attempt until it is ratified or the window has passed (`ratification_missed`).
 */
function ratificationOpen(r: AttemptRecord): boolean {
  const window = r.governance?.ratification;
  return !!window && !window.ratifiedBy && !r.timeline.some((t) => t.event === 'ratification_missed');
}

const following = (r: AttemptRecord) => !TERMINAL_STATUSES.includes(r.status) || ratificationOpen(r);

/** The whole decision context of one attempt, refreshed every 2 s until it closes (and any ratification ends). */
export function renderAttempt(app: App, attemptId: string): void {
  render(h('h1', {}, `Attempt ${attemptId}`), h('p', { class: 'muted' }, 'Loading…'));
  let view: AttemptView | null = null;
  let timer: number | undefined;
  let stopped = false;
  const tick = window.setInterval(() => {
    const el = document.getElementById('countdown');
    if (el && view?.record.deadline && !TERMINAL_STATUSES.includes(view.record.status)) el.textContent = countdown(view.record.deadline);
  }, 1000);
  app.cleanup = () => {
    stopped = true;
    window.clearTimeout(timer);
    window.clearInterval(tick);
  };

  const load = async (first: boolean) => {
    try {
      const next = await api.attempt(attemptId);
      if (stopped) return;
      const changed = !view || view.record.digest !== next.record.digest;
      if (view && view.record.status !== next.record.status) announce(`Attempt is now ${next.record.status}`);
      view = next;
      if (first || changed) draw(app, next, () => void load(false), first);
    } catch (err) {
      if (first)
        render(
          h('h1', {}, `Attempt ${attemptId}`),
          h('p', { class: 'error', role: 'alert' }, err instanceof ApiFailure ? err.message : String(err)),
        );
    }
    window.clearTimeout(timer); // one refresh chain, however many reloads were asked for
    if (!stopped && view && following(view.record)) timer = window.setTimeout(() => void load(false), 2000);
  };
  void load(true);
}

function overridePanel(r: AttemptRecord): HTMLElement {
  const ratification = r.governance?.ratification;
  return h(
    'div',
    { class: 'panel override', id: 'override-panel', role: 'note' },
    ...r.decisions.accepted
      .filter((d) => d.verdict === 'override')
      .map((d) =>
        h(
          'p',
          {},
          h('strong', {}, `Overridden by ${d.human}`),
          ` (${(d.statement.overrides ?? []).join(', ')}) at ${when(d.receivedAt)}. Justification: `,
          h('q', {}, d.reason),
        ),
      ),
    ratification ? h('p', { id: 'ratification' }, ...ratificationText(r, ratification)) : null,
  );
}

/** Ratified, awaiting a countersignature, or missed (flagged like `ecp show` and `ecp audit verify` flag it). */
function ratificationText(r: AttemptRecord, ratification: NonNullable<NonNullable<AttemptRecord['governance']>['ratification']>) {
  if (ratification.ratifiedBy)
    return [
      h('span', { class: 'status status-SUCCEEDED', id: 'ratified-badge' }, 'RATIFIED'),
      ` by ${ratification.ratifiedBy} at ${when(ratification.ratifiedAt!)}.`,
    ];
  const missed = r.timeline.some((t) => t.event === 'ratification_missed');
  return [
    h('span', { class: 'status status-NOT_RATIFIED', id: 'not-ratified-badge' }, 'NOT RATIFIED'),
    missed
      ? ` The ratification window ended at ${when(ratification.until)} without a countersignature from ${ratification.groups.join(' or ')}: this override stays flagged in the record and audit output.`
      : ` Needs a countersignature from ${ratification.groups.join(' or ')} by ${when(ratification.until)}.`,
  ];
}

/**
 * What the status means, in one sentence, for the outcomes that must never be mistaken for each other: an attempt
 * still waiting after escalation, one that EXPIRED (nobody decided in time: failed closed, not a rejection) and one
 * that was REJECTED (a human decided no).
 */
function statusReading(r: AttemptRecord): HTMLElement | null {
  const escalations = r.governance?.escalations ?? [];
  if (r.status === 'EXPIRED')
    return h(
      'p',
      { class: 'reading reading-EXPIRED', id: 'status-reading' },
      h('strong', {}, 'Expired: '),
      `the deadline passed without the decisions it needed${escalations.length ? ` (even after escalation to ${escalatedGroups(r).join(', ')})` : ''}. Nothing ran (fail closed). Nobody rejected it.`,
    );
  if (r.status === 'REJECTED') {
    const rejections = r.decisions.accepted.filter((d) => d.verdict === 'reject');
    return h(
      'p',
      { class: 'reading reading-REJECTED', id: 'status-reading' },
      h('strong', {}, 'Rejected: '),
      rejections.length
        ? `${rejections.map((d) => `${d.human} ("${d.reason}")`).join(', ')} decided it must not run.`
        : 'a human decided it must not run.',
      ' Nothing ran.',
    );
  }
  if (r.status === 'AWAITING_DECISION' && escalations.length)
    return h(
      'p',
      { class: 'reading reading-ESCALATED', id: 'status-reading' },
      h('strong', {}, 'Escalated: '),
      `still awaiting a decision; ${escalatedGroups(r).join(', ')} may now decide too (${escalations.length} escalation step${escalations.length === 1 ? '' : 's'}, see the timeline). Not expired, not rejected.`,
    );
  return null;
}

const escalatedGroups = (r: AttemptRecord) => [...new Set((r.governance?.escalations ?? []).flatMap((e) => e.groups))];

function countdown(deadline: string): string {
  const left = Date.parse(deadline) - Date.now();
  return left > 0 ? `${duration(left)} left` : 'deadline passed';
}

/** Keeps what the human typed (reason, confirmation) across refreshes of the record. */
function draw(app: App, view: AttemptView, reload: () => void, first: boolean): void {
  const r = view.record;
  const p = r.proposal;
  const agent = r.context?.directory.agent;
  const keep = document.getElementById('decide-panel');
  const decide = view.viewer.mayDecide ? (keep && !first ? keep : renderDecide(app, view, reload)) : null;
  const keepOverride = document.getElementById('override-submit-panel');
  const override = view.viewer.mayOverride ? (keepOverride && !first ? keepOverride : renderOverride(app, view, reload)) : null;
  const closed = TERMINAL_STATUSES.includes(r.status);
  const keepRatify = document.getElementById('ratify-panel');
  const ratify = view.viewer.mayRatify ? (keepRatify && !first ? keepRatify : renderRatify(app, view, reload)) : null;
  const escalated = r.status === 'AWAITING_DECISION' && (r.governance?.escalations.length ?? 0) > 0;
  // Computed here with the shared rule (the API reports the same list): values that may imitate another value.
  const paramWarnings = textWarnings(p.parameters, 'parameters');
  const overrides = r.decisions.accepted.filter((d) => d.verdict === 'override');
  const body: Array<Node | string | null> = [
    h(
      'h1',
      {},
      'Attempt ',
      h('span', { class: 'mono' }, r.attemptId),
      ' ',
      statusBadge(r.status),
      overrides.length > 0 ? h('span', { class: 'status status-OVERRIDDEN', id: 'overridden-badge' }, 'OVERRIDDEN') : null,
      escalated ? h('span', { class: 'status status-ESCALATED', id: 'escalated-badge' }, 'ESCALATED') : null,
    ),
    statusReading(r),
    // A break-glass override is never unremarkable: who overrode what, and the justification, right under the title.
    overrides.length > 0 ? overridePanel(r) : null,
    // The action type's one-line summary, set as text (never markup); the exact parameters follow below.
    view.summary ? h('p', { class: 'lead', id: 'attempt-summary' }, view.summary) : null,
    h(
      'div',
      { class: 'panel' },
      fields([
        ['Status', h('span', { id: 'attempt-status' }, r.status)],
        ['Agent', agent ? `${p.agent} (owner: ${agent.owner})` : p.agent],
        ['Action', p.actionType],
        ['Resource', p.resource],
        ['Proposal hash', h('span', { class: 'hash', id: 'proposal-hash' }, r.proposalHash)],
        // Closed: the deadline without a countdown, and why it no longer matters.
        [
          'Deadline',
          !r.deadline
            ? '—'
            : closed
              ? h('span', { id: 'deadline' }, deadlineText(r.deadline, r.status, true))
              : h(
                  'span',
                  { id: 'deadline' },
                  when(r.deadline),
                  ' — ',
                  h('span', { class: 'countdown', id: 'countdown' }, countdown(r.deadline)),
                ),
        ],
      ]),
    ),
    decide ? h('p', {}, h('a', { href: '#decide-panel' }, 'Review what follows, then decide at the end of the page')) : null,
    override
      ? h('p', {}, h('a', { href: '#override-submit-panel' }, 'You may override this attempt (break-glass): see the end of the page'))
      : null,
    ratify ? h('p', {}, h('a', { href: '#ratify-panel' }, 'You may ratify this override: see the end of the page')) : null,
    !ratify && view.viewer.whyNoRatify
      ? h('p', { class: 'muted', id: 'cannot-ratify' }, `You cannot ratify this override: ${view.viewer.whyNoRatify}.`)
      : null,
    !decide && !override && r.status === 'AWAITING_DECISION' && view.viewer.why
      ? h('p', { class: 'muted', id: 'cannot-decide' }, `You cannot decide on this attempt: ${view.viewer.why}.`)
      : null,
    h('h2', {}, 'Parameters — exactly what will run'),
    table(
      ['Parameter', 'Value'],
      Object.entries(p.parameters).map(([k, v]) => {
        const flags = warningsAt(paramWarnings, `parameters.${k}`);
        return h(
          'tr',
          { class: flags.length ? 'text-warning' : '', 'data-key': k },
          h('th', { scope: 'row' }, k),
          h('td', {}, h('code', {}, compact(v)), ...flags),
        );
      }),
      'Parameters',
    ),
    h('details', {}, h('summary', {}, 'Raw proposal (JSON)'), h('pre', { id: 'raw-proposal' }, JSON.stringify(p, null, 2))),
    h('h2', {}, 'Justification'),
    h('p', { id: 'justification' }, p.justification),
    h('h2', {}, "Agent's claims vs verified facts"),
    claims(view, r),
    h('h2', {}, 'Advice'),
    advice(r),
    requirements(r),
    h('h2', {}, 'Decisions'),
    decisions(r),
    decide,
    override,
    ratify,
    h('h2', {}, 'Enforcement and outcome'),
    outcome(r),
    h('h2', {}, 'Timeline'),
    table(
      ['Status', 'Event', 'At', 'Note'],
      r.timeline.map((t) =>
        h(
          'tr',
          { 'data-event': t.event ?? 'status' },
          h('td', {}, t.status),
          h('td', {}, t.event ?? '—'),
          h('td', {}, when(t.at)),
          h('td', {}, t.note ?? ''),
        ),
      ),
      'Timeline',
      { stack: true },
    ),
    h('p', { class: 'muted' }, 'Record digest ', h('span', { class: 'mono' }, r.digest)),
  ];
  const scroll = window.scrollY;
  const active = document.activeElement?.id;
  render(...body);
  if (!first) {
    window.scrollTo(0, scroll);
    if (active) document.getElementById(active)?.focus();
  }
}

function claims(view: AttemptView, r: AttemptRecord): HTMLElement {
  if (view.claims.length === 0) return h('p', { class: 'muted' }, 'No claims, no facts.');
  const mismatches = view.claims.filter((c) => c.mismatch).length;
  const claimWarnings = textWarnings(r.proposal.claims ?? {}, 'claims');
  const show = (present: boolean, value: unknown) => (present ? h('code', {}, compact(value)) : h('span', { class: 'muted' }, '—'));
  return h(
    'div',
    { id: 'claims' },
    table(
      ['Key', 'Agent claims', 'Verified fact', 'Check'],
      view.claims.map((c) =>
        h(
          'tr',
          { class: c.mismatch ? 'mismatch' : '', 'data-key': c.key },
          h('th', { scope: 'row' }, c.key),
          h('td', {}, show(c.claimed, c.claim), ...warningsAt(claimWarnings, `claims.${c.key}`)),
          h('td', {}, show(c.verified, c.fact)),
          h('td', {}, c.mismatch ? h('span', { class: 'flag' }, '⚠ MISMATCH') : c.claimed && c.verified ? 'matches' : ''),
        ),
      ),
      "Agent's claims beside verified facts",
    ),
    mismatches > 0
      ? h(
          'p',
          { class: 'error', id: 'mismatch-summary' },
          `${mismatches === 1 ? '1 claim disagrees' : `${mismatches} claims disagree`} with verified facts. Decide on the facts.`,
        )
      : null,
    r.context?.factsError ? h('p', { class: 'error' }, `Facts unavailable: ${r.context.factsError}`) : null,
    ...(r.context?.problems ?? []).map((problem) => h('p', { class: 'error' }, `Problem: ${problem}`)),
  );
}

/** Visible warnings for the value at `path` and inside it (its keys, nested strings). */
function warningsAt(warnings: TextWarning[], path: string): HTMLElement[] {
  return warnings
    .filter((w) => w.path === path || w.path.startsWith(`${path}.`) || w.path.startsWith(`${path}[`))
    .map((w) => h('span', { class: 'flag text-warning-note', role: 'note', 'data-kind': w.kind }, ` ⚠ ${w.message}`));
}

function advice(r: AttemptRecord): HTMLElement {
  if (!r.advice) return h('p', { class: 'muted' }, 'Not evaluated yet.');
  const a = r.advice;
  return h(
    'div',
    { class: 'panel', id: 'advice' },
    fields([
      ['Verdict', h('strong', {}, a.verdict)],
      [
        'Policies',
        a.policyIds.length
          ? h('span', { id: 'policy-ids' }, ...a.policyIds.flatMap((id, i) => [i ? ', ' : '', h('code', {}, id)]))
          : '— (nothing permits it: default deny)',
      ],
      ['Bundle', h('span', { class: 'mono' }, a.bundleVersion)],
    ]),
    a.reasons.length ? h('ul', {}, ...a.reasons.map((x) => h('li', {}, x))) : null,
    a.errors.length ? h('ul', { class: 'error' }, ...a.errors.map((x) => h('li', {}, x))) : null,
  );
}

function requirements(r: AttemptRecord): HTMLElement | null {
  if (r.requirements.length === 0) return null;
  return h(
    'div',
    {},
    h('h2', {}, 'Requirements and quorum'),
    table(
      ['Policy', 'Groups', 'Approvals', 'Approved by', 'Met'],
      r.requirements.map((q) =>
        h(
          'tr',
          {},
          h('td', {}, h('code', {}, q.policyId)),
          h('td', {}, q.groups.join(' or ')),
          h('td', {}, `${q.approvedBy.length} of ${q.quorum}`),
          h('td', {}, q.approvedBy.join(', ') || '—'),
          h('td', {}, q.met ? 'yes' : 'no'),
        ),
      ),
      'Approval requirements',
      { stack: true },
    ),
  );
}

function decisions(r: AttemptRecord): HTMLElement {
  const { accepted, refused, refusedTotal } = r.decisions;
  return h(
    'div',
    { id: 'decisions' },
    accepted.length === 0 && refusedTotal === 0 ? h('p', { class: 'muted' }, 'None yet.') : null,
    accepted.length
      ? table(
          ['Accepted', 'Verdict', 'Decided', 'Key', 'Via', 'Reason'],
          accepted.map((d) =>
            h(
              'tr',
              {},
              h('td', {}, d.human),
              h('td', {}, d.verdict),
              h('td', {}, when(d.decidedAt)),
              h('td', { class: 'mono' }, d.keyFingerprint),
              h('td', {}, d.via),
              h('td', {}, d.reason || '—'),
            ),
          ),
          'Accepted decisions',
          { stack: true },
        )
      : null,
    refused.length
      ? table(
          ['Refused', 'Code', 'Why', 'Received', 'Via'],
          refused.map((d) =>
            h(
              'tr',
              {},
              h('td', {}, d.human ?? '?'),
              h('td', {}, h('code', {}, d.code)),
              h('td', {}, d.message),
              h('td', {}, when(d.receivedAt)),
              h('td', {}, d.via),
            ),
          ),
          'Refused decisions',
          { stack: true },
        )
      : null,
    refusedTotal > refused.length
      ? h('p', { class: 'muted' }, `… and ${refusedTotal - refused.length} more refused decisions (counted, not kept).`)
      : null,
  );
}

function outcome(r: AttemptRecord): HTMLElement {
  const e = r.enforcement;
  const o = r.outcome;
  return h(
    'div',
    { class: 'panel', id: 'outcome' },
    fields([
      ['Enforcement', e ? `${e.verdict}${e.blockedReason ? ` — ${e.blockedReason}` : ''} (${when(e.at)})` : 'not yet'],
      [
        'Outcome',
        o ? (o.ok ? `ok at ${when(o.finishedAt)}` : `failed at ${when(o.finishedAt)}: ${o.error.type}: ${o.error.message}`) : 'none yet',
      ],
    ]),
    o?.ok ? h('pre', {}, JSON.stringify(o.result, null, 2)) : null,
  );
}

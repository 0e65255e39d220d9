import type { BenchResults, ModeResults } from '../results';
import type { Summary } from '../stats';
import type { CpuPerUnit } from '../processCpu';
import { segmentValues, type CallSegments } from '../historySegments';
import type { OverheadContender } from '../scenarios/overhead';

const f1 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(1));
const lat = (s: Summary | undefined) => (s ? `${f1(s.p50)} / ${f1(s.p95)} / ${f1(s.p99)}` : '—');
const ratio = (x: number | undefined, target: number) =>
  x === undefined ? '—' : `${x.toFixed(2)}× ${x <= target ? '✅' : '❌'} (≤ ${target}×)`;

function modeSection(m: ModeResults): string[] {
  const title = {
    memory: 'In-memory dev server',
    file: 'File-backed (SQLite) dev server',
    cluster: 'Temporal cluster on PostgreSQL (`npm run cluster`)',
  };
  const out: string[] = [`### ${title[m.mode]}`, ''];
  if (m.devServerTuning) {
    const tuning = m.devServerTuning.length ? m.devServerTuning.map((t) => `\`${t}\``).join(', ') : "none (Temporal's defaults)";
    out.push(`Dev-server tuning: ${tuning}.`, '');
  }
  if (m.mode === 'file') {
    out.push(
      `SQLite pragmas passed: ${m.sqlitePragmasPassed.length ? m.sqlitePragmasPassed.join(', ') : 'none (SQLite defaults)'}; file after the run: \`${JSON.stringify(m.sqliteFile ?? {})}\``,
      '',
    );
  }
  const o = m.overhead;
  if (o) {
    out.push(
      `**Auto-allow overhead** — ECP attempt shape at run time: ${o.ecpShape.length} activities (${o.ecpShape.join(', ')}); history events: ECP ${o.histories.ecp.events}, bare ${o.histories.bareShape.events}, ungoverned ${o.histories.ungoverned.events}` +
        (o.histories.governedFloor ? `, governed floor ${o.histories.governedFloor.events}` : '') +
        '.',
      '',
      '| | latency ms p50 / p95 / p99 (c=1) | ' + o.throughput.ecp.map((p) => `attempts/s c=${p.concurrency}`).join(' | ') + ' |',
      '|---|---|' + o.throughput.ecp.map(() => '---|').join(''),
    );
    for (const [c, label] of [
      ['ecp', 'ECP attempt'],
      ['bareShape', '(a) bare, same shape'],
      ['ungoverned', '(b) ungoverned, one HTTP activity'],
      ['governedFloor', "(c) governed floor: (a)'s shape with the target calls and the listing"],
    ] as const) {
      const points = o.throughput[c];
      if (points) out.push(`| ${label} | ${lat(o.latencyMs[c])} | ${points.map((p) => f1(p.perSecond)).join(' | ')} |`);
    }
    out.push(
      '',
      `Ratios (ECP ÷ baseline; throughput: baseline ÷ ECP — above 1 means ECP costs more): latency p50 vs (a) ${ratio(o.ratios.latencyP50VsBare, 1.1)}, vs (b) ${ratio(o.ratios.latencyP50VsUngoverned, 1.5)}; ` +
        `p95 vs (a) ${o.ratios.latencyP95VsBare.toFixed(2)}×, vs (b) ${o.ratios.latencyP95VsUngoverned.toFixed(2)}×; throughput vs (a) ` +
        Object.entries(o.ratios.throughputVsBare)
          .map(([c, x]) => `c=${c} ${ratio(x, 1.15)}`)
          .join(', ') +
        '; vs (b) ' +
        Object.entries(o.ratios.throughputVsUngoverned)
          .map(([c, x]) => `c=${c} ${ratio(x, 1.5)}`)
          .join(', ') +
        '.',
      '',
    );
    const vsFloor = o.ratios.throughputVsFloor;
    if (vsFloor && o.ratios.latencyP50VsFloor !== undefined)
      out.push(
        `ECP ÷ (c), the governed floor (what any governed attempt of this shape pays before its own work: the facts read, the ` +
          `action's call and the listing; no target, for reading the ratios above): latency p50 ${o.ratios.latencyP50VsFloor.toFixed(2)}×; throughput ` +
          Object.entries(vsFloor)
            .map(([c, x]) => `c=${c} ${x.toFixed(2)}×`)
            .join(', ') +
          '.',
        '',
      );
    if (o.segmentsMs) {
      const x = o.segmentsMs;
      out.push(
        'Where the c=1 time goes (ms, medians of the latency runs, from history event times): caller → workflow started; ' +
          "first workflow task (ECP: the evaluation local activity — context, policy, seal — and the attempt's first steps; " +
          "(a): its no-op local activity; (b): scheduling its activity); → activity started; the activity (ECP's executor " +
          'and (b): the HTTP call to the target; (a): a no-op); → closed; closed → caller.',
        '',
        '| | to started | first task | to activity | activity | closing | to caller |',
        '|---|---|---|---|---|---|---|',
        segmentRow('ECP attempt', x.ecp),
        segmentRow('(a) bare, same shape', x.bareShape),
        segmentRow('(b) ungoverned', x.ungoverned),
        ...(x.governedFloor ? [segmentRow('(c) governed floor', x.governedFloor)] : []),
        '',
      );
    }
    // Older results have one block per point (no blockRates).
    const blocks = o.throughput.ecp[0]?.blockRates?.length ?? 0;
    if (blocks > 1)
      out.push(
        `Throughput is measured in ${blocks} closed-loop blocks per contender and concurrency, the contenders taking turns block ` +
          `by block; attempts/s per block (ECP / bare / ungoverned${o.throughput.governedFloor ? ' / governed floor' : ''}): ` +
          o.throughput.ecp
            .map(
              (p, i) =>
                `c=${p.concurrency} ${p.blockRates.join(' ')} / ${o.throughput.bareShape[i]!.blockRates.join(' ')} / ${o.throughput.ungoverned[i]!.blockRates.join(' ')}` +
                (o.throughput.governedFloor ? ` / ${o.throughput.governedFloor[i]!.blockRates.join(' ')}` : ''),
            )
            .join('; ') +
          '.',
        '',
      );
    // Where the CPU goes (bench/processCpu.ts): ms per attempt by process, over each throughput point.
    const cpu = (c: OverheadContender) => (o.throughput[c] ?? []).map((p) => p.cpuMsPerAttempt);
    if (cpu('ecp').every((x) => x) && cpu('bareShape').every((x) => x)) {
      const cell = (x: CpuPerUnit | null, worker: 'planeWorker' | 'baselineWorker') =>
        `${f1(x!.total)} (server ${f1(x!.server ?? 0)}, worker ${f1(x![worker] ?? 0)}, bench ${f1(x!.bench ?? 0)})`;
      out.push(
        '| CPU ms per attempt: total (server, worker, bench process) | ' +
          o.throughput.ecp.map((p) => `c=${p.concurrency}`).join(' | ') +
          ' |',
        '|---|' + o.throughput.ecp.map(() => '---|').join(''),
        `| ECP attempt | ${cpu('ecp')
          .map((x) => cell(x, 'planeWorker'))
          .join(' | ')} |`,
        `| (a) bare, same shape | ${cpu('bareShape')
          .map((x) => cell(x, 'baselineWorker'))
          .join(' | ')} |`,
        ...(cpu('governedFloor').length > 0 && cpu('governedFloor').every((x) => x)
          ? [
              `| (c) governed floor | ${cpu('governedFloor')
                .map((x) => cell(x, 'baselineWorker'))
                .join(' | ')} |`,
            ]
          : []),
        '',
      );
    }
  }
  const ol = m.openLoop;
  if (ol) {
    out.push(
      `**Open-loop latency** — auto-allow at fixed arrival rates (${ol.arrivals}; latency from each arrival's scheduled time to the final result), ms p50 / p95 / p99:`,
      '',
      '| arrivals/s (n each) | ECP attempt | (a) bare, same shape | (b) ungoverned | ECP ÷ (a) p50 / p95 / p99 | ECP ÷ (b) p50 / p95 / p99 |',
      '|---|---|---|---|---|---|',
    );
    const rs = (x: { p50: number; p95: number; p99: number }) => `${x.p50.toFixed(2)} / ${x.p95.toFixed(2)} / ${x.p99.toFixed(2)}`;
    for (const p of ol.points) {
      const failed = p.failures.ecp + p.failures.bareShape + p.failures.ungoverned;
      out.push(
        `| ${p.ratePerSecond} (${p.arrivals})${failed ? ` ⚠️ ${failed} failed` : ''} | ${lat(p.latencyMs.ecp)} | ${lat(p.latencyMs.bareShape)} | ${lat(p.latencyMs.ungoverned)} | ${rs(p.ratios.vsBare)} | ${rs(p.ratios.vsUngoverned)} |`,
      );
    }
    out.push('');
  }
  const g = m.mcp;
  if (g) {
    out.push(
      `**MCP gateway** — an auto-allowed \`${g.tool}\` call, the same SDK client straight to the server (stdio) vs through the gateway (Streamable HTTP → attempt → worker → server), interleaved, c=1, n=${g.latencyMs.gateway.n}:`,
      '',
      '| | latency ms p50 / p95 / p99 (c=1) | ' + `calls/s c=${g.throughput.gateway.concurrency} |`,
      '|---|---|---|',
      `| direct | ${lat(g.latencyMs.direct)} | ${f1(g.throughput.direct.perSecond)} |`,
      `| through the gateway | ${lat(g.latencyMs.gateway)} | ${f1(g.throughput.gateway.perSecond)} |`,
      `| (b) ungoverned, one HTTP activity | ${lat(g.latencyMs.ungoverned)} | — |`,
      `| ECP attempt (client library, HTTP executor) | ${lat(g.latencyMs.attempt)} | ${f1(g.throughput.attempt.perSecond)} |`,
      '',
      `Added by the gateway: p50 +${f1(g.addedMs.p50)} ms, p95 +${f1(g.addedMs.p95)} ms (gateway ÷ direct: p50 ${g.ratios.p50VsDirect.toFixed(2)}×, p95 ${g.ratios.p95VsDirect.toFixed(2)}×); ` +
        `added p50 ÷ ungoverned-workflow p50 ${ratio(g.ratios.addedP50VsUngoverned, 1.5)} (gateway p50 ÷ ungoverned p50 ${g.ratios.p50VsUngoverned.toFixed(2)}×; ÷ ECP attempt p50 ${g.ratios.p50VsAttempt.toFixed(2)}×).`,
      '',
    );
    if (g.segmentsMs) {
      out.push(
        'Where the time goes (ms, medians of the c=1 calls, from history event times): caller → attempt started; evaluation (first workflow task: context with the tool listing, policy); → executor started; executor (MCP: the listing again and the call); → closed; closed → caller.',
        '',
        '| | to started | evaluation | to executor | executor | closing | to caller |',
        '|---|---|---|---|---|---|---|',
        segmentRow('through the gateway', g.segmentsMs.gateway),
        segmentRow('ECP attempt', g.segmentsMs.attempt),
        '',
      );
    }
  }
  const d = m.decision;
  if (d) {
    out.push(
      `**Decision → action** (decide returns → executor request at the target), ms p50 / p95 / p99: single approver ${lat(d.singleApproverMs)} ${d.singleApproverMs.p50 <= 100 ? '✅' : '❌'}; two-approver quorum ${lat(d.twoApproverQuorumMs)} ${d.twoApproverQuorumMs.p50 <= 100 ? '✅' : '❌'} (target p50 ≤ 100 ms; n=${d.singleApproverMs.n}).`,
      '',
    );
  }
  const n = m.notifications;
  if (n) {
    const all = n.executedDelivered === n.onAttempts;
    out.push(
      `**Auto-allow with notifications on vs off** (sequential, ${n.rounds} interleaved rounds of ${n.block} per side; the demo's webhook takes every event, pollInterval ${n.pollSeconds} s), ms p50 / p95 / p99: ` +
        `off ${lat(n.latencyMs.off)}, on ${lat(n.latencyMs.on)}; ratio p50 ${n.ratios.p50.toFixed(3)}, p95 ${n.ratios.p95.toFixed(3)} ` +
        `(off block medians ${n.blockP50.off.map((x) => x.toFixed(0)).join(' ')} — spread ${n.offBlockSpread.toFixed(3)} —; on ${n.blockP50.on.map((x) => x.toFixed(0)).join(' ')}); ` +
        `receiver got ${n.executedDelivered}/${n.onAttempts} executed events ${all ? '✅' : '❌'}, ${n.webhookDeliveries} deliveries in all, signatures verified.`,
      '',
    );
  }
  const p = m.pending;
  if (p) {
    const lost = p.lost.notSucceeded + p.lost.missingEffects + p.lost.duplicateEffects;
    out.push(
      `**Pending scale** — ${p.attempts.toLocaleString('en')} attempts awaiting a decision (worker cache ${p.maxCachedWorkflows} workflows${p.reuseV8Context === false ? ', legacy V8 context per workflow' : ', reuseV8Context (SDK default)'}): ` +
        `started ${f1(p.startPerSecond)}/s (c=${p.startConcurrency}), all waiting after ${f1(p.allWaitingAfterSeconds)} s; ` +
        `worker peak RSS ${f1(p.peakRssMiB)} MiB ${p.peakRssMiB < 1024 ? '✅' : '❌'} (< 1 GiB), peak heap ${f1(p.peakHeapUsedMiB)} MiB; ` +
        `listPending (500) p50 ${f1(p.listPendingMs.p50)} ms, for one approver ${f1(p.listPendingForHumanMs.p50)} ms, count ${f1(p.countMs.p50)} ms; ` +
        `approvals sent ${f1(p.approvePerSecond)}/s, drained ${f1(p.drainPerSecond)}/s (${f1(p.drainSeconds)} s); ` +
        `lost ${lost} ${lost === 0 ? '✅' : '❌'} (not succeeded ${p.lost.notSucceeded}, missing effects ${p.lost.missingEffects}, duplicate effects ${p.lost.duplicateEffects}).`,
      '',
    );
  }
  for (const e of m.errors) out.push(`> ⚠️ ${e.split('\n')[0]}`, '');
  return out;
}

export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const out = [
    `## ECP benchmark — ${r.startedAt}${r.quick ? ' (quick run: small samples, indicative only)' : ''}`,
    '',
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, load average at start ${m.loadAverageAtStart.join(' / ')}; ` +
      `Node ${m.node}; ${m.temporalCli}; Temporal TypeScript SDK ${m.temporalSdk}; Cedar ${m.cedar}. Duration ${f1(r.durationSeconds)} s. Command: \`${['npm run bench', ...(r.argv.length ? ['--', ...r.argv] : [])].join(' ')}\`.`,
    '',
  ];
  for (const mode of r.modes) out.push(...modeSection(mode));
  if (r.policy) {
    out.push(
      '### Policy advice (in-process)',
      '',
      `Bundle: ${r.policy.description}`,
      '',
      '| policies | mean slice | sliced µs p50 / p95 / p99 | unsliced µs p50 / p95 / p99 | verdicts |',
      '|---|---|---|---|---|',
    );
    for (const p of r.policy.figures) {
      out.push(
        `| ${p.policies} | ${f1(p.meanSliceSize)} | ${lat(p.slicedUs)} ${p.slicedUs.p50 <= 200 ? '✅' : '❌'} | ${lat(p.unslicedUs)} | ${Object.entries(
          p.verdicts,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} |`,
      );
    }
    const pr = r.policy.profile;
    out.push(
      '',
      `Fixed cost per Cedar call (p50): bare wasm call ${f1(pr.bareCallUs.p50)} µs, + entities ${f1(pr.entitiesOnlyUs.p50)} µs, + context (empty policy set) ${f1(pr.emptySetUs.p50)} µs.`,
      '',
    );
  }
  if (r.verify) {
    out.push(
      '### Replay / verify',
      '',
      'skipped' in r.verify
        ? `Skipped: ${r.verify.skipped}`
        : `${f1(r.verify.recordsPerSecond)} records/s verified (${r.verify.records} records) ${r.verify.recordsPerSecond >= 100 ? '✅' : '❌'} (≥ 100/s)` +
            verifyRounds(r.verify.details),
      '',
    );
  }
  for (const e of r.errors) out.push(`> ⚠️ ${e}`, '');
  return `${out.join('\n')}\n`;
}

/** The rounds behind the verification figure (bench/verify.ts reports the median round), when the run recorded them. */
function verifyRounds(details: unknown): string {
  const { roundRates: rounds, warmUpRates: warmUp } = (details as { roundRates?: unknown; warmUpRates?: unknown } | null) ?? {};
  if (!Array.isArray(rounds) || rounds.length < 2) return '';
  // Runs recorded before warm-up rounds existed have none.
  const after =
    Array.isArray(warmUp) && warmUp.length > 0 ? `, after ${warmUp.length} untimed warm-up rounds (${warmUp.join(', ')} records/s)` : '';
  return `: the median of ${rounds.length} rounds (${rounds.join(', ')} records/s)${after}`;
}

/** One row of a where-the-time-goes table (bench/historySegments.ts). */
function segmentRow(label: string, x: CallSegments): string {
  return `| ${label} | ${segmentValues(x).map(f1).join(' | ')} |`;
}

import type { BenchResults } from '../results';
import type { Summary } from '../stats';

/** A self-contained SVG chart of a run: latency distributions, throughput vs concurrency, worker RSS over time. */

const W = 960;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2'];
const text = (x: number, y: number, s: string, extra = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${extra}>${esc(s)}</text>`;

function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= x)!;
}

/** Latency distribution rows: whisker min–p99, box p50–p95, tick at p50. */
function latencyPanel(y0: number, rows: Array<{ label: string; s: Summary }>): { svg: string; height: number } {
  const left = 300;
  const right = W - 40;
  const rowH = 22;
  const max = niceMax(Math.max(...rows.map((r) => r.s.p99)));
  const x = (v: number) => left + (Math.min(v, max) / max) * (right - left);
  const parts = [text(20, y0 + 16, 'Latency, ms — whisker min…p99, box p50…p95, tick p50', 'font-weight="bold"')];
  const top = y0 + 30;
  for (let i = 0; i <= 5; i++) {
    const v = (max / 5) * i;
    parts.push(
      `<line x1="${x(v)}" y1="${top}" x2="${x(v)}" y2="${top + rows.length * rowH}" stroke="#e5e7eb"/>`,
      text(x(v), top + rows.length * rowH + 14, String(Math.round(v * 10) / 10), 'text-anchor="middle" fill="#6b7280"'),
    );
  }
  rows.forEach((r, i) => {
    const cy = top + i * rowH + rowH / 2;
    const color = COLORS[i % COLORS.length];
    parts.push(
      text(left - 8, cy + 4, r.label, 'text-anchor="end"'),
      `<line x1="${x(r.s.min)}" y1="${cy}" x2="${x(r.s.p99)}" y2="${cy}" stroke="${color}"/>`,
      `<rect x="${x(r.s.p50)}" y="${cy - 6}" width="${Math.max(1, x(r.s.p95) - x(r.s.p50))}" height="12" fill="${color}" fill-opacity="0.35" stroke="${color}"/>`,
      `<line x1="${x(r.s.p50)}" y1="${cy - 8}" x2="${x(r.s.p50)}" y2="${cy + 8}" stroke="${color}" stroke-width="2"/>`,
    );
  });
  return { svg: parts.join('\n'), height: 30 + rows.length * rowH + 30 };
}

/** Lines over numeric x values (category-spaced), one per series. */
function linePanel(
  y0: number,
  title: string,
  xLabel: string,
  series: Array<{ label: string; points: Array<[number, number]> }>,
  categorical: boolean,
): { svg: string; height: number } {
  const left = 70;
  const right = W - 240;
  const top = y0 + 30;
  const h = 200;
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const maxY = niceMax(Math.max(...series.flatMap((s) => s.points.map((p) => p[1]))));
  const maxX = Math.max(...xs, 1);
  const px = (v: number) =>
    categorical ? left + ((xs.indexOf(v) + 0.5) / xs.length) * (right - left) : left + (v / maxX) * (right - left);
  const py = (v: number) => top + h - (v / maxY) * h;
  const parts = [
    text(20, y0 + 16, title, 'font-weight="bold"'),
    `<rect x="${left}" y="${top}" width="${right - left}" height="${h}" fill="none" stroke="#d1d5db"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (maxY / 4) * i;
    parts.push(
      `<line x1="${left}" y1="${py(v)}" x2="${right}" y2="${py(v)}" stroke="#f3f4f6"/>`,
      text(left - 6, py(v) + 4, String(Math.round(v * 10) / 10), 'text-anchor="end" fill="#6b7280"'),
    );
  }
  const ticks = categorical ? xs : [0, maxX / 2, maxX];
  for (const v of ticks) parts.push(text(px(v), top + h + 16, String(Math.round(v)), 'text-anchor="middle" fill="#6b7280"'));
  parts.push(text((left + right) / 2, top + h + 32, xLabel, 'text-anchor="middle" fill="#374151"'));
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    if (s.points.length < 20) for (const p of s.points) parts.push(`<circle cx="${px(p[0])}" cy="${py(p[1])}" r="3" fill="${color}"/>`);
    parts.push(
      `<rect x="${right + 16}" y="${top + i * 18}" width="12" height="12" fill="${color}"/>`,
      text(right + 34, top + i * 18 + 10, s.label),
    );
  });
  return { svg: parts.join('\n'), height: 30 + h + 50 };
}

export function renderSvg(r: BenchResults): string {
  const panels: string[] = [];
  let y = 50;
  const rows: Array<{ label: string; s: Summary }> = [];
  for (const m of r.modes) {
    const o = m.overhead;
    if (o)
      rows.push(
        { label: `${m.mode}: ECP attempt`, s: o.latencyMs.ecp },
        { label: `${m.mode}: (a) bare same shape`, s: o.latencyMs.bareShape },
        { label: `${m.mode}: (b) ungoverned`, s: o.latencyMs.ungoverned },
        ...(o.latencyMs.governedFloor ? [{ label: `${m.mode}: (c) governed floor`, s: o.latencyMs.governedFloor }] : []),
      );
    if (m.decision)
      rows.push(
        { label: `${m.mode}: decision→action, 1 approver`, s: m.decision.singleApproverMs },
        { label: `${m.mode}: decision→action, quorum 2`, s: m.decision.twoApproverQuorumMs },
      );
  }
  if (rows.length > 0) {
    const p = latencyPanel(y, rows);
    panels.push(p.svg);
    y += p.height;
  }
  const tput = r.modes.flatMap((m) =>
    m.overhead
      ? (['ecp', 'bareShape', 'ungoverned', 'governedFloor'] as const).flatMap((c) => {
          const points = m.overhead!.throughput[c];
          return points ? [{ label: `${m.mode}: ${c}`, points: points.map((p) => [p.concurrency, p.perSecond] as [number, number]) }] : [];
        })
      : [],
  );
  if (tput.length > 0) {
    const p = linePanel(y, 'Throughput, attempts/s, vs concurrency (closed loop)', 'concurrency', tput, true);
    panels.push(p.svg);
    y += p.height;
  }
  const rss = r.modes.flatMap((m) =>
    m.pending
      ? [
          { label: `${m.mode}: worker RSS MiB`, points: m.pending.memory.map((s) => [s.t, s.rss / 2 ** 20] as [number, number]) },
          { label: `${m.mode}: heap used MiB`, points: m.pending.memory.map((s) => [s.t, s.heapUsed / 2 ** 20] as [number, number]) },
        ]
      : [],
  );
  if (rss.length > 0) {
    const n = r.modes.find((m) => m.pending)?.pending?.attempts ?? 0;
    const p = linePanel(y, `Worker memory while ${n.toLocaleString('en')} attempts wait and are then approved`, 'seconds', rss, false);
    panels.push(p.svg);
    y += p.height;
  }
  const title = `ECP benchmark ${r.startedAt}${r.quick ? ' (quick)' : ''} — ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 10}" viewBox="0 0 ${W} ${y + 10}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    text(20, 28, title, 'font-size="15" font-weight="bold"'),
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}

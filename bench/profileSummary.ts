/**
 * `npx tsx bench/profileSummary.ts <file.cpuprofile> [--top 30] [--callers <function name>] [--skip-ms N]` — what a V8 CPU profile
 * (`npm run bench -- --profile <dir>`) spent its time on: total sampled CPU, the top functions by self time, self time
 * by source file (the workflow bundle's modules are named by their webpack path), and optionally who called a given
 * function. Read-only; for finding where workflow-thread CPU goes.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '30' },
    callers: { type: 'string', multiple: true },
    // Leave out the first N ms of the profile (process start-up: module loading, workflow bundling).
    'skip-ms': { type: 'string', default: '0' },
  },
});
if (positionals.length === 0) {
  console.error('usage: profileSummary <file.cpuprofile> [--top N] [--callers name]');
  process.exit(2);
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  const skipUs = Number(values['skip-ms']) * 1000;
  let elapsedUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    elapsedUs += profile.timeDeltas[i] ?? 0;
    if (elapsedUs < skipUs) continue;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const label = (n: ProfileNode) => {
    const url = n.callFrame.url.replace(/^.*node_modules\//, '~/').replace(/^file:\/\/.*?\/(wt-[^/]+|main)\//, '');
    return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
  };
  const idle = new Set(['(idle)', '(program)', '(garbage collector)']);
  let total = 0;
  let busy = 0;
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    total += ms;
    if (n.callFrame.functionName !== '(idle)') busy += ms;
    byFn.set(label(n), (byFn.get(label(n)) ?? 0) + ms);
    const file = idle.has(n.callFrame.functionName)
      ? n.callFrame.functionName
      : n.callFrame.url.replace(/^.*node_modules\//, '~/') || '(native)';
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
  }
  const top = Number(values.top);
  console.log(`\n${file}: ${total.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms not idle`);
  console.log('  top self time:');
  for (const [k, ms] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${k}`);
  console.log('  self time by file:');
  for (const [k, ms] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${k}`);
  for (const name of values.callers ?? []) {
    // Inclusive time of every node of that function, attributed to the nearest caller of another name.
    const inclusive = (id: number): number => {
      const n = byId.get(id)!;
      return (self.get(id) ?? 0) + (n.children ?? []).reduce((s, c) => s + inclusive(c), 0);
    };
    const callers = new Map<string, number>();
    let all = 0;
    for (const n of profile.nodes) {
      if (n.callFrame.functionName !== name) continue;
      const p = parent.get(n.id);
      let up = p;
      while (up !== undefined && byId.get(up)!.callFrame.functionName !== name) up = parent.get(up);
      if (up !== undefined) continue; // recursion: counted at the outermost call
      const ms = inclusive(n.id);
      all += ms;
      const caller = p === undefined ? '(root)' : label(byId.get(p)!);
      callers.set(caller, (callers.get(caller) ?? 0) + ms);
    }
    console.log(`  ${name}: ${all.toFixed(0)} ms inclusive; by caller:`);
    for (const [k, ms] of [...callers].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${k}`);
  }
}

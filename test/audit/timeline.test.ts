/**
 * The timeline from a history recorded when context and policy ran as regular activities (ActivityTask* events; the
 * current code records them as local-activity markers, covered by cli.test.ts): both forms must read the same.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseHistoryJson } from '../../audit/pack/build';
import { loadedConverter } from '../../audit/payloads';
import { buildTimeline } from '../../audit/timeline';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'activities-succeeded-quorum.json');

describe('timeline from regular-activity histories', () => {
  it('reads context, advice, decisions, re-check, enforcement and outcome', async () => {
    const history = parseHistoryJson(JSON.parse(readFileSync(FIXTURE, 'utf8')));
    const timeline = await buildTimeline(history, loadedConverter());
    const titles = timeline.steps.map((s) => s.title);
    expect(titles).toEqual([
      'proposal: deploy-bot → deploys.release on checkout',
      'context captured',
      'advice: require_approval',
      'awaiting decision',
      'decision via update: dave approve',
      'decision via update: bob approve',
      'decision via update: bob approve',
      'decision via signal: erin approve',
      're-check: fresh context captured',
      're-check advice: require_approval',
      'enforcement: executor scheduled with the authorised arguments',
      'executor succeeded',
      'outcome: SUCCEEDED',
    ]);
    const step = (title: string) => timeline.steps.find((s) => s.title === title)!;
    expect(step('decision via update: dave approve').details[0]).toMatch(/^refused \(self_approval\)/);
    expect(timeline.steps.filter((s) => s.title === 'decision via update: bob approve').map((s) => s.details[0]!.split(' ')[0])).toEqual([
      'accepted',
      'refused',
    ]);
    // Without the record, a signal's answer is not in history: the timeline says so instead of guessing.
    expect(step('decision via signal: erin approve').details).toEqual(['outcome not known without the record']);
    expect(step('context captured').tookMs).toBeGreaterThanOrEqual(0);
    expect(step('advice: require_approval').details[0]).toBe('policies: deploys.production-two-sre');
    expect(timeline.attemptId).toBe('att-6330e4cc9f252682451a097b9127d350');
  });
});

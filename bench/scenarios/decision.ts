import type { AttemptStatus } from '../../common';
import type { BenchEnv } from '../env';
import { benchDeploy, benchRefund, sleep } from '../load';
import { summarize, type Summary } from '../stats';

export interface DecisionFigures {
  /** decide() returning (the final, requirement-meeting decision) → the executor's request reaching the target, ms. */
  singleApproverMs: Summary;
  twoApproverQuorumMs: Summary;
}

async function waitForStatus(env: BenchEnv, attemptId: string, status: AttemptStatus): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    try {
      if ((await env.ecp.getRecord(attemptId)).status === status) return;
    } catch {
      // not started yet
    }
    await sleep(5);
  }
  throw new Error(`attempt ${attemptId} did not reach ${status}`);
}

async function measure(env: BenchEnv, propose: () => Promise<string>, approvers: string[]): Promise<number> {
  const attemptId = await propose();
  await waitForStatus(env, attemptId, 'AWAITING_DECISION');
  let decidedAt = 0;
  for (const human of approvers) {
    const result = await env.ecp.decide(attemptId, { human, verdict: 'approve', privateKey: env.key(human) });
    decidedAt = performance.now();
    if (!result.accepted) throw new Error(`decision by ${human} on ${attemptId} was refused: ${result.message}`);
  }
  const record = await env.ecp.awaitOutcome(attemptId);
  if (record.status !== 'SUCCEEDED') throw new Error(`approved attempt ${attemptId} ended ${record.status}`);
  const arrived = env.arrivals.get(attemptId);
  if (arrived === undefined) throw new Error(`the target never saw the executor's request for ${attemptId}`);
  return arrived - decidedAt;
}

/** Scenario 2: decision → action latency, single approver (large refund, finance) and two-approver quorum (prod deploy, SRE). */
export async function runDecision(env: BenchEnv, options: { runs: number }): Promise<DecisionFigures> {
  const single: number[] = [];
  const quorum: number[] = [];
  const refund = async () => (await env.ecp.propose(benchRefund(6_000, 'approval'))).attemptId;
  let n = 0;
  const deploy = async () => (await env.ecp.propose(benchDeploy(n++))).attemptId;
  await measure(env, refund, ['alice']); // warm-up
  for (let i = 0; i < options.runs; i++) {
    single.push(await measure(env, refund, ['alice']));
    quorum.push(await measure(env, deploy, ['bob', 'erin']));
  }
  return { singleApproverMs: summarize(single), twoApproverQuorumMs: summarize(quorum) };
}

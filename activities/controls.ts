import { createPublicKey, verify } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import {
  controlsChangedSignal,
  freezeCovering,
  freezeSigningBytes,
  keyFingerprint,
  type Freeze,
  type FreezeScope,
  type SignedFreeze,
} from '../common';
import { parseDuration } from '../common/duration';
import { buildListQuery } from '../client/listQuery';
import { FreezeCache } from '../client/controls';
import type { PlaneRuntime } from '../config/runtime';

/** The kill switch as one worker sees it: the cached freeze list (null when `controls` is not configured). */
export class FreezeState {
  readonly #cache = new FreezeCache();

  constructor(readonly runtime: PlaneRuntime) {}

  /**
   * The freeze covering this agent/action type, or null. Throws when the freeze list cannot be read: callers fail
   * closed. Without a `controls` section there is no kill switch and nothing is read.
   */
  async covering(client: Client, agent: string, actionType: string): Promise<Freeze | null> {
    const controls = this.runtime.config.controls;
    if (!controls) return null;
    const { freezes } = await this.#cache.get(client, parseDuration(controls.freezeCache) * 1000);
    return freezeCovering(freezes, agent, actionType);
  }
}

export type VerifyFreezeResult = { ok: true; human: string } | { ok: false; reason: string };

const ANNOUNCE_SECOND_PASS_MS = 3_000;
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function createControlsActivities(runtime: PlaneRuntime) {
  return {
    /**
     * Whether a signed freeze may change anything: `controls.freezeGroup` configured, the signer a directory human of
     * that group, the key theirs, the signature good. Reads the live configuration; pure otherwise, so retries are safe.
     */
    async verifyFreeze(signed: SignedFreeze): Promise<VerifyFreezeResult> {
      const config = runtime.config;
      const group = config.controls?.freezeGroup;
      if (!group) return { ok: false, reason: 'the kill switch is not configured (ecp.yaml controls.freezeGroup)' };
      const { statement } = signed;
      const human = Object.hasOwn(config.directory.humans, statement.human) ? config.directory.humans[statement.human] : undefined;
      if (!human) return { ok: false, reason: `statement.human: "${statement.human}" is not a human in the directory` };
      const key = human.publicKeys.find((k) => keyFingerprint(k) === signed.key);
      if (!key) return { ok: false, reason: `key: ${signed.key} is not a registered key of ${statement.human}` };
      const publicKey = createPublicKey({
        key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(key, 'hex')]),
        format: 'der',
        type: 'spki',
      });
      if (!verify(null, freezeSigningBytes(statement), publicKey, Buffer.from(signed.signature, 'hex')))
        return { ok: false, reason: `signature: does not verify with ${statement.human}'s key ${signed.key} (forged or altered)` };
      if (!human.groups.includes(group))
        return { ok: false, reason: `statement.human: ${statement.human} is not in the freeze group "${group}"` };
      return { ok: true, human: statement.human };
    },

    /**
     * Sends `controlsChanged` to every running attempt of the scope that awaits a decision, so each re-checks now.
     * Idempotent (an extra signal only causes an extra re-check); an attempt that closed meanwhile is skipped.
     */
    async announceControlsChanged({ scope }: { scope: FreezeScope }): Promise<{ signalled: number }> {
      const ctx = Context.current();
      const filter = {
        status: 'AWAITING_DECISION' as const,
        running: true,
        ...(scope.kind === 'agent' ? { agent: scope.agent } : scope.kind === 'actionType' ? { actionType: scope.actionType } : {}),
      };
      let signalled = 0;
      // Each attempt's re-check reads the freeze list through its worker's cache: the first pass waits until no
      // cache can still hold the list from before this change.
      const ttlMs = parseDuration(runtime.config.controls?.freezeCache ?? '1s') * 1000;
      await ctx.sleep(ttlMs + 100);
      // A second pass after the workers' freeze cache and visibility have caught up finds attempts that were still
      // being evaluated (with the old freeze list) during the first.
      for (const pass of [1, 2]) {
        if (pass === 2) await ctx.sleep(ANNOUNCE_SECOND_PASS_MS);
        for await (const info of ctx.client.workflow.list({ query: buildListQuery(filter) })) {
          try {
            await ctx.client.workflow.getHandle(info.workflowId, info.runId).signal(controlsChangedSignal);
            signalled++;
          } catch (err) {
            if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
          }
          ctx.heartbeat(signalled);
        }
      }
      return { signalled };
    },
  };
}

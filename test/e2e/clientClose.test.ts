import { afterEach, describe, expect, it } from 'vitest';
import { EcpClient } from '../../client';
import { startDevServer } from '../helpers/temporalServers';

/**
 * A process that closes its ECP client and then its Temporal server (`npm start` stopping, a test's teardown) while a
 * call is still in flight: the call must fail, not retry on the closed connection from a timer (an uncaught
 * exception, which ends a Node process). client/closeGuard.ts.
 */
describe('closing an ECP client with a call in flight', () => {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => void uncaught.push(err);
  afterEach(() => {
    process.off('uncaughtException', onUncaught);
  });

  it('then stopping the server: the call rejects, nothing is thrown from a timer', async () => {
    const { env, address } = await startDevServer({ limits: false });
    const ecp = await EcpClient.connect({ target: { address, namespace: 'default' } });
    // A long poll that stays open: the result of a workflow no worker runs.
    const handle = await ecp.client.workflow.start('nobodyRunsThis', {
      taskQueue: 'no-worker-here',
      workflowId: `close-${Date.now()}`,
      args: [],
    });
    const pending = handle.result().then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    await new Promise((r) => setTimeout(r, 200)); // the poll is in flight
    process.on('uncaughtException', onUncaught);
    await ecp.close();
    await env.teardown();
    expect(await pending).not.toBe('resolved');
    // Past the retry interceptor's backoff (100 ms initial, jittered): a retry would have fired by now.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(uncaught.map((e) => (e as Error).message)).toEqual([]);
  }, 120_000);
});

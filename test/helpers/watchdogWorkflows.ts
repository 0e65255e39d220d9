/** Workflows for the activation watchdog test (test/workflows/activationWatchdog.test.ts). */
import { condition, proxyActivities, proxyLocalActivities, setHandler, defineSignal } from '@temporalio/workflow';

const local = proxyLocalActivities<{ echo(x: number): Promise<number> }>({ startToCloseTimeout: '10s' });
const regular = proxyActivities<{ echo(x: number): Promise<number> }>({ startToCloseTimeout: '10s' });
export const go = defineSignal('go');

/** An attempt's shape: a local activity, a wait for a signal, a regular activity. */
export async function steps(): Promise<number> {
  let released = false;
  setHandler(go, () => void (released = true));
  const first = await local.echo(1);
  await condition(() => released);
  return first + (await regular.echo(2));
}

export { spin } from './spinWorkflow';

import type { Client } from '@temporalio/client';
import { ensureControls } from '../client/controls';
import type { PlaneConfig } from '../config/load';
import { ensureNotifier } from '../client/notifier';
import { parseDuration } from '../common/duration';

/**
 * Starts the kill switch's controls workflow and the notifier when ecp.yaml configures them (both singletons: every
 * plane asks, the first one starts them). A failure is reported, not fatal: with `controls` configured, attempts
 * fail closed (DENIED) until the controls workflow runs.
 */
export async function ensureGovernanceControls(client: Client, config: PlaneConfig, log: (line: string) => void): Promise<void> {
  if (config.controls) {
    try {
      const started = await ensureControls(client);
      log(`kill switch: freeze group "${config.controls.freezeGroup}" (controls workflow ${started ? 'started' : 'already running'})`);
    } catch (err) {
      log(`warning: could not start the controls workflow (${(err as Error).message}); attempts are DENIED until it runs (fail closed)`);
    }
  }
  if (config.notifications) {
    try {
      const started = await ensureNotifier(client, { intervalSeconds: parseDuration(config.notifications.pollInterval) });
      log(
        `notifications: ${Object.keys(config.notifications.channels).length} channel(s) (notifier workflow ${started ? 'started' : 'already running'})`,
      );
    } catch (err) {
      log(`warning: could not start the notifier workflow (${(err as Error).message}); nothing is notified until it runs`);
    }
  }
}

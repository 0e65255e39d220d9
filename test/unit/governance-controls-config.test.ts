/** Kill switch and notification configuration, and the webhook signature receivers check (docs/kill-switch-and-notifications.md). */
import { describe, expect, it } from 'vitest';
import { scratchConfig } from '../helpers/configFixture';
import { loadPlaneConfig } from '../../config/load';
import { verifyWebhookSignature, webhookSignature } from '../../client/webhookSignature';
import { configRefusal } from '../helpers/configRefusal';

const configWith = (extra: string) => scratchConfig({ extraConfig: extra });

const hook = (extra = '') => `notifications:
  consoleUrl: https://ecp.example.com
  channels:
    ops:
      webhook: { url: https://hooks.example.com/ecp, secret: "\${env:ECP_WEBHOOK_SECRET}" }
${extra}`;

describe('kill switch and notification configuration', () => {
  it('loads both sections; without them there is no kill switch and no notifier', () => {
    const config = loadPlaneConfig(configWith(`controls: { freezeGroup: support }\n${hook()}`));
    expect(config.controls).toEqual({ freezeGroup: 'support', freezeCache: '1s' });
    expect(config.notifications?.channels.ops).toMatchObject({ webhook: { format: 'json' }, parameters: false });
    const bare = loadPlaneConfig(configWith(''));
    expect([bare.controls, bare.notifications]).toEqual([null, null]);
  });

  it('refuses a freeze group, routing group or human, or e-mail owner that is not in the directory', () => {
    expect(configRefusal(configWith('controls: { freezeGroup: incident-command }\n'))).toMatch(
      /controls\.freezeGroup: "incident-command" is not a group in the directory/,
    );
    expect(configRefusal(configWith(hook('      groups: [oncall]\n')))).toMatch(
      /notifications\.channels\.ops\.groups: "oncall" is not a group/,
    );
    expect(configRefusal(configWith(hook('      humans: [mallory]\n')))).toMatch(
      /notifications\.channels\.ops\.humans: "mallory" is not a human/,
    );
  });

  it('refuses an inline webhook secret, a channel with both or neither transport, and an unknown event, naming the field', () => {
    const inline = hook().replace('"${env:ECP_WEBHOOK_SECRET}"', 'hunter2');
    expect(configRefusal(configWith(inline))).toMatch(/notifications\.channels\.ops\.webhook\.secret.*environment reference/);
    expect(configRefusal(configWith(hook('      events: [approved]\n')))).toMatch(/notifications\.channels\.ops\.events/);
    const neither = `notifications:\n  consoleUrl: https://ecp.example.com\n  channels:\n    ops: { groups: [finance] }\n`;
    expect(configRefusal(configWith(neither))).toMatch(/exactly one of `webhook` or `email`/);
  });
});

describe('webhook signature', () => {
  const body = '{"id":"att-1:executed:4"}';
  it('verifies its own signature within the tolerance, and nothing else', () => {
    const header = webhookSignature('s3cret', body, 1_800_000_000);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature('s3cret', body, header, 1_800_000_100)).toBe(true);
    expect(verifyWebhookSignature('other', body, header, 1_800_000_100)).toBe(false);
    expect(verifyWebhookSignature('s3cret', `${body} `, header, 1_800_000_100)).toBe(false);
    expect(verifyWebhookSignature('s3cret', body, header, 1_800_001_000)).toBe(false); // replayed 1000 s later
    expect(verifyWebhookSignature('s3cret', body, header.replace('t=1800000000', 't=1800000050'), 1_800_000_100)).toBe(false);
    expect(verifyWebhookSignature('s3cret', body, undefined)).toBe(false);
    expect(verifyWebhookSignature('s3cret', body, 'garbage')).toBe(false);
  });
});

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseDuration } from '../../common/duration';
import { DEFAULT_APPROVAL_DEADLINE } from '../../common/constants';
import type { PolicyBundle } from '../../policy/bundle';
import { duration, fields, print, printJson, table } from '../format';
import { action, examples } from '../run';

const DEFAULT_DEADLINE_SECONDS = parseDuration(DEFAULT_APPROVAL_DEADLINE);

export function registerPolicy(program: Command): void {
  const policy = program
    .command('policy')
    .description('Cedar policy bundles')
    .addHelpText('after', examples('ecp policy check ./policies'));
  policy
    .command('check')
    .description(
      'validate a policy bundle (*.cedar + schema.cedarschema) the way the plane does on start; without [dir], ' +
        'validate the whole configuration (directory, action types and its policies)',
    )
    .argument('[dir]', "the bundle's folder (default: the configuration's policies)")
    .option('--json', 'print JSON')
    .addHelpText('after', examples('ecp policy check ./policies', 'ecp --config ecp.yaml policy check'))
    .action(
      action<{ json?: boolean }>(async (ctx, o, [dir]) => {
        let bundle: PolicyBundle;
        let summary: Record<string, unknown> | null = null;
        if (dir) {
          const { loadPolicyBundle } = await import('../../policy/bundle');
          bundle = loadPolicyBundle(resolve(dir), { defaultDeadlineSeconds: DEFAULT_DEADLINE_SECONDS });
        } else {
          const config = await ctx.config('policy check without a [dir]');
          bundle = config.bundle;
          summary = {
            file: config.file,
            agents: Object.keys(config.directory.agents).length,
            humans: Object.keys(config.directory.humans).length,
            actionTypes: Object.keys(config.actionTypes),
          };
        }
        const policies = Object.keys(bundle.policies).map((id) => ({
          id,
          effect: bundle.effects[id]!,
          source: bundle.sources[id]!,
          requirement: bundle.requirements[id] ?? null,
        }));
        if (o.json) return printJson({ ok: true, dir: bundle.dir, version: bundle.version, policies, config: summary });
        print(`Policy bundle OK: ${bundle.dir}`);
        print(
          fields([
            ['version', bundle.version],
            ['actions', bundle.actions.join(', ') || '—'],
          ]),
        );
        print(
          table(
            ['policy', 'effect', 'approval', 'source'],
            policies.map((p) => [
              p.id,
              p.effect,
              p.requirement
                ? `${p.requirement.quorum} of ${p.requirement.groups.join(' or ')} within ${duration(p.requirement.deadlineSeconds * 1000)}, then ${p.requirement.onExpiry}`
                : '—',
              p.source,
            ]),
          ),
        );
        if (summary) {
          print(
            `Configuration OK: ${String(summary.file)} — ${String(summary.agents)} agents, ${String(summary.humans)} humans, action types ${(summary.actionTypes as string[]).join(', ')}`,
          );
        }
      }),
    );
}

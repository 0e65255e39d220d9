import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { jsonObjectArg } from '../input';
import { fields, print, printJson, note, status } from '../format';
import { action, examples } from '../run';

interface ProposeOptions {
  agent: string;
  action: string;
  resource: string;
  params: string;
  justification: string;
  claims?: string;
  idempotencyKey?: string;
  wait?: boolean;
  json?: boolean;
}

export function registerPropose(program: Command): void {
  program
    .command('propose')
    .description('propose an action as an agent: starts one attempt (idempotent per agent + idempotency key)')
    .requiredOption('--agent <id>', 'the proposing agent (must be in the directory)')
    .requiredOption('--action <type>', 'the action type, e.g. payments.refund')
    .requiredOption('--resource <resource>', 'what the action acts on, e.g. order-1001')
    .requiredOption('--params <json|@file>', 'the parameters as a JSON object, inline or @file')
    .requiredOption('--justification <text>', 'why the action is needed')
    .option('--claims <json|@file>', "the agent's claims (checked against verified facts), JSON object inline or @file")
    .option('--idempotency-key <key>', 'retrying with the same key and proposal finds the same attempt (default: a fresh random key)')
    .option('--wait', 'wait until the attempt closes and print its final status')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples(
        `ecp propose --agent refund-bot --action payments.refund --resource order-1001 \\
      --params '{"orderId":"order-1001","amount":7500,"reason":"damaged in transit"}' \\
      --justification "Customer sent photos of the damage" --claims '{"total":12000}'`,
      ),
    )
    .action(
      action<ProposeOptions>(async (ctx, o) => {
        const input = {
          agent: o.agent,
          actionType: o.action,
          resource: o.resource,
          parameters: jsonObjectArg(o.params, 'parameters'),
          justification: o.justification,
          claims: o.claims === undefined ? {} : jsonObjectArg(o.claims, 'claims'),
          idempotencyKey: o.idempotencyKey ?? randomUUID(),
        };
        const ecp = await ctx.client();
        const result = await ecp.propose(input as Parameters<typeof ecp.propose>[0]);
        if (!o.wait) {
          if (o.json) printJson({ ...result, idempotencyKey: input.idempotencyKey });
          else {
            print(`${result.created ? 'Created' : 'Found existing'} attempt ${result.attemptId}`);
            print(
              fields([
                ['attempt', result.attemptId],
                ['proposal hash', result.proposalHash],
                ['idempotency key', input.idempotencyKey],
                ['created', result.created ? 'yes — a new attempt' : 'no — this proposal already started this attempt'],
              ]),
            );
            print(`Next: ecp show ${result.attemptId}`);
          }
          return;
        }
        if (!o.json) note(`waiting for ${result.attemptId} to close (Ctrl-C stops waiting; the attempt goes on) …`);
        const record = await ecp.awaitOutcome(result.attemptId);
        // Why it closed as it did (the note of the closing status change): a denial names its reasons here.
        const reason = [...record.timeline].reverse().find((t) => t.status === record.status && !t.event)?.note ?? null;
        if (o.json) {
          printJson({ ...result, idempotencyKey: input.idempotencyKey, status: record.status, reason, outcome: record.outcome });
          return;
        }
        print(`${result.created ? 'Created' : 'Found existing'} attempt ${result.attemptId}`);
        print(
          fields([
            ['attempt', result.attemptId],
            ['proposal hash', result.proposalHash],
            ['status', status(record.status)],
            ...(reason && record.status !== 'SUCCEEDED' ? ([['reason', reason]] as Array<[string, string]>) : []),
            [
              'outcome',
              record.outcome
                ? record.outcome.ok
                  ? JSON.stringify(record.outcome.result)
                  : `${record.outcome.error.type}: ${record.outcome.error.message}`
                : '—',
            ],
          ]),
        );
      }),
    );
}

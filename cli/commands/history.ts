import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EcpError } from '../../common/errors';
import { parseRecord, type AttemptRecord } from '../../common/record';
import type { AttemptTimeline } from '../../audit/timeline';
import { bold, dim, duration, print, printJson, status } from '../format';
import { action, examples } from '../run';

interface HistoryOptions {
  json?: boolean;
  history?: string;
}

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description(
      'the timeline of one attempt from its Temporal history: proposal, context, advice, decisions (accepted or refused, and why), re-check, enforcement, outcome',
    )
    .argument('[attempt]', 'the attempt ID (optional with --history)')
    .option('--history <file>', 'read the history from a file (`temporal workflow show --output json`) instead of Temporal')
    .option('--json', 'print the timeline as JSON')
    .addHelpText(
      'after',
      examples(
        'ecp history att-0123456789abcdef0123456789abcdef',
        'ecp history att-… --json | jq \'.steps[] | select(.kind == "decision")\'',
      ),
    )
    .action(
      action<HistoryOptions>(async (ctx, o, [attemptId]) => {
        const { buildTimeline } = await import('../../audit/timeline');
        const { parseHistoryJson } = await import('../../audit/pack/build');
        const { loadedConverter } = await import('../../audit/payloads');
        const { historyToJSON } = await import('@temporalio/common/lib/proto-utils');
        let historyJson: unknown;
        let record: AttemptRecord | null = null;
        let converter;
        if (o.history) {
          try {
            historyJson = JSON.parse(readFileSync(o.history, 'utf8'));
          } catch (err) {
            throw new EcpError('invalid_input', `cannot read the history file ${o.history}: ${(err as Error).message}`);
          }
          const { dataConverterFor } = await import('../../codec/dataConverter');
          const { payloadKeySourcesFromFile } = await import('../../config/payloadKeySources');
          converter = loadedConverter(dataConverterFor(ctx.configPath ? payloadKeySourcesFromFile(ctx.configPath) : {}));
        } else {
          if (!attemptId) throw new EcpError('invalid_input', 'name the attempt, or pass --history <file>', 'attempt');
          const ecp = await ctx.client({ withConfig: false });
          const handle = ecp.client.workflow.getHandle(attemptId);
          try {
            historyJson = JSON.parse(historyToJSON(await handle.fetchHistory()));
          } catch (err) {
            if ((err as Error).name === 'WorkflowNotFoundError') throw new EcpError('not_found', `no attempt ${attemptId}`);
            throw err;
          }
          // The live record (query) tells how signalled decisions were answered; a closed attempt's is its result.
          record = await ecp.getRecord(attemptId).catch(() => null);
          converter = ecp.client.options.loadedDataConverter;
        }
        const history = parseHistoryJson(historyJson);
        if (!record) {
          const { decodeFirst } = await import('../../audit/payloads');
          const done = history.events.at(-1) as { workflowExecutionCompletedEventAttributes?: { result?: never } };
          // Parsed, not cast: a completion result that is not a record shows as no record.
          record = await decodeFirst(done.workflowExecutionCompletedEventAttributes?.result, converter)
            .then((result) => parseRecord(result, 'record in the history'))
            .catch(() => null);
        }
        const timeline = await buildTimeline(history, converter, record);
        if (o.json) return printJson(timeline);
        print(renderTimeline(timeline));
      }),
    );
}

export function renderTimeline(t: AttemptTimeline): string {
  const out = [`${bold(`Attempt ${t.attemptId ?? '?'}`)}  ${t.status ? status(t.status) : dim('(no record)')}`, ''];
  for (const s of t.steps) {
    const clock = s.at.replace('T', ' ').replace(/(\.\d{3})\d*Z$/, '$1Z');
    const offset = `+${(s.sinceStartMs / 1000).toFixed(3)}s`;
    const took = s.tookMs !== undefined && s.tookMs >= 0 ? dim(` (took ${s.tookMs} ms)`) : '';
    const wait = s.sincePreviousMs >= 60_000 ? dim(` (${duration(s.sincePreviousMs)} later)`) : '';
    out.push(`${dim(clock)} ${dim(offset.padStart(10))}  ${bold(s.title)}${took}${wait}`);
    for (const d of s.details.filter(Boolean)) out.push(`${' '.repeat(36)}${d}`);
  }
  const total = t.steps.at(-1)?.sinceStartMs;
  if (total !== undefined) out.push('', dim(`${t.steps.length} steps over ${total >= 1000 ? duration(total) : `${total} ms`}`));
  return out.join('\n');
}

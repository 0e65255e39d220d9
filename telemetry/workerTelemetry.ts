import type { Context as ActivityContext } from '@temporalio/activity';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { EcpTelemetrySinks } from '../common/telemetry';
import { proposalLabels } from '../common/telemetry';
import type { Logger } from './logger';
import type { PlaneMetrics } from './metrics';

/** Where a plane worker's telemetry goes: metrics (null: not collected) and structured logs (null: not written). */
export interface WorkerTelemetry {
  metrics: PlaneMetrics | null;
  logger: Logger | null;
}

/**
 * The sinks the workflow interceptor (workflows/interceptors.ts) reports through: counts into `metrics`, one log line
 * per started (debug) and per closed (info) attempt with attempt ID, agent and action type. Not called on replay (see
 * common/telemetry.ts), so an evicted attempt replaying on another worker is not counted twice.
 */
export function telemetrySinks({ metrics, logger }: WorkerTelemetry): InjectedSinks<EcpTelemetrySinks> {
  return {
    ecpTelemetry: {
      attemptStarted: {
        fn(_info, labels) {
          metrics?.attemptStarted(labels);
          logger?.debug({ attemptId: labels.attemptId, agent: labels.agent, actionType: labels.actionType }, 'attempt started');
        },
      },
      attemptClosed: {
        fn(_info, s) {
          metrics?.attemptClosed(s);
          const fields = {
            attemptId: s.attemptId,
            agent: s.agent,
            actionType: s.actionType,
            status: s.status,
            ...(s.decision ? { decision: s.decision.outcome, decisionLatencyMs: s.decision.latencyMs } : {}),
            ...(Object.keys(s.refusals).length > 0 ? { refusals: s.refusals } : {}),
            ...(s.recheckBlocked ? { recheckBlocked: true } : {}),
            ...(s.executorFailure ? { executorFailure: s.executorFailure } : {}),
          };
          logger?.info(fields, `attempt ${s.status}`);
        },
      },
    },
  };
}

/**
 * Activity interceptor: counts and logs executor failures (every try) and archiver passes. Changes nothing an activity
 * does or returns; errors are rethrown untouched, so Temporal's retry policy sees exactly what it saw before.
 */
export function telemetryActivityInterceptor({ metrics, logger }: WorkerTelemetry): ActivityInterceptorsFactory {
  return (ctx: ActivityContext) => ({
    inbound: {
      async execute(input, next) {
        const type = ctx.info.activityType;
        if (type === 'executeAction') {
          const { attemptId, proposal } = (input.args[0] ?? {}) as { attemptId?: string; proposal?: unknown };
          const labels = proposalLabels(attemptId ?? ctx.info.workflowExecution?.workflowId ?? 'unknown', proposal);
          const fields = { ...labels, activityAttempt: ctx.info.attempt };
          try {
            const result = await next(input);
            logger?.info(fields, 'action executed');
            return result;
          } catch (err) {
            const failureType = (err as { type?: unknown }).type;
            const kind = typeof failureType === 'string' && failureType ? failureType : ((err as Error).name ?? 'Error');
            metrics?.executorFailed(labels.actionType, kind);
            logger?.warn({ ...fields, failureType: kind, err: (err as Error).message }, 'executor failed');
            throw err;
          }
        }
        if (type === 'sealClosedAttempts') {
          const result = (await next(input)) as { sealed: number; failed: number; more: boolean; watermark: string | null };
          metrics?.archivePass({ sealed: result.sealed, watermark: result.watermark, behind: result.more || result.failed > 0 });
          if (result.sealed > 0 || result.failed > 0)
            logger?.info({ sealed: result.sealed, failed: result.failed, watermark: result.watermark }, 'archiver pass');
          return result;
        }
        return next(input);
      },
    },
  });
}

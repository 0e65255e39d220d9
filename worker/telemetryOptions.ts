import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { Context } from '@temporalio/activity';
import type { WorkerOptions } from '@temporalio/worker';
import type { Logger } from '../telemetry/logger';
import type { PlaneMetrics } from '../telemetry/metrics';
import { startTracing, type Tracing } from '../telemetry/tracing';
import { telemetryActivityInterceptor, telemetrySinks } from '../telemetry/workerTelemetry';

/** What a plane worker reports to: metrics, structured logs, traces (each optional). */
export interface PlaneTelemetry {
  metrics?: PlaneMetrics | null;
  logger?: Logger | null;
  tracing?: Tracing | null;
}

let idleTracing: Tracing | undefined;

/**
 * The worker options that connect the bundle's workflow interceptors (workflows/interceptors.ts) to this worker: the
 * OpenTelemetry span sink (`exporter`, to the tracing's span processor; a no-op one when tracing is off) and ECP's
 * telemetry sink, plus the activity interceptors (OpenTelemetry's when tracing is on, then ECP's). Both sinks are
 * always injected: the interceptors are always in the bundle, and a sink they call must exist.
 */
export function planeWorkerTelemetry(telemetry: PlaneTelemetry = {}): Pick<WorkerOptions, 'sinks' | 'interceptors'> {
  idleTracing ??= startTracing({ serviceName: 'ecp-worker', env: {} });
  const tracing = telemetry.tracing ?? idleTracing;
  const own = { metrics: telemetry.metrics ?? null, logger: telemetry.logger ?? null };
  return {
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource), ...telemetrySinks(own) },
    interceptors: {
      activity: [
        ...(tracing.provider
          ? [
              (ctx: Context) => ({
                inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
                outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
              }),
            ]
          : []),
        telemetryActivityInterceptor(own),
      ],
    },
  };
}

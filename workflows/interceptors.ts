// The plane's workflow interceptors, bundled into every plane worker's workflow code (workflows/bundle.ts), whether
// tracing and metrics are on or off, so the workflow code identity (build ID) never depends on telemetry settings.
// Neither adds, removes or reorders a workflow command: OpenTelemetry's only adds trace headers to the commands the
// workflow already emits (headers are not compared on replay) and ECP's reports through sinks, which make no commands.
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import {
  proxySinks,
  workflowInfo,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
} from '@temporalio/workflow';
import { proposalLabels, summariseClosedAttempt, type EcpTelemetrySinks } from '../common/telemetry';
import type { AttemptRecord } from '../common/record';

const { ecpTelemetry } = proxySinks<EcpTelemetrySinks>();

/** Reports an attempt's start and its closed record to the worker's metrics and logs (common/telemetry.ts). */
class AttemptTelemetryInterceptor implements WorkflowInboundCallsInterceptor {
  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = workflowInfo();
    if (info.workflowType !== 'executionAttempt') return next(input);
    const first = input.args[0] as { proposal?: unknown } | undefined;
    ecpTelemetry.attemptStarted(proposalLabels(info.workflowId, first?.proposal));
    const running = next(input);
    // Observed on the side: the workflow awaits `running` itself, so no yield is added to its own path.
    running.then(
      (record) => {
        try {
          ecpTelemetry.attemptClosed(summariseClosedAttempt(record as AttemptRecord));
        } catch {
          // A rejection left unhandled here would fail the workflow task: telemetry never costs an attempt anything.
        }
      },
      () => undefined,
    );
    return running;
  }
}

/** The interceptors the SDK loads from this module (`workflowInterceptorModules`). */
export const interceptors = (): WorkflowInterceptors => ({
  inbound: [new OpenTelemetryInboundInterceptor(), new AttemptTelemetryInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});

// The plane's workflow interceptors, bundled into every plane worker's workflow code (workflows/bundle.ts), whether
// tracing and metrics are on or off, so the workflow code identity (build ID) never depends on telemetry settings.
// Neither adds, removes or reorders a workflow command: OpenTelemetry's only adds trace headers to the commands the
// workflow already emits (headers are not compared on replay) and ECP's reports through sinks, which make no commands.
//
// OpenTelemetry's workflow interceptors run only for a workflow whose start carried a trace context (a client with
// tracing: `EcpClient.connect({ tracing: true })`, `tracingClientInterceptors()`). In the workflow sandbox they cost
// about 40 % of an attempt's workflow CPU even when the worker exports nothing: every workflow evaluated OpenTelemetry's
// SDK afresh and wrapped each call in a span (promises the SDK's stack-tracing promise hook captures, and a sink call
// per span). The choice is made from the start event's headers, so it is the same on every replay; and since
// OpenTelemetry's interceptors neither add yields (the SDK's `OpenTelemetryInterceporsAvoidsExtraYields` flag) nor
// commands, histories recorded with them replay without them (test/replay: every saved history, both ways).
import type * as OtelWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow';
import {
  proxySinks,
  workflowInfo,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { isAttemptWorkflowType } from '../common/constants';
import { proposalLabels, summariseClosedAttempt, type EcpTelemetrySinks } from '../common/telemetry';
import type { AttemptRecord } from '../common/record';

const { ecpTelemetry } = proxySinks<EcpTelemetrySinks>();

/** OpenTelemetry's header carrying the starter's trace context (`TRACE_HEADER` of @temporalio/interceptors-opentelemetry). */
export const TRACE_CONTEXT_HEADER = '_tracer-data';

interface OtelInterceptors {
  inbound: OtelWorkflow.OpenTelemetryInboundInterceptor;
  outbound: OtelWorkflow.OpenTelemetryOutboundInterceptor;
  internals: OtelWorkflow.OpenTelemetryInternalsInterceptor;
}

// Per workflow (the SDK gives every workflow its own instance of this module): set by `execute`, the first call.
let otel: OtelInterceptors | null = null;

function loadOtel(): OtelInterceptors {
  // Loaded on demand so an untraced workflow never evaluates OpenTelemetry's modules (webpack bundles it all the same).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('@temporalio/interceptors-opentelemetry/lib/workflow') as typeof OtelWorkflow;
  return {
    inbound: new mod.OpenTelemetryInboundInterceptor(),
    outbound: new mod.OpenTelemetryOutboundInterceptor(),
    internals: new mod.OpenTelemetryInternalsInterceptor(),
  };
}

type Inbound = Required<WorkflowInboundCallsInterceptor>;
type Outbound = Required<WorkflowOutboundCallsInterceptor>;

/**
 * OpenTelemetry's inbound interceptor for a traced workflow, a plain pass-through (no added promise) otherwise. Same
 * methods as OpenTelemetry's, in the same place in the chain.
 */
class TracingInbound implements WorkflowInboundCallsInterceptor {
  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    if (input.headers[TRACE_CONTEXT_HEADER] !== undefined) otel ??= loadOtel();
    return otel ? otel.inbound.execute(input, next) : next(input);
  }
  handleSignal(input: Parameters<Inbound['handleSignal']>[0], next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>) {
    return otel ? otel.inbound.handleSignal(input, next) : next(input);
  }
  handleUpdate(input: Parameters<Inbound['handleUpdate']>[0], next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>) {
    return otel ? otel.inbound.handleUpdate(input, next) : next(input);
  }
  validateUpdate(input: Parameters<Inbound['validateUpdate']>[0], next: Next<WorkflowInboundCallsInterceptor, 'validateUpdate'>) {
    return otel ? otel.inbound.validateUpdate(input, next) : next(input);
  }
  handleQuery(input: Parameters<Inbound['handleQuery']>[0], next: Next<WorkflowInboundCallsInterceptor, 'handleQuery'>) {
    return otel ? otel.inbound.handleQuery(input, next) : next(input);
  }
}

/** OpenTelemetry's outbound interceptor for a traced workflow, a plain pass-through otherwise. */
class TracingOutbound implements WorkflowOutboundCallsInterceptor {
  scheduleActivity(input: Parameters<Outbound['scheduleActivity']>[0], next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    return otel ? otel.outbound.scheduleActivity(input, next) : next(input);
  }
  scheduleLocalActivity(
    input: Parameters<Outbound['scheduleLocalActivity']>[0],
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
  ) {
    return otel ? otel.outbound.scheduleLocalActivity(input, next) : next(input);
  }
  startNexusOperation(
    input: Parameters<Outbound['startNexusOperation']>[0],
    next: Next<WorkflowOutboundCallsInterceptor, 'startNexusOperation'>,
  ) {
    return otel ? otel.outbound.startNexusOperation(input, next) : next(input);
  }
  startChildWorkflowExecution(
    input: Parameters<Outbound['startChildWorkflowExecution']>[0],
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ) {
    return otel ? otel.outbound.startChildWorkflowExecution(input, next) : next(input);
  }
  continueAsNew(input: Parameters<Outbound['continueAsNew']>[0], next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>) {
    return otel ? otel.outbound.continueAsNew(input, next) : next(input);
  }
  signalWorkflow(input: Parameters<Outbound['signalWorkflow']>[0], next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>) {
    return otel ? otel.outbound.signalWorkflow(input, next) : next(input);
  }
  getLogAttributes(input: Parameters<Outbound['getLogAttributes']>[0], next: Next<WorkflowOutboundCallsInterceptor, 'getLogAttributes'>) {
    return otel ? otel.outbound.getLogAttributes(input, next) : next(input);
  }
  getMetricTags(input: Parameters<Outbound['getMetricTags']>[0], next: Next<WorkflowOutboundCallsInterceptor, 'getMetricTags'>) {
    return otel ? otel.outbound.getMetricTags(input, next) : next(input);
  }
}

/** OpenTelemetry's internals interceptor (it ends the workflow's context manager) for a traced workflow. */
class TracingInternals implements WorkflowInternalsInterceptor {
  dispose(
    input: Parameters<Required<WorkflowInternalsInterceptor>['dispose']>[0],
    next: Next<WorkflowInternalsInterceptor, 'dispose'>,
  ): void {
    // OpenTelemetry's is async but calls `next` synchronously, before it could yield.
    if (otel) void otel.internals.dispose(input, next);
    else next(input);
  }
}

/** Reports an attempt's start and its closed record to the worker's metrics and logs (common/telemetry.ts). */
class AttemptTelemetryInterceptor implements WorkflowInboundCallsInterceptor {
  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = workflowInfo();
    if (!isAttemptWorkflowType(info.workflowType)) return next(input);
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
  inbound: [new TracingInbound(), new AttemptTelemetryInterceptor()],
  outbound: [new TracingOutbound()],
  internals: [new TracingInternals()],
});

import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { EcpError } from '../common/errors';

/** What a process traces with: the span processor workflow spans go to (sinks) and the resource naming this process. */
export interface Tracing {
  provider: NodeTracerProvider | null;
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Flushes buffered spans and stops exporting. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Whether tracing is on, from the standard OpenTelemetry variables: on when OTEL_TRACES_EXPORTER is `otlp`, or when an
 * OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_TRACES_EXPORTER is
 * not `none`; OTEL_SDK_DISABLED=true turns it off. Off by default.
 */
export function tracingEnabledFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter && exporter !== 'otlp' && exporter !== 'none')
    throw new EcpError(
      'config_invalid',
      `OTEL_TRACES_EXPORTER "${env.OTEL_TRACES_EXPORTER}": ECP exports traces with otlp (or none)`,
      'OTEL_TRACES_EXPORTER',
    );
  if (exporter === 'none') return false;
  return exporter === 'otlp' || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

const off = (resource: Resource): Tracing => ({
  provider: null,
  spanProcessor: new NoopSpanProcessor(),
  resource,
  shutdown: async () => {},
});

/**
 * Starts tracing for this process when the environment asks for it (see {@link tracingEnabledFromEnv}): a Node tracer
 * provider, registered globally (async context, W3C `traceparent` propagation), exporting in batches over OTLP/HTTP
 * to where OTEL_EXPORTER_OTLP_* say (the exporter reads them itself: endpoint, headers, timeout). `exporter` replaces
 * OTLP (tests). Off: a no-op span processor, nothing registered, nothing sent.
 */
export function startTracing(options: {
  serviceName: string;
  version?: string;
  exporter?: SpanExporter;
  env?: NodeJS.ProcessEnv;
}): Tracing {
  const resource = new Resource({
    [ATTR_SERVICE_NAME]: options.env?.OTEL_SERVICE_NAME ?? process.env.OTEL_SERVICE_NAME ?? options.serviceName,
    ...(options.version ? { [ATTR_SERVICE_VERSION]: options.version } : {}),
  });
  if (!options.exporter && !tracingEnabledFromEnv(options.env)) return off(resource);
  const spanProcessor = new BatchSpanProcessor(options.exporter ?? new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  let stopping: Promise<void> | undefined;
  return {
    provider,
    spanProcessor,
    resource,
    shutdown() {
      stopping ??= provider.shutdown().catch(() => {});
      return stopping;
    },
  };
}

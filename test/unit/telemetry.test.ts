import { describe, expect, it } from 'vitest';
import { summariseClosedAttempt, proposalLabels } from '../../common/telemetry';
import type { AttemptRecord } from '../../common';
import { logFormatFromEnv, logLevelFromEnv } from '../../telemetry/logger';
import { PlaneMetrics } from '../../telemetry/metrics';
import { metricsSettingsFromEnv } from '../../telemetry/server';
import { tracingEnabledFromEnv } from '../../telemetry/tracing';

/** The fields the summary reads; the rest of a record does not matter to it. */
function record(over: Partial<Record<keyof AttemptRecord, unknown>>): AttemptRecord {
  return {
    attemptId: 'att-1',
    status: 'SUCCEEDED',
    proposal: { agent: 'refund-bot', actionType: 'payments.refund' },
    decisions: { accepted: [], refused: [], refusedTotal: 0 },
    enforcement: null,
    outcome: null,
    timeline: [],
    ...over,
  } as unknown as AttemptRecord;
}
const at = (status: string, seconds: number) => ({ status, at: new Date(Date.UTC(2026, 0, 1, 0, 0, seconds)).toISOString() });

describe('summariseClosedAttempt', () => {
  it('measures decision latency from AWAITING_DECISION to the step the decision caused', () => {
    const approved = record({ timeline: [at('PROPOSED', 0), at('AWAITING_DECISION', 1), at('EXECUTING', 31), at('SUCCEEDED', 32)] });
    expect(summariseClosedAttempt(approved).decision).toEqual({ outcome: 'approved', latencyMs: 30_000 });
    const rejected = record({ status: 'REJECTED', timeline: [at('AWAITING_DECISION', 0), at('REJECTED', 5)] });
    expect(summariseClosedAttempt(rejected).decision).toEqual({ outcome: 'rejected', latencyMs: 5_000 });
    // No decision ended these waits: no latency.
    expect(
      summariseClosedAttempt(record({ status: 'EXPIRED', timeline: [at('AWAITING_DECISION', 0), at('EXPIRED', 9)] })).decision,
    ).toBeNull();
    expect(summariseClosedAttempt(record({ status: 'DENIED', timeline: [at('EVALUATING', 0), at('DENIED', 1)] })).decision).toBeNull();
  });

  it('counts an approved attempt its re-check stopped as approved and re-check blocked', () => {
    const blocked = record({
      status: 'DENIED',
      enforcement: { verdict: 'blocked' },
      timeline: [at('AWAITING_DECISION', 0), at('DENIED', 2)],
    });
    const s = summariseClosedAttempt(blocked);
    expect(s.recheckBlocked).toBe(true);
    expect(s.decision?.outcome).toBe('approved');
  });

  it('counts refusals by code, and those beyond the kept list as unrecorded; names the executor failure', () => {
    const s = summariseClosedAttempt(
      record({
        status: 'FAILED',
        decisions: {
          accepted: [],
          refused: [{ code: 'self_approval' }, { code: 'self_approval' }, { code: 'bad_signature' }],
          refusedTotal: 10,
        },
        outcome: { ok: false, error: { type: 'HttpStatusError', message: 'x' } },
      }),
    );
    expect(s.refusals).toEqual({ self_approval: 2, bad_signature: 1, unrecorded: 7 });
    expect(s.executorFailure).toBe('HttpStatusError');
  });

  it('labels an unvalidated proposal only with what is really there', () => {
    expect(proposalLabels('att-2', { agent: 'a', actionType: 7 })).toEqual({ attemptId: 'att-2', agent: 'a', actionType: null });
    expect(proposalLabels('att-3', null)).toEqual({ attemptId: 'att-3', agent: null, actionType: null });
  });
});

describe('PlaneMetrics', () => {
  it('exposes the closed attempt under its status and action type, and pending per group from the count query', async () => {
    const metrics = new PlaneMetrics({ groups: () => ['finance', 'sre'], countPending: async (g) => (g === 'finance' ? 3 : null) });
    metrics.attemptClosed(
      summariseClosedAttempt(
        record({
          timeline: [at('AWAITING_DECISION', 0), at('EXECUTING', 2)],
          decisions: { accepted: [], refused: [{ code: 'unknown_key' }], refusedTotal: 1 },
        }),
      ),
    );
    metrics.archivePass({ sealed: 2, watermark: new Date(Date.now() - 60_000).toISOString(), behind: true });
    const text = await metrics.text();
    expect(text).toContain('ecp_attempts_closed_total{action_type="payments.refund",status="SUCCEEDED"} 1');
    expect(text).toContain('ecp_decision_latency_seconds_count{action_type="payments.refund",outcome="approved"} 1');
    expect(text).toContain('ecp_decision_refusals_total{code="unknown_key"} 1');
    expect(text).toContain('ecp_pending_attempts{group="finance"} 3');
    // A failed count is no reading, never a false 0.
    expect(text).not.toContain('ecp_pending_attempts{group="sre"}');
    expect(text).toMatch(/^ecp_archive_lag_seconds (59|60|61)(\.\d+)?$/m);
    metrics.archivePass({ sealed: 0, watermark: new Date(0).toISOString(), behind: false });
    expect(await metrics.text()).toMatch(/^ecp_archive_lag_seconds 0$/m);
  });
});

describe('settings from the environment', () => {
  it('ECP_METRICS_PORT: a port, 0/off for none, the fallback when unset; anything else names the variable', () => {
    expect(metricsSettingsFromEnv({}, null)).toBeNull();
    expect(metricsSettingsFromEnv({}, 9464)).toEqual({ port: 9464, host: '127.0.0.1', explicit: false });
    expect(metricsSettingsFromEnv({ ECP_METRICS_PORT: '9100', ECP_METRICS_HOST: '0.0.0.0' }, 9464)).toEqual({
      port: 9100,
      host: '0.0.0.0',
      explicit: true,
    });
    expect(metricsSettingsFromEnv({ ECP_METRICS_PORT: 'off' }, 9464)).toBeNull();
    expect(metricsSettingsFromEnv({ ECP_METRICS_PORT: '0' }, 9464)).toBeNull();
    expect(() => metricsSettingsFromEnv({ ECP_METRICS_PORT: '99999' })).toThrow(/ECP_METRICS_PORT "99999" is not a port number/);
  });

  it('ECP_LOG_FORMAT and ECP_PLANE_LOG_LEVEL: terminal → pretty, else json; bad values name the variable', () => {
    expect(logFormatFromEnv({}, true)).toBe('pretty');
    expect(logFormatFromEnv({}, false)).toBe('json');
    expect(logFormatFromEnv({ ECP_LOG_FORMAT: 'JSON' }, true)).toBe('json');
    expect(() => logFormatFromEnv({ ECP_LOG_FORMAT: 'xml' })).toThrow(/ECP_LOG_FORMAT "xml" must be json or pretty/);
    expect(logLevelFromEnv({ ECP_PLANE_LOG_LEVEL: 'WARN' })).toBe('warn');
    expect(() => logLevelFromEnv({ ECP_PLANE_LOG_LEVEL: 'loud' })).toThrow(/ECP_PLANE_LOG_LEVEL "loud"/);
    // ECP_LOG_LEVEL is the Temporal SDK's: quieting it leaves the plane's own lines at info.
    expect(logLevelFromEnv({ ECP_LOG_LEVEL: 'ERROR' })).toBe('info');
  });

  it('tracing is off unless the standard OTEL variables ask for OTLP', () => {
    expect(tracingEnabledFromEnv({})).toBe(false);
    expect(tracingEnabledFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingEnabledFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(true);
    expect(tracingEnabledFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingEnabledFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(false);
    expect(tracingEnabledFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
    expect(() => tracingEnabledFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER "zipkin"/);
  });
});

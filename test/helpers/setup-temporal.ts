import { Runtime, type LogLevel } from '@temporalio/worker';
import { TestLogger } from './quietLogs';
import { useSharedWorkflowBundle } from './sharedWorkflowBundle';

// Keep test output readable: the SDK logs every worker state change at INFO. Core's own (Rust) log lines are
// forwarded to the same logger, so a test can silence the warnings it provokes on purpose (quietLogs.ts).
const level = ((process.env.ECP_LOG_LEVEL?.toUpperCase() as LogLevel | undefined) ?? 'WARN') satisfies LogLevel;
Runtime.install({ logger: new TestLogger(level), telemetryOptions: { logging: { forward: {}, filter: { core: level, other: 'ERROR' } } } });

useSharedWorkflowBundle();

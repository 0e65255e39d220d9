import type { JsonValue, Proposal } from '../common';
import { EcpError } from '../common';
import { loadPlaneConfig, type PlaneConfig } from './load';

export interface ContextProviderRequest {
  attemptId: string;
  proposal: Proposal;
  signal: AbortSignal;
}
export interface ExecutorRequest extends ContextProviderRequest {
  /** Always the attempt ID: the same across retries, worker crashes and resets. Pass it to the target. */
  idempotencyKey: string;
  proposalHash: string;
}

/** Returns verified facts: what the plane, not the agent, knows about the resource. */
export type ContextProvider = (request: ContextProviderRequest) => Promise<Record<string, JsonValue>>;
/** Performs the action with exactly the authorised parameters. Throw to fail (Temporal retries per action type). */
export type Executor = (request: ExecutorRequest) => Promise<JsonValue>;

/** The TypeScript extension point: custom providers and executors, named from configuration (`custom: <name>`). */
export interface PlaneExtensions {
  contextProviders?: Record<string, ContextProvider>;
  executors?: Record<string, Executor>;
}

/**
 * Holds the current configuration. `reload()` swaps it atomically after a full validation; a bad file leaves the
 * running configuration in place and throws. Attempts pin the versions they used, so a reload never rewrites history.
 */
export class PlaneRuntime {
  #config: PlaneConfig;

  constructor(
    readonly configPath: string,
    readonly extensions: PlaneExtensions = {},
  ) {
    this.#config = this.#load();
  }

  get config(): PlaneConfig {
    return this.#config;
  }

  reload(): PlaneConfig {
    this.#config = this.#load();
    return this.#config;
  }

  #load(): PlaneConfig {
    const config = loadPlaneConfig(this.configPath);
    const missing: string[] = [];
    for (const [name, type] of Object.entries(config.actionTypes)) {
      if ('custom' in type.executor && !this.extensions.executors?.[type.executor.custom]) {
        missing.push(`action type "${name}": no custom executor "${type.executor.custom}" is registered`);
      }
      if (type.context && 'custom' in type.context && !this.extensions.contextProviders?.[type.context.custom]) {
        missing.push(`action type "${name}": no custom context provider "${type.context.custom}" is registered`);
      }
    }
    if (missing.length > 0) throw new EcpError('config_invalid', `${config.file}:\n  ${missing.join('\n  ')}`);
    return config;
  }
}

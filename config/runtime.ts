import type { JsonValue, Proposal } from '../common';
import { EcpError } from '../common';
import type { McpToolDefinition } from '../common/mcp';
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
  /** The live MCP tool catalogue (set by the worker's downstream connections); undefined: the kept one, if any. */
  #mcpTools: readonly McpToolDefinition[] | undefined;

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

  /**
   * Rebuilds the configuration with a new MCP tool catalogue (discovery, `tools/list_changed`, a refresh), atomically
   * and fully validated: a catalogue that makes the configuration invalid (e.g. a policy names a tool that went away)
   * leaves the running configuration and catalogue in place and throws.
   */
  setMcpTools(tools: readonly McpToolDefinition[]): PlaneConfig {
    const previous = this.#mcpTools;
    this.#mcpTools = tools;
    try {
      this.#config = this.#load();
    } catch (err) {
      this.#mcpTools = previous;
      throw err;
    }
    return this.#config;
  }

  #load(): PlaneConfig {
    const config = loadPlaneConfig(this.configPath, this.#mcpTools ? { mcpTools: this.#mcpTools } : {});
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

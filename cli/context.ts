import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EcpError } from '../common/errors';
import type { DataConverter } from '@temporalio/common';
import type { PlaneConfig } from '../config/load';
import type { ConfigWithoutPolicies } from '../config/withoutPolicies';
import type { EcpClient } from '../client/ecpClient';
import { dataDirFromEnv } from '../config/dataDir';

/** The global options every command accepts. */
export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  keysDir?: string;
}

/**
 * What a command runs against: data dir, configuration and keys dir resolved from options, then the environment,
 * then defaults. The configuration is loaded and Temporal is connected lazily — only by commands that need them —
 * and heavy modules (Temporal client, Cedar) are imported only then, so `ecp --help` and `ecp keys` start fast.
 */
export class CliContext {
  readonly dataDir: string;
  readonly keysDir: string;
  /** The configuration file in effect, or null when none was given and the demo's does not exist. */
  readonly configPath: string | null;
  readonly configSource: string;
  #config: Promise<PlaneConfig> | undefined;
  #configWithoutPolicies: Promise<ConfigWithoutPolicies> | undefined;
  #client: Promise<EcpClient> | undefined;

  constructor(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env) {
    this.dataDir = dataDirFromEnv(env, options.dataDir);
    this.keysDir = resolve(options.keysDir ?? (env.ECP_KEYS_DIR || join(this.dataDir, 'keys')));
    const demoConfig = join(this.dataDir, 'demo', 'ecp.yaml');
    if (options.config) {
      this.configPath = resolve(options.config);
      this.configSource = '--config';
    } else if (env.ECP_CONFIG) {
      this.configPath = resolve(env.ECP_CONFIG);
      this.configSource = 'ECP_CONFIG';
    } else if (existsSync(demoConfig)) {
      this.configPath = demoConfig;
      this.configSource = 'the demo configuration';
    } else {
      this.configPath = null;
      this.configSource = 'none';
    }
  }

  /**
   * The plane configuration with its policy bundle (Cedar); fails with a clear message when there is none. A broken one
   * always fails (exit 2). Only for commands that need the policies; the others take {@link configWithoutPolicies}.
   */
  config(why: string): Promise<PlaneConfig> {
    if (!this.configPath) return this.#missing(why);
    const path = this.configPath;
    this.#config ??= import('../config/load').then(({ loadPlaneConfig }) => loadPlaneConfig(path));
    return this.#config;
  }

  /** The configuration with its policies if one is in effect, else undefined. */
  async optionalConfig(): Promise<PlaneConfig | undefined> {
    return this.configPath ? this.config('') : undefined;
  }

  /**
   * The configuration without its policy bundle (config/withoutPolicies.ts): the directory, action types and sections,
   * validated as the plane validates them, without loading the policy engine (it costs a command ≈ 0.7 s). Fails
   * like {@link config} when there is none or it is broken — except for broken policies, which only the plane and the
   * commands that read policies refuse.
   */
  configWithoutPolicies(why: string): Promise<ConfigWithoutPolicies> {
    if (!this.configPath) return this.#missing(why);
    const path = this.configPath;
    // Once the whole configuration is loaded, it serves here too.
    this.#configWithoutPolicies ??=
      this.#config ?? import('../config/withoutPolicies').then(({ loadConfigWithoutPolicies }) => loadConfigWithoutPolicies(path));
    return this.#configWithoutPolicies;
  }

  /** The configuration without its policies if one is in effect, else undefined. */
  async optionalConfigWithoutPolicies(): Promise<ConfigWithoutPolicies | undefined> {
    return this.configPath ? this.configWithoutPolicies('') : undefined;
  }

  #missing(why: string): Promise<never> {
    return Promise.reject(
      new EcpError(
        'config_invalid',
        `${why} needs the plane configuration: pass --config <file> or set ECP_CONFIG ` +
          `(no demo configuration at ${join(this.dataDir, 'demo', 'ecp.yaml')}; \`npm start\` creates it)`,
      ),
    );
  }

  /**
   * The connected client, with the configuration (without policies) when one is in effect, so proposals are validated
   * locally and `pending --as` knows the directory.
   */
  client(options: { withConfig?: boolean } = {}): Promise<EcpClient> {
    this.#client ??= (async () => {
      const config = options.withConfig === false ? undefined : await this.optionalConfigWithoutPolicies();
      const { EcpClient } = await import('../client/ecpClient');
      const { ListingSealVerifier } = await import('../client/listingSeal');
      // Listings are checked against the plane's public key in this data dir (or ECP_PLANE_PUBLIC_KEY), read lazily.
      return EcpClient.connect({
        config,
        dataConverter: await this.dataConverter(),
        listingSeal: ListingSealVerifier.fromDataDir(this.dataDir),
      });
    })();
    return this.#client;
  }

  /**
   * The payload codec's data converter (codec/dataConverter.ts): keys from ecp.yaml's payloadEncryption section — read
   * on its own, cheaply, even for commands that skip the rest of the configuration — else ECP_PAYLOAD_KEYS. Pass it
   * to anything that reads history payloads offline (evidence-pack verification, replay).
   */
  async dataConverter(): Promise<DataConverter> {
    const { dataConverterFor } = await import('../codec/dataConverter');
    const { payloadKeySourcesFromFile } = await import('../config/payloadKeySources');
    return dataConverterFor(this.configPath ? payloadKeySourcesFromFile(this.configPath) : {});
  }

  async close(): Promise<void> {
    const pending = this.#client;
    this.#client = undefined;
    if (!pending) return;
    const client = await pending.catch(() => undefined);
    await client?.close().catch(() => {});
  }
}

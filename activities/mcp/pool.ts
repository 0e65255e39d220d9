import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { McpServerConfig } from '../../config/schema';
import { connectMcpServer, type McpConnection } from './connection';

/**
 * A small pool of connections to one downstream server, at most `maxConnections`. Each connection carries ONE call at
 * a time, so a request the server sends back during a call (elicitation, sampling, progress) belongs to that call.
 * Idle connections are reused; a connection whose transport closed is dropped and replaced on the next use.
 */
export class McpServerPool {
  readonly #idle: McpConnection[] = [];
  readonly #all = new Set<McpConnection>();
  readonly #waiters: Array<(connection: McpConnection | null) => void> = [];
  #opening = 0;
  #closed = false;

  constructor(
    readonly name: string,
    readonly config: McpServerConfig,
    private readonly onToolListChanged: () => void,
  ) {}

  /** Runs `fn` on a connection of its own; waits for one when all are busy. A connection that died in `fn` is not reused. */
  async use<T>(fn: (client: Client, connection: McpConnection) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const connection = await this.#acquire(signal);
    try {
      return await fn(connection.client, connection);
    } finally {
      connection.relay = null;
      this.#release(connection);
    }
  }

  /** Closes every connection (stdio servers' processes end with them); later uses fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter(null);
    await Promise.all([...this.#all].map((c) => c.client.close().catch(() => {})));
    this.#all.clear();
    this.#idle.length = 0;
  }

  async #acquire(signal?: AbortSignal): Promise<McpConnection> {
    for (;;) {
      if (this.#closed) throw new Error(`MCP server "${this.name}": the worker is shutting down`);
      signal?.throwIfAborted();
      const idle = this.#idle.pop();
      if (idle) {
        if (idle.dead) {
          this.#all.delete(idle);
          continue;
        }
        return idle;
      }
      for (const c of this.#all) if (c.dead) this.#all.delete(c);
      if (this.#all.size + this.#opening < this.config.maxConnections) {
        this.#opening++;
        try {
          const connection = await connectMcpServer(this.name, this.config, this.onToolListChanged);
          if (this.#closed) {
            await connection.client.close().catch(() => {});
            continue;
          }
          this.#all.add(connection);
          return connection;
        } finally {
          this.#opening--;
        }
      }
      const handed = await new Promise<McpConnection | null>((resolve, reject) => {
        const onAbort = () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(signal!.reason);
        };
        const waiter = (c: McpConnection | null) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(c);
        };
        this.#waiters.push(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      if (handed && !handed.dead) return handed;
      if (handed) this.#all.delete(handed);
    }
  }

  #release(connection: McpConnection): void {
    if (connection.dead || this.#closed) {
      this.#all.delete(connection);
      // A waiter may now open a new connection in the freed slot.
      this.#waiters.shift()?.(connection);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter(connection);
    else this.#idle.push(connection);
  }
}

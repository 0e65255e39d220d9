import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EcpError } from '../../common/errors';
import type { ArchiveStore, StoredEntry } from './store';

const HEX = /^[0-9a-f]{64}$/;
const ENTRY_FILE = /^(\d{12})\.json$/;
const entryName = (seq: number) => `${String(seq).padStart(12, '0')}.json`;

/**
 * The default archive store: a directory (by default `<dataDir>/archive`).
 *
 * ```
 * <dir>/objects/sha256/<hex>     evidence pack bytes, named by their SHA-256, read-only
 * <dir>/index/000000000001.json  chain entry 1 (canonical JSON), one file per entry, read-only
 * <dir>/tmp/                     staging for atomic writes (same filesystem, so rename/link are atomic)
 * ```
 * Every write goes to `tmp/` first, is fsynced, then appears under its final name in one atomic step (rename for
 * objects; link(2) for entries, which fails with EEXIST if the name is taken — the compare-and-set that keeps the
 * chain from forking across processes), and the directory is fsynced. A crash leaves at most a stray temp file.
 */
export class LocalDirectoryStore implements ArchiveStore {
  readonly location: string;
  readonly #objects: string;
  readonly #index: string;
  readonly #tmp: string;
  #ready: Promise<void> | undefined;

  constructor(dir: string) {
    this.location = resolve(dir);
    this.#objects = join(this.location, 'objects', 'sha256');
    this.#index = join(this.location, 'index');
    this.#tmp = join(this.location, 'tmp');
  }

  /** Creates the layout on first write; reading a missing archive is an error the caller reports. */
  #ensure(): Promise<void> {
    this.#ready ??= (async () => {
      for (const dir of [this.#objects, this.#index, this.#tmp]) await mkdir(dir, { recursive: true });
    })();
    return this.#ready;
  }

  async putObject(hex: string, bytes: Uint8Array): Promise<'written' | 'present'> {
    if (!HEX.test(hex)) throw new EcpError('invalid_input', `object name must be 64 lower-case hex characters, not "${hex}"`);
    await this.#ensure();
    const final = join(this.#objects, hex);
    if (await exists(final)) return 'present';
    const tmp = await this.#stage(bytes);
    await rename(tmp, final); // same content under the same name: a concurrent writer's rename is harmless
    await fsyncDir(this.#objects);
    return 'written';
  }

  async getObject(hex: string): Promise<Uint8Array | null> {
    if (!HEX.test(hex)) return null;
    try {
      return await readFile(join(this.#objects, hex));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async listObjects(): Promise<string[]> {
    return (await listDir(this.#objects)).filter((n) => HEX.test(n));
  }

  async createEntry(seq: number, bytes: Uint8Array): Promise<boolean> {
    if (!Number.isSafeInteger(seq) || seq < 1) throw new EcpError('invalid_input', `entry seq must be a positive integer, not ${seq}`);
    await this.#ensure();
    const tmp = await this.#stage(bytes);
    try {
      await link(tmp, join(this.#index, entryName(seq)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(tmp).catch(() => {});
    }
    await fsyncDir(this.#index);
    return true;
  }

  async readEntries(fromSeq = 1): Promise<StoredEntry[]> {
    const seqs = (await listDir(this.#index))
      .map((n) => ENTRY_FILE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .filter((s) => s >= fromSeq)
      .sort((a, b) => a - b);
    const out: StoredEntry[] = [];
    for (const seq of seqs) {
      try {
        out.push({ seq, bytes: await readFile(join(this.#index, entryName(seq))) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return out;
  }

  async listStrayNames(): Promise<string[]> {
    const stray: string[] = [];
    for (const name of await listDir(this.#objects)) if (!HEX.test(name)) stray.push(`objects/sha256/${name}`);
    for (const name of await listDir(this.#index)) if (!ENTRY_FILE.test(name)) stray.push(`index/${name}`);
    return stray;
  }

  async sizeOnDisk(): Promise<{ objects: number; index: number; files: number }> {
    const sum = async (dir: string) => {
      let bytes = 0;
      let files = 0;
      for (const name of await listDir(dir)) {
        const s = await stat(join(dir, name));
        bytes += s.blocks * 512;
        files++;
      }
      return { bytes, files };
    };
    const objects = await sum(this.#objects);
    const index = await sum(this.#index);
    return { objects: objects.bytes, index: index.bytes, files: objects.files + index.files };
  }

  /** Writes bytes to a fresh read-only temp file and fsyncs it; returns its path. */
  async #stage(bytes: Uint8Array): Promise<string> {
    const tmp = join(this.#tmp, `${process.pid}-${randomBytes(8).toString('hex')}`);
    const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o444);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return tmp;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Makes a rename or link durable: the directory entry itself must reach the disk. */
async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

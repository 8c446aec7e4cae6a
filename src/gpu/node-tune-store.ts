// Node only: tuner choices in <cache>/autotune.json. A save re-reads the file and merges into
// it under a lock file, then renames a temporary file into place, so processes tuning at once
// keep each other's entries and a reader never sees a half-written file.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { IOError } from '../errors.js';
import { homedir } from 'node:os';
import { cacheRoot } from './env.js';
import { makeDirs } from './node-dirs.js';
import type { TuneStore } from './tuner.js';

export interface FileTuneStoreOptions {
  /** Give up waiting for another process's lock after this long (ms). Default 10 s. */
  lockTimeoutMs?: number;
  /** A lock file older than this was left by a process that died holding it, and is removed (ms). Default 30 s. */
  staleLockMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FileTuneStore implements TuneStore {
  readonly path: string;
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;

  constructor(path?: string, options: FileTuneStoreOptions = {}) {
    this.path = path ?? join(cacheRoot(process.env, homedir()), 'autotune.json');
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.staleLockMs = options.staleLockMs ?? 30_000;
  }

  async load(): Promise<Record<string, unknown>> {
    try {
      const v = JSON.parse(await readFile(this.path, 'utf8'));
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {};
    } catch {
      return {};
    }
  }

  async save(entries: Record<string, unknown>): Promise<void> {
    await this.update((data) => Object.assign(data, entries));
  }

  async remove(which: (key: string) => boolean): Promise<string[]> {
    const gone: string[] = [];
    if (!existsSync(this.path)) return gone;
    await this.update((data) => {
      for (const k of Object.keys(data).filter(which)) {
        delete data[k];
        gone.push(k);
      }
      return data;
    });
    return gone;
  }

  /** Re-reads the file under the lock, applies `edit` and renames the result into place. */
  private async update(edit: (data: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
    await makeDirs(dirname(this.path));
    const unlock = await this.lock();
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(edit(await this.load()), null, 1));
      await rename(tmp, this.path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    } finally {
      await unlock();
    }
  }

  /** Creates `<path>.lock` exclusively (O_EXCL), waiting while another process holds it. */
  private async lock(): Promise<() => Promise<void>> {
    const file = `${this.path}.lock`;
    const deadline = Date.now() + this.lockTimeoutMs;
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      try {
        const fh = await open(file, 'wx');
        await fh.writeFile(`${process.pid}\n`).finally(() => fh.close());
        return () => unlink(file).catch(() => undefined);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      try {
        if (Date.now() - (await stat(file)).mtimeMs > this.staleLockMs) {
          await unlink(file).catch(() => undefined);
          continue;
        }
      } catch {
        continue; // released meanwhile: try again at once
      }
      if (Date.now() > deadline) {
        throw new IOError(`${file} is held by another process for over ${this.lockTimeoutMs} ms (remove it if no prott5 process is running)`, { path: file });
      }
      await sleep(wait * (0.5 + Math.random()));
    }
  }
}

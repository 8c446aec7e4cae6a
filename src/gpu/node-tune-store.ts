// Node only: autotuner choices in <cache>/autotune.json (the cache root of weights/hub.ts).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cacheRoot } from '../../weights/hub.js';
import type { TuneStore } from './autotune.js';

export class FileTuneStore implements TuneStore {
  readonly path: string;
  constructor(path?: string) {
    this.path = path ?? join(cacheRoot(), 'autotune.json');
  }
  async load(): Promise<Record<string, unknown>> {
    try {
      const v = JSON.parse(await readFile(this.path, 'utf8'));
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {};
    } catch {
      return {};
    }
  }
  async save(data: Record<string, unknown>): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(data, null, 1));
    await rename(tmp, this.path);
  }
}

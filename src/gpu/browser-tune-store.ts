// Browser only: tuner choices kept in localStorage (one small JSON object), so that kernel
// variants are measured on the first visit only. A save re-reads the stored object and merges
// into it (under a Web Lock where the browser has them), so tabs tuning at once keep each
// other's entries. Falls back to memory where localStorage is unavailable (private windows
// with storage blocked, workers).
import type { TuneStore } from './tuner.js';

type Locks = { request(name: string, cb: () => Promise<void>): Promise<void> };

export class LocalStorageTuneStore implements TuneStore {
  private memory: Record<string, unknown> = {};
  constructor(readonly key = 'prott5-webgpu:autotune') {}

  private read(): Record<string, unknown> | null {
    try {
      const v: unknown = JSON.parse(globalThis.localStorage?.getItem(this.key) ?? 'null');
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // Unavailable or corrupt: start afresh.
    }
    return null;
  }

  async load(): Promise<Record<string, unknown>> {
    return { ...this.memory, ...this.read() };
  }

  async save(entries: Record<string, unknown>): Promise<void> {
    const merge = async () => {
      this.memory = { ...this.memory, ...entries };
      const merged = { ...this.read(), ...entries };
      try {
        globalThis.localStorage?.setItem(this.key, JSON.stringify(merged));
      } catch {
        // Quota or blocked storage: the choices live for this page only.
      }
    };
    const locks = (globalThis.navigator as { locks?: Locks } | undefined)?.locks;
    if (locks) await locks.request(this.key, merge);
    else await merge();
  }
}

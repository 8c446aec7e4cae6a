// Browser only: tuner choices kept in the Cache API next to the weights (CacheTuneStore, the
// default) or in localStorage (one small JSON object), so that kernel
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

/**
 * Browser: tuner choices kept in the Cache API, in the cache that holds the downloaded weights
 * (`prott5-webgpu-v1` unless named), as one JSON response. So the choices live and go with the
 * weights: `clearModelCache()` deletes both, and a profile that keeps its weights keeps its
 * tuning. Choices an older version left in localStorage are read too. Where the Cache API is
 * missing (an insecure context), it works as LocalStorageTuneStore.
 */
export class CacheTuneStore implements TuneStore {
  private readonly fallback: LocalStorageTuneStore;
  constructor(readonly cacheName: string, readonly key = '/__prott5-webgpu/autotune.json', legacyKey?: string) {
    this.fallback = new LocalStorageTuneStore(legacyKey);
  }

  private url(): string {
    return new URL(this.key, (globalThis as { location?: { href: string } }).location?.href ?? 'http://localhost/').href;
  }

  private async read(): Promise<Record<string, unknown>> {
    try {
      const hit = await (await caches.open(this.cacheName)).match(this.url());
      const v: unknown = hit ? await hit.json() : null;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // Unavailable or corrupt: start afresh.
    }
    return {};
  }

  async load(): Promise<Record<string, unknown>> {
    const legacy = await this.fallback.load();
    if (typeof caches === 'undefined') return legacy;
    return { ...legacy, ...(await this.read()) };
  }

  async save(entries: Record<string, unknown>): Promise<void> {
    if (typeof caches === 'undefined') return this.fallback.save(entries);
    const merge = async () => {
      const merged = { ...(await this.read()), ...entries };
      try {
        const body = JSON.stringify(merged);
        await (await caches.open(this.cacheName)).put(this.url(), new Response(body, { headers: { 'content-type': 'application/json' } }));
      } catch {
        await this.fallback.save(entries); // quota or blocked storage
      }
    };
    const locks = (globalThis.navigator as { locks?: Locks } | undefined)?.locks;
    if (locks) await locks.request(`${this.cacheName}:${this.key}`, merge);
    else await merge();
  }
}

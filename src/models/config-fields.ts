// Readers for config.json fields shared by the families' config parsers: each failure is a
// ConfigError naming the file and the key, with the value it found.
import { ConfigError } from '../errors.js';
import { describeValue } from '../../weights/describe.js';

/** Layers accepted (the largest published protein models have 36 to 48). */
export const MAX_LAYERS = 4096;

export interface ConfigFields {
  /** An integer in [min, 2^24]; `dflt` when the key is absent (missing without one is an error). */
  int(key: string, dflt?: number, min?: number): number;
  /** A small positive number (a LayerNorm eps). */
  eps(key: string, dflt: number): number;
  /** A string from `allowed`, naming them when it is another. */
  oneOf<T extends string>(key: string, allowed: readonly T[], dflt: T, why: string): T;
  bool(key: string, dflt: boolean): boolean;
  raw: Record<string, unknown>;
}

export function configFields(raw: unknown, file: string): ConfigFields {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${file}: not a JSON object`, { file });
  const c = raw as Record<string, unknown>;
  return {
    raw: c,
    int(key, dflt, min = 1) {
      const v = c[key] ?? dflt;
      if (v === undefined) throw new ConfigError(`${file}: "${key}" is missing`, { file, key });
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 2 ** 24) {
        throw new ConfigError(`${file}: "${key}" must be an integer ≥ ${min}, got ${describeValue(v)}`, { file, key });
      }
      return v;
    },
    eps(key, dflt) {
      const v = c[key] ?? dflt;
      if (typeof v !== 'number' || !(v > 0 && v < 1)) throw new ConfigError(`${file}: "${key}" must be a small positive number, got ${describeValue(v)}`, { file, key });
      return v;
    },
    oneOf(key, allowed, dflt, why) {
      const v = c[key] ?? dflt;
      if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
        throw new ConfigError(`${file}: "${key}" ${describeValue(v)} is not supported (${why})`, { file, key });
      }
      return v as (typeof allowed)[number];
    },
    bool(key, dflt) {
      const v = c[key] ?? dflt;
      if (typeof v !== 'boolean') throw new ConfigError(`${file}: "${key}" must be true or false, got ${describeValue(v)}`, { file, key });
      return v;
    },
  };
}

/** Heads must divide the hidden size; layers are capped (the schema lists every layer's names). */
export function checkHeadsAndLayers(file: string, hidden: number, heads: number, layers: number, keys = { hidden: 'hidden_size', heads: 'num_attention_heads', layers: 'num_hidden_layers' }): void {
  if (hidden % heads !== 0) throw new ConfigError(`${file}: "${keys.hidden}" ${hidden} is not a multiple of "${keys.heads}" ${heads}`, { file, key: keys.heads });
  if (layers > MAX_LAYERS) throw new ConfigError(`${file}: "${keys.layers}" ${layers} is more than the ${MAX_LAYERS} this engine accepts`, { file, key: keys.layers });
}

// Which published T5 checkpoint a config is: the shapes say most of it; ProtT5-XL-U50 and -BFD
// (and XXL-U50 and -BFD) have the same shapes, so the folder's or hub id's name decides those.
import { isGated, type T5Config } from './config.js';

export interface T5Variant {
  /** 'ProtT5-XL-U50', 'ProtT5-XL-BFD', 'ProtT5-XXL-U50', 'ProtT5-XXL-BFD', 'ProstT5', 'Ankh base', 'Ankh large', or 'unknown T5'. */
  name: string;
  /** Why, when the name is a guess or a shape is unusual. */
  note?: string;
}

const same = (c: T5Config, s: Partial<T5Config>): boolean => Object.entries(s).every(([k, v]) => c[k as keyof T5Config] === v);

/** ProtT5-XL's encoder shapes (U50, BFD and ProstT5 alike). */
const XL = { d_model: 1024, d_ff: 16384, d_kv: 128, num_heads: 32, num_layers: 24 };
/** ProtT5-XXL's (T5 11B's encoder): 128 heads of 128, d_ff 65536. */
const XXL = { d_model: 1024, d_ff: 65536, d_kv: 128, num_heads: 128, num_layers: 24 };
/** Ankh base and large (T5 v1.1, gated GELU, 64 buckets). */
const ANKH_BASE = { d_model: 768, d_ff: 3072, d_kv: 64, num_heads: 12, num_layers: 48 };
const ANKH_LARGE = { d_model: 1536, d_ff: 3840, d_kv: 64, num_heads: 16, num_layers: 48 };

/**
 * The variant of a T5 config. `name` is the model folder's path or hub id (and the config's
 * `_name_or_path` when it has one): "bfd" or "uniref50" / "u50" in it tells U50 from BFD.
 */
export function t5Variant(c: T5Config, name = ''): T5Variant {
  const corpus = /bfd/i.test(name) ? 'BFD' : /uniref50|u50/i.test(name) ? 'U50' : null;
  const unsure = 'U50 and BFD have the same shapes and the name does not say which';
  if (isGated(c)) {
    if (c.relative_attention_num_buckets !== 64) return { name: 'unknown T5', note: `a gated-GELU T5 (T5 v1.1) with ${c.relative_attention_num_buckets} buckets; Ankh has 64` };
    if (same(c, ANKH_BASE)) return { name: 'Ankh base' };
    if (same(c, ANKH_LARGE)) return { name: 'Ankh large' };
    return { name: 'unknown T5', note: 'Ankh-like (gated GELU, 64 buckets) but neither Ankh base nor Ankh large in its shapes' };
  }
  if (same(c, XL) && c.vocab_size === 150) return { name: 'ProstT5' };
  if (same(c, XL) && c.vocab_size === 128) return corpus ? { name: `ProtT5-XL-${corpus}` } : { name: 'ProtT5-XL', note: unsure };
  if (same(c, XXL) && c.vocab_size === 128) return corpus ? { name: `ProtT5-XXL-${corpus}` } : { name: 'ProtT5-XXL', note: unsure };
  return { name: 'unknown T5', note: 'its shapes are none of ProtT5-XL, ProtT5-XXL, ProstT5, Ankh base or large' };
}

import { ConfigError } from '../../errors.js';
import { describeValue } from '../../../weights/describe.js';

/** The T5 encoder hyper-parameters the engine uses (names as in Hugging Face config.json). */
export interface T5Config {
  d_model: number;
  d_ff: number;
  d_kv: number;
  num_heads: number;
  num_layers: number;
  vocab_size: number;
  relative_attention_num_buckets: number;
  relative_attention_max_distance: number;
  layer_norm_epsilon: number;
  /**
   * The feed-forward: 'relu' is ProtT5's and ProstT5's `wo(relu(wi x))`; 'gated-gelu' is T5 v1.1's
   * and Ankh's `wo(gelu_new(wi_0 x) · wi_1 x)` (tanh GELU). Absent means 'relu'.
   */
  feed_forward_proj?: T5FeedForward;
}

export type T5FeedForward = 'relu' | 'gated-gelu';

/** Whether the config's feed-forward is T5 v1.1's gated one (wi_0, wi_1). */
export const isGated = (c: T5Config): boolean => c.feed_forward_proj === 'gated-gelu';

/** ProtT5-XL-UniRef50's encoder. */
export const PROT_T5_XL: T5Config = {
  d_model: 1024,
  d_ff: 16384,
  d_kv: 128,
  num_heads: 32,
  num_layers: 24,
  vocab_size: 128,
  relative_attention_num_buckets: 32,
  relative_attention_max_distance: 128,
  layer_norm_epsilon: 1e-6,
};

/** Encoder layers accepted (ProtT5-XL has 24; T5's largest configurations 24 to 48). */
export const MAX_LAYERS = 4096;

/** Validates a parsed config.json; `file` names it in errors. Defaults as transformers' T5Config. */
export function parseT5Config(raw: unknown, file = 'config.json'): T5Config {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${file}: not a JSON object`, { file });
  const c = raw as Record<string, unknown>;
  const int = (key: string, dflt?: number, min = 1): number => {
    const v = c[key] ?? dflt;
    if (v === undefined) throw new ConfigError(`${file}: "${key}" is missing`, { file, key });
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 2 ** 24) {
      throw new ConfigError(`${file}: "${key}" must be an integer ≥ ${min}, got ${describeValue(v)}`, { file, key });
    }
    return v;
  };
  if (c.model_type !== undefined && c.model_type !== 't5') {
    throw new ConfigError(`${file}: model_type is ${describeValue(c.model_type)}, this engine runs T5 encoders only`, { file, key: 'model_type' });
  }
  // transformers reads "gated-ACT" as gated with ACT, and maps "gated-gelu" to gelu_new (tanh).
  const act = c.feed_forward_proj ?? 'relu';
  const ff: T5FeedForward | undefined = act === 'relu' ? 'relu' : act === 'gated-gelu' || act === 'gated-gelu_new' ? 'gated-gelu' : undefined;
  if (!ff || (ff === 'relu' && c.is_gated_act === true)) {
    throw new ConfigError(`${file}: feed_forward_proj ${describeValue(act)} is not supported (ProtT5 and ProstT5 use "relu", Ankh "gated-gelu")`, { file, key: 'feed_forward_proj' });
  }
  const eps = c.layer_norm_epsilon ?? 1e-6;
  if (typeof eps !== 'number' || !(eps > 0 && eps < 1)) throw new ConfigError(`${file}: "layer_norm_epsilon" must be a small positive number, got ${describeValue(eps)}`, { file, key: 'layer_norm_epsilon' });
  const config: T5Config = {
    d_model: int('d_model'),
    d_ff: int('d_ff'),
    d_kv: int('d_kv'),
    num_heads: int('num_heads'),
    num_layers: int('num_layers'),
    vocab_size: int('vocab_size'),
    // Fewer than 4 buckets leave no exact bucket (max_exact 0): log(0/0) gives NaN buckets.
    relative_attention_num_buckets: int('relative_attention_num_buckets', 32, 4),
    relative_attention_max_distance: int('relative_attention_max_distance', 128, 2),
    layer_norm_epsilon: eps,
  };
  if (ff !== 'relu') config.feed_forward_proj = ff;
  if (config.relative_attention_num_buckets % 2 !== 0) {
    throw new ConfigError(`${file}: relative_attention_num_buckets must be even for a bidirectional encoder, got ${config.relative_attention_num_buckets}`, { file, key: 'relative_attention_num_buckets' });
  }
  // max_exact = num_buckets / 4. At or below it the log-spaced buckets are NaN or negative, and
  // the bucket beyond ±max_distance is no longer constant (the bias table clamps rel to ±max_distance).
  const maxExact = Math.floor(config.relative_attention_num_buckets / 4);
  if (config.relative_attention_max_distance <= maxExact) {
    throw new ConfigError(
      `${file}: relative_attention_max_distance ${config.relative_attention_max_distance} must be larger than relative_attention_num_buckets / 4 (${maxExact})`,
      { file, key: 'relative_attention_max_distance' },
    );
  }
  // The loader lists the names of every layer's tensors before matching them to the file: a
  // num_layers in the millions would take minutes and gigabytes to be told a tensor is missing.
  if (config.num_layers > MAX_LAYERS) {
    throw new ConfigError(`${file}: "num_layers" ${config.num_layers} is more than the ${MAX_LAYERS} this engine accepts`, { file, key: 'num_layers' });
  }
  if (config.vocab_size < 28) throw new ConfigError(`${file}: vocab_size ${config.vocab_size} is too small for the ProtT5 vocabulary (28 tokens)`, { file, key: 'vocab_size' });
  return config;
}

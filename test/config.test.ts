// config.json validation: the fixture and ProtT5-XL's real config parse; every rejection is a
// ConfigError whose message and context name the file and the key.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseT5Config, PROT_T5_XL, type T5Config } from '../src/models/t5/config.js';
import { ConfigError, ProtT5Error } from '../src/errors.js';
import { fixturesDir } from './helpers.js';

const TINY = join(fixturesDir(), 't5-tiny');
const fixtureConfig = (): Record<string, unknown> => JSON.parse(readFileSync(join(TINY, 't5-tiny-f32', 'config.json'), 'utf8'));

/** Asserts parseT5Config(raw, file) throws a ConfigError naming the file (and key); returns it. */
function rejects(raw: unknown, key: string | null, ...fragments: string[]): ConfigError {
  const file = '/models/broken/config.json';
  try {
    parseT5Config(raw, file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`expected ConfigError, got ${String(err)}`);
    assert.ok(err instanceof ProtT5Error);
    assert.is(err.code, 'BAD_CONFIG');
    assert.is(err.name, 'ConfigError');
    for (const f of [file, ...(key ? [key] : []), ...fragments]) {
      assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
    }
    assert.is(err.context.file, file);
    if (key) assert.is(err.context.key, key, `context.key of ${JSON.stringify(err.message)}`);
    return err;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(raw)}, nothing thrown`);
}

test('the fixture config parses to cases.json "config"', () => {
  const want: T5Config = JSON.parse(readFileSync(join(TINY, 'cases.json'), 'utf8')).config;
  assert.equal(parseT5Config(fixtureConfig(), 'config.json'), want);
  assert.equal(want, {
    d_model: 64, d_ff: 192, d_kv: 32, num_heads: 4, num_layers: 3, vocab_size: 128,
    relative_attention_num_buckets: 32, relative_attention_max_distance: 128, layer_norm_epsilon: 1e-6,
  });
});

test('PROT_T5_XL has ProtT5-XL-UniRef50 encoder numbers', () => {
  assert.equal(PROT_T5_XL, {
    d_model: 1024,
    d_ff: 16384,
    d_kv: 128,
    num_heads: 32,
    num_layers: 24,
    vocab_size: 128,
    relative_attention_num_buckets: 32,
    relative_attention_max_distance: 128,
    layer_norm_epsilon: 1e-6,
  });
});

test("Rostlab's prot_t5_xl_uniref50 config.json (no max_distance, no feed_forward_proj) parses to PROT_T5_XL", () => {
  const rostlab = {
    architectures: ['T5WithLMHeadModel'],
    d_ff: 16384,
    d_kv: 128,
    d_model: 1024,
    decoder_start_token_id: 0,
    dropout_rate: 0.1,
    eos_token_id: 1,
    initializer_factor: 1.0,
    is_encoder_decoder: true,
    layer_norm_epsilon: 1e-6,
    model_type: 't5',
    n_positions: 512,
    num_heads: 32,
    num_layers: 24,
    output_past: true,
    pad_token_id: 0,
    relative_attention_num_buckets: 32,
    vocab_size: 128,
  };
  assert.equal(parseT5Config(rostlab), PROT_T5_XL);
});

test('transformers defaults: buckets 32, distance 128, eps 1e-6, relu, model_type optional', () => {
  const c = fixtureConfig();
  for (const k of ['relative_attention_num_buckets', 'relative_attention_max_distance', 'layer_norm_epsilon', 'feed_forward_proj', 'model_type', 'is_gated_act']) delete c[k];
  const got = parseT5Config(c);
  assert.is(got.relative_attention_num_buckets, 32);
  assert.is(got.relative_attention_max_distance, 128);
  assert.is(got.layer_norm_epsilon, 1e-6);
  // Non-default values are carried through.
  const d = { ...fixtureConfig(), relative_attention_num_buckets: 64, relative_attention_max_distance: 256, layer_norm_epsilon: 1e-5 };
  const g2 = parseT5Config(d);
  assert.is(g2.relative_attention_num_buckets, 64);
  assert.is(g2.relative_attention_max_distance, 256);
  assert.is(g2.layer_norm_epsilon, 1e-5);
  // Unknown keys are ignored; only the encoder numbers come back.
  assert.equal(Object.keys(parseT5Config({ ...fixtureConfig(), something_new: [1, 2] })).sort(), Object.keys(PROT_T5_XL).sort());
});

test('not an object', () => {
  for (const raw of [null, undefined, 42, 'config', [1, 2, 3], true]) rejects(raw, null, 'not a JSON object');
});

test('missing required keys name the key', () => {
  for (const key of ['d_model', 'd_ff', 'd_kv', 'num_heads', 'num_layers', 'vocab_size']) {
    const c = fixtureConfig();
    delete c[key];
    rejects(c, key, 'missing');
    rejects({ ...fixtureConfig(), [key]: null }, key, 'missing');
  }
});

test('non-integer, negative, zero, string and huge values name the key', () => {
  rejects({ ...fixtureConfig(), num_heads: 4.5 }, 'num_heads', '4.5');
  rejects({ ...fixtureConfig(), num_heads: '4' }, 'num_heads', '"4"');
  rejects({ ...fixtureConfig(), d_model: -64 }, 'd_model', '-64');
  rejects({ ...fixtureConfig(), num_layers: 0 }, 'num_layers', '0');
  rejects({ ...fixtureConfig(), d_ff: -1 }, 'd_ff');
  rejects({ ...fixtureConfig(), d_kv: Number.NaN }, 'd_kv');
  rejects({ ...fixtureConfig(), d_kv: [32] }, 'd_kv');
  rejects({ ...fixtureConfig(), vocab_size: 1e12 }, 'vocab_size');
  rejects({ ...fixtureConfig(), relative_attention_max_distance: -128 }, 'relative_attention_max_distance', '-128');
  rejects({ ...fixtureConfig(), relative_attention_num_buckets: 32.5 }, 'relative_attention_num_buckets');
});

test('layer_norm_epsilon must be a small positive number', () => {
  for (const eps of [0, -1e-6, 1, 2, '1e-6', Number.NaN]) rejects({ ...fixtureConfig(), layer_norm_epsilon: eps }, 'layer_norm_epsilon');
});

test('feed-forward variants other than relu are refused', () => {
  rejects({ ...fixtureConfig(), feed_forward_proj: 'gated-silu' }, 'feed_forward_proj', 'gated-silu');
  assert.is(parseT5Config({ ...fixtureConfig(), feed_forward_proj: 'gated-gelu' }).feed_forward_proj, 'gated-gelu');
  rejects({ ...fixtureConfig(), feed_forward_proj: 'gelu' }, 'feed_forward_proj', 'gelu');
  rejects({ ...fixtureConfig(), is_gated_act: true }, 'feed_forward_proj');
});

test('model types other than t5 are refused', () => {
  rejects({ ...fixtureConfig(), model_type: 'bert' }, 'model_type', 'bert');
  rejects({ ...fixtureConfig(), model_type: 'mt5x' }, 'model_type', 'mt5x');
});

test('bucket configuration: odd count, too few buckets, max_distance within the exact buckets', () => {
  rejects({ ...fixtureConfig(), relative_attention_num_buckets: 31 }, 'relative_attention_num_buckets', 'even', '31');
  rejects({ ...fixtureConfig(), relative_attention_num_buckets: 1 }, 'relative_attention_num_buckets');
  // 2 buckets: max_exact = 0, so transformers' formula computes log(0 / 0).
  rejects({ ...fixtureConfig(), relative_attention_num_buckets: 2 }, 'relative_attention_num_buckets');
  // max_exact = 32 / 4 = 8: a max_distance of 8 or less leaves no log-spaced range.
  rejects({ ...fixtureConfig(), relative_attention_max_distance: 8 }, 'relative_attention_max_distance', '8');
  rejects({ ...fixtureConfig(), relative_attention_max_distance: 3 }, 'relative_attention_max_distance');
  assert.is(parseT5Config({ ...fixtureConfig(), relative_attention_max_distance: 9 }).relative_attention_max_distance, 9);
  assert.is(parseT5Config({ ...fixtureConfig(), relative_attention_num_buckets: 4, relative_attention_max_distance: 2 }).relative_attention_num_buckets, 4);
});

test('vocab_size smaller than the ProtT5 vocabulary is refused', () => {
  rejects({ ...fixtureConfig(), vocab_size: 27 }, 'vocab_size', '27');
  assert.is(parseT5Config({ ...fixtureConfig(), vocab_size: 28 }).vocab_size, 28);
});

test('the default file name is config.json', () => {
  try {
    parseT5Config({});
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, ConfigError);
    assert.match((e as Error).message, /^config\.json: "d_model" is missing/);
  }
});

test.run();

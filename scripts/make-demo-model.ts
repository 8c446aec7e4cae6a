// Writes examples/demo-model: a small T5 encoder with RANDOM weights in the exact ProtT5
// layout (Hugging Face names, F16 like Rostlab/prot_t5_xl_half_uniref50-enc). It exercises
// the whole pipeline in the quick start; its embeddings mean nothing biologically.
// Run: node scripts/build.mjs && node build/scripts/make-demo-model.js
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encoderTensorShapes } from '../src/models/t5/schema.js';
import { encodeSafetensors } from '../weights/safetensors.js';
import { fromFloat32 } from '../src/gpu/dtype.js';
import type { T5Config } from '../src/models/t5/config.js';

const config: T5Config = {
  d_model: 128,
  d_ff: 512,
  d_kv: 32,
  num_heads: 4,
  num_layers: 2,
  vocab_size: 128,
  relative_attention_num_buckets: 32,
  relative_attention_max_distance: 128,
  layer_norm_epsilon: 1e-6,
};

let seed = 20260101;
function uniform(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
}

const dir = join('examples', 'demo-model');
mkdirSync(dir, { recursive: true });
const tensors = [...encoderTensorShapes(config)].map(([name, shape]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  const isNorm = name.endsWith('layer_norm.weight');
  // T5-like scales: unit norms, fan-in scaled projections.
  const scale = isNorm ? 0 : name === 'shared.weight' ? 1 : name.includes('relative_attention_bias') ? 0.5 : 1 / Math.sqrt(shape[1]);
  for (let i = 0; i < n; i++) v[i] = isNorm ? 1 : (uniform() * 2 - 1) * scale * Math.sqrt(3);
  return { name, dtype: 'F16' as const, shape, data: fromFloat32('F16', v) };
});
writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors, { format: 'pt', note: 'RANDOM WEIGHTS: a demo model in the ProtT5 layout, not ProtT5' }));
writeFileSync(
  join(dir, 'config.json'),
  JSON.stringify(
    {
      _comment: 'DEMO MODEL WITH RANDOM WEIGHTS in the ProtT5 (T5 encoder) layout, for the quick start and tests. Its embeddings are meaningless. Real model: Rostlab/prot_t5_xl_half_uniref50-enc.',
      prott5_webgpu_demo: true,
      architectures: ['T5EncoderModel'],
      model_type: 't5',
      ...config,
      feed_forward_proj: 'relu',
      is_encoder_decoder: false,
    },
    null,
    2,
  ) + '\n',
);
// The tokenizer files Rostlab's repository has beside spiece.model (T5's 100 extra ids; no added
// tokens), so that a browser loading the folder finds every file it asks for (no 404 logged).
writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ extra_ids: 100, eos_token: '</s>', unk_token: '<unk>', pad_token: '<pad>', do_lower_case: false }, null, 2) + '\n');
writeFileSync(join(dir, 'added_tokens.json'), '{}\n');
console.log(`wrote ${dir}`);

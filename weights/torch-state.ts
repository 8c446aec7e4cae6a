// The state dict inside a torch.save checkpoint, whatever holds it: a bare state dict, a dict
// with one under a known key ({'state_dict': ...} as bio_embeddings, SETH, VESPA and ProstT5
// publish, {'model': ...} as TMbed does), or a pickled whole module (bindPredict), whose
// `_parameters`, `_buffers` and `_modules` are walked into the names torch's state_dict() gives.
import { WeightsError } from '../src/errors.js';
import { isPickleObject, isTorchTensor, type PickleKey, type PickleObject, type PickleValue, type TorchTensorRef } from './pickle.js';
import type { TorchCheckpoint } from './pytorch.js';

/** Keys under which published checkpoints keep their state dict, tried in this order. */
export const STATE_DICT_KEYS = ['state_dict', 'model', 'model_state_dict'] as const;

/** name → tensor reference, in the file's order. */
export type StateDict = Map<string, TorchTensorRef>;

const isStateDict = (v: PickleValue): v is Map<PickleKey, PickleValue> =>
  v instanceof Map && v.size > 0 && [...v].every(([k, t]) => typeof k === 'string' && isTorchTensor(t));

/** The state dict of a checkpoint (see the file comment); a WeightsError naming the file when there is none. */
export function stateDictOf(ckpt: TorchCheckpoint, keys: readonly string[] = STATE_DICT_KEYS): StateDict {
  const file = ckpt.source.name;
  const root = ckpt.root;
  if (isPickleObject(root)) return moduleState(root, file);
  if (isStateDict(root)) return root as StateDict;
  if (root instanceof Map) {
    for (const k of keys) {
      const v = root.get(k);
      if (v !== undefined && isStateDict(v)) return v as StateDict;
      if (v !== undefined && isPickleObject(v)) return moduleState(v, file);
    }
    const have = [...root.keys()].map(String).slice(0, 12).join(', ');
    throw new WeightsError(`${file}: no state dict in the checkpoint (looked for a dict of tensors at the top or under ${keys.join(', ')}; it has ${have || 'no keys'})`, { file });
  }
  throw new WeightsError(`${file}: the checkpoint holds neither a state dict nor a dict holding one`, { file });
}

/** A pickled module's tensors under the names state_dict() gives them (`conv1.0.weight`). */
function moduleState(root: PickleObject, file: string): StateDict {
  const out: StateDict = new Map();
  const walk = (m: PickleObject, prefix: string, depth: number): void => {
    if (depth > 32) throw new WeightsError(`${file}: modules nested deeper than 32 levels`, { file });
    if (!m.state) throw new WeightsError(`${file}: module ${prefix || '(root)'} (${m.cls}) has no state`, { file });
    const dict = (key: string): Map<PickleKey, PickleValue> => {
      const v = m.state!.get(key);
      if (v === undefined) return new Map();
      if (!(v instanceof Map)) throw new WeightsError(`${file}: module ${prefix || '(root)'} (${m.cls}): ${key} is not a dict`, { file });
      return v;
    };
    for (const key of ['_parameters', '_buffers']) {
      for (const [name, t] of dict(key)) {
        if (t === null) continue; // e.g. a bias=False parameter
        if (typeof name !== 'string' || !isTorchTensor(t)) throw new WeightsError(`${file}: module ${prefix || '(root)'}: ${key}[${String(name)}] is not a tensor`, { file });
        out.set(prefix + name, t);
      }
    }
    for (const [name, sub] of dict('_modules')) {
      if (sub === null) continue;
      if (typeof name !== 'string' || !isPickleObject(sub)) throw new WeightsError(`${file}: module ${prefix || '(root)'}: _modules[${String(name)}] is not a module`, { file });
      walk(sub, `${prefix}${name}.`, depth + 1);
    }
  };
  walk(root, '', 0);
  return out;
}

// Binds a folder's stored tensors to a family's schema: every tensor the model needs, by its
// canonical name, with the shape the config implies. A missing, surplus, doubled or misshapen
// tensor is a WeightsError that names it; ignored names (a decoder) are never read.
import { WeightsError } from '../errors.js';
import { describeValue } from '../../weights/describe.js';
import type { FolderWeights } from '../../weights/model-folder.js';
import type { TensorEntry } from '../../weights/tensor-entry.js';
import type { TensorNames } from './family.js';

const SUPPORTED = 'F32, F16 and BF16 are read';

/** A stored tensor under another name (an alias bound to its canonical name). */
function renamed(t: TensorEntry, name: string): TensorEntry {
  return name === t.name ? t : { ...t, name, read: () => t.read() };
}

/**
 * The tensors of `weights` by canonical name, checked against `shapes`. `what` says what a
 * surplus tensor is not part of ("a T5 encoder with 3 layers"); `folder` names the folder.
 */
export function bindTensors(
  weights: Pick<FolderWeights, 'tensors' | 'unsupported'>, names: TensorNames, shapes: ReadonlyMap<string, readonly number[]>, what: string, folder: string,
): Map<string, TensorEntry> {
  const stored = new Set(weights.tensors.map((t) => t.name));
  const out = new Map<string, TensorEntry>();
  for (const t of weights.tensors) {
    let name = t.name;
    const canonical = names.aliases[name];
    if (canonical !== undefined) {
      if (stored.has(canonical)) continue; // a tied copy of a tensor that is there under its own name
      name = canonical;
    }
    if (names.ignore.test(name)) continue;
    const shape = shapes.get(name);
    if (!shape) throw new WeightsError(`${t.file}: unexpected tensor "${t.name}" ${describeValue(t.shape, 200)}: not part of ${what}`, { file: t.file, tensor: t.name });
    if (out.has(name)) throw new WeightsError(`${t.file}: tensor "${t.name}" appears twice`, { file: t.file, tensor: t.name });
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new WeightsError(`${t.file}: tensor "${t.name}" has shape ${describeValue(t.shape, 200)}, config.json implies ${describeValue(shape)}`, { file: t.file, tensor: t.name });
    }
    out.set(name, renamed(t, name));
  }
  for (const name of shapes.keys()) {
    if (out.has(name)) continue;
    const alts = Object.keys(names.aliases).filter((a) => names.aliases[a] === name);
    const alt = alts.length ? ` (or ${alts.join(', ')})` : '';
    const dtype = weights.unsupported.get(name) ?? alts.map((a) => weights.unsupported.get(a)).find(Boolean);
    const why = dtype ? ` (present with unsupported dtype ${dtype}; ${SUPPORTED})` : '';
    throw new WeightsError(`${folder}: tensor "${name}"${alt} is missing${why}`, { tensor: name });
  }
  return out;
}

/** With no config to check against: the stored tensors `names.keep` selects, aliases bound. */
export function selectByName(tensors: readonly TensorEntry[], names: TensorNames): TensorEntry[] {
  const stored = new Set(tensors.map((t) => t.name));
  const out: TensorEntry[] = [];
  for (const t of tensors) {
    const canonical = names.aliases[t.name];
    if (canonical !== undefined) {
      if (!stored.has(canonical)) out.push(renamed(t, canonical));
    } else if (names.keep.test(t.name) && !names.ignore.test(t.name)) out.push(t);
  }
  return out;
}

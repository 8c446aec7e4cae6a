// What a predicting head produces beyond its tensors: per output, the class labels and how the
// probabilities read back become a prediction (a string with one letter per residue, or a
// class per protein). The CLI's `predict` writers and `model.predict()` read these.
import type { HeadSpec, OutputKind } from './head.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import type { BatchRows } from './head.js';

export interface HeadOutput {
  /** Name in files: `/<head>/<name>/<id>` in HDF5, the FASTA file's suffix. */
  readonly name: string;
  /** The registered output kind holding its probabilities ([L, C] per residue, [C] per protein). */
  readonly kind: OutputKind;
  /** Class names in column order (the HDF5 attribute `labels`). */
  readonly labels: readonly string[];
  /** The prediction from the probabilities read back: one letter per residue, or the class name. */
  decode(probs: Float32Array, length: number): string;
  /**
   * Kinds read back with it (API only, not in files): an ensemble's members' logits, for
   * upstream text formats that round each member (bindPredict's `.bindPredict_out`).
   */
  readonly members?: readonly OutputKind[];
}

export interface PredictingHeadSpec extends HeadSpec {
  readonly predictions: readonly HeadOutput[];
  /** Checkpoint file names as published, for recognising a folder (`prott5 predict --heads`). */
  readonly files: readonly string[];
  /** Where the checkpoints are published and what the head predicts (README, help). */
  readonly published: string;
}

export const isPredicting = (h: HeadSpec): h is PredictingHeadSpec => Array.isArray((h as PredictingHeadSpec).predictions);

/** Index of the largest value of row `r` of `[*, C]` (the first on ties, as torch.argmax). */
export function argmaxRow(p: ArrayLike<number>, r: number, C: number): number {
  let best = 0;
  for (let c = 1; c < C; c++) if (p[r * C + c] > p[r * C + best]) best = c;
  return best;
}

/** One letter per residue: the label of each row's argmax. */
export const argmaxLetters = (labels: readonly string[]) => (probs: Float32Array, length: number): string => {
  let s = '';
  for (let r = 0; r < length; r++) s += labels[argmaxRow(probs, r, labels.length)];
  return s;
};

/** The label of a per-protein vector's argmax. */
export const argmaxClass = (labels: readonly string[]) => (probs: Float32Array): string => labels[argmaxRow(probs, 0, labels.length)];

/** A head's output kind: key `<head>.<name>`, HDF5 group `<head>_<name>` in embed files. */
export function headKind(head: string, name: string, per: 'residue' | 'protein', width: number, description: string): OutputKind {
  return { key: `${head}.${name}`, group: `${head}_${name}`, per, width: () => width, dtype: 'f32', source: head, cli: true, description };
}

/** Temporary GPU tensors of one head run; outputs are kept, the rest released at the end. */
export class RunScope {
  private readonly temps: Tensor[] = [];
  constructor(readonly rt: Runtime) {}

  empty(shape: readonly number[], label: string): Tensor {
    const t = this.rt.empty(shape, 'f32', label);
    this.temps.push(t);
    return t;
  }

  u32(values: ArrayLike<number>, label: string): Tensor {
    const t = this.rt.upload(Uint32Array.from(values), [values.length], 'u32', label);
    this.temps.push(t);
    return t;
  }

  /** Keeps `t` past release() (it is returned to the caller). */
  keep(t: Tensor): Tensor {
    const i = this.temps.indexOf(t);
    if (i >= 0) this.temps.splice(i, 1);
    return t;
  }

  release(): void {
    for (const t of this.temps) t.release();
    this.temps.length = 0;
  }
}

/** Runs `fn` in a scope: on success the tensors of the map it returns are kept; on failure all are released. */
export async function scoped(rt: Runtime, fn: (s: RunScope) => Promise<Map<string, Tensor>>): Promise<Map<string, Tensor>> {
  const s = new RunScope(rt);
  try {
    const out = await fn(s);
    for (const t of out.values()) s.keep(t);
    return out;
  } finally {
    s.release();
  }
}

/** Row ranges of a batch's residues, on the GPU: start and count per sequence. */
export function residueRows(s: RunScope, rows: BatchRows): { start: Tensor; count: Tensor } {
  return { start: s.u32(rows.residueStart, 'residue_start'), count: s.u32(rows.residueCount, 'residue_count') };
}

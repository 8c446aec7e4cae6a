// A head's checkpoint file: its state dict (whatever container holds it), tensors taken by name
// with the shape the head declares. Dims are named ('E', 'C') and bound by the first tensor that
// has them, so every size comes from the weights; a tensor that does not fit is a WeightsError
// naming it, the shape it has and the shape the head needs.
import { WeightsError } from '../errors.js';
import { toFloat32 } from '../gpu/dtype.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { readTorchCheckpoint } from '../../weights/pytorch.js';
import { stateDictOf, type StateDict } from '../../weights/torch-state.js';
import type { ModelFiles } from '../../weights/source.js';
import type { TorchCheckpoint } from '../../weights/pytorch.js';

export type DimSpec = number | string;

export class HeadCheckpoint {
  /** Named dims bound so far (from the weight shapes). */
  readonly dims: Record<string, number> = {};

  private constructor(
    readonly head: string,
    readonly file: string,
    private readonly ckpt: TorchCheckpoint,
    private readonly state: StateDict,
  ) {}

  /**
   * Opens `file` in the head's folder. `modules`: the file may be a pickled whole module, read
   * with exactly the allow-listed globals (weights/pickle.ts MODULE_GLOBALS).
   */
  static async open(head: string, files: ModelFiles | undefined, file: string, options: { modules?: boolean } = {}): Promise<HeadCheckpoint> {
    const src = await files?.open(file);
    if (!src) throw new WeightsError(`the ${head} head needs ${file}${files ? ` in ${files.name}` : ' (no folder was given)'}`, { head, file });
    try {
      const ckpt = await readTorchCheckpoint(src, options);
      const hc = new HeadCheckpoint(head, src.name, ckpt, stateDictOf(ckpt));
      // Read everything now: the source is closed when open() returns.
      hc.values = new Map();
      for (const [name, ref] of hc.state) {
        if (ref.storage.dtype === null) continue; // int64 counters (num_batches_tracked, channels): not weights
        const e = ckpt.entry(name, ref);
        hc.values.set(name, { shape: [...e.shape], data: toFloat32(e.dtype, await e.read()) });
      }
      return hc;
    } finally {
      await src.close?.();
    }
  }

  private values = new Map<string, { shape: number[]; data: Float32Array }>();

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** The tensor's shape as stored, or a WeightsError naming it if the file lacks it. */
  shape(name: string): number[] {
    const v = this.values.get(name);
    if (!v) throw this.missing(name);
    return v.shape;
  }

  /** The tensor as float32, after checking its shape against `spec` (binding named dims). */
  take(name: string, spec: readonly DimSpec[]): Float32Array {
    const v = this.values.get(name);
    if (!v) throw this.missing(name);
    const want = () => `[${spec.map((d) => (typeof d === 'number' ? d : this.dims[d] !== undefined ? `${d}=${this.dims[d]}` : d)).join(', ')}]`;
    const bad = (): never => {
      throw new WeightsError(`${this.file}: tensor "${name}" is [${v.shape.join(', ')}], but the ${this.head} head needs ${want()}`, { file: this.file, tensor: name, head: this.head });
    };
    if (v.shape.length !== spec.length) bad();
    const bound: string[] = [];
    spec.forEach((d, i) => {
      if (typeof d === 'number') { if (v.shape[i] !== d) bad(); return; }
      if (this.dims[d] === undefined) { this.dims[d] = v.shape[i]; bound.push(d); }
      else if (this.dims[d] !== v.shape[i]) bad();
    });
    for (const d of bound) if (this.dims[d] < 1) bad();
    return v.data;
  }

  /** A dim bound earlier (a bug in the head if it is not). */
  dim(name: string): number {
    const d = this.dims[name];
    if (d === undefined) throw new Error(`${this.head}: dim ${name} is not bound yet`);
    return d;
  }

  /** The input width must be the encoder's hidden size: a WeightsError naming the tensor if not. */
  expectInput(name: string, dim: string, hiddenSize: number): void {
    if (this.dim(dim) !== hiddenSize) {
      throw new WeightsError(`${this.file}: tensor "${name}" takes ${this.dim(dim)} input channels, but the embeddings have ${hiddenSize} (a head for another model?)`, { file: this.file, tensor: name, head: this.head });
    }
  }

  private missing(name: string): WeightsError {
    const have = [...this.state.keys()].slice(0, 12).join(', ');
    return new WeightsError(`${this.file}: the ${this.head} head needs tensor "${name}", which the checkpoint lacks (it has ${have})`, { file: this.file, tensor: name, head: this.head });
  }
}

/** GPU weights a head owns, freed together. */
export class HeadTensors {
  private readonly all: Tensor[] = [];
  constructor(private readonly rt: Runtime, private readonly prefix: string) {}

  f32(data: Float32Array, shape: readonly number[], label: string): Tensor {
    const t = this.rt.upload(data, shape, 'f32', `${this.prefix}.${label}`);
    this.all.push(t);
    return t;
  }

  dispose(): void {
    for (const t of this.all) t.release();
    this.all.length = 0;
  }
}

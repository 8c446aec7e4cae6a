// The public embed API: sequences in, named outputs out, in input order. One batch runs the
// encoder, then the heads asked for, on the GPU; only the outputs asked for are read back.
import { OutOfMemoryError, UsageError } from '../errors.js';
import { meanpool } from '../../kernels/meanpool.js';
import { Autotuner, type TuneStore } from '../gpu/tuner.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Checkpoint, Encoder, Family, LoadProgress, NonFiniteWeights, SequenceTokenizer, Tokenized } from '../models/family.js';
import type { BatchRows, Head } from '../heads/head.js';
import { headSpec } from '../heads/registry.js';
import type { ModelFiles } from '../../weights/source.js';
import { PROTTRANS_LIMITS, planBatches, type BatchLimits } from './batching.js';
import { LAST_HIDDEN_STATE, orderKinds, outputKind, PER_PROTEIN, PER_RESIDUE, type OutputKind } from './outputs.js';
import { predictingHead, predictionKeys, toPrediction, type Prediction } from './predict.js';

export interface EmbedOptions extends Partial<BatchLimits> {
  /** [L, hidden] per sequence: one row per residue (special tokens dropped). Default false. */
  perResidue?: boolean;
  /** [hidden] per sequence: the mean of the residue rows. Default true unless `outputs` is given. */
  perProtein?: boolean;
  /** [tokens, hidden] per sequence: last_hidden_state including the special tokens' rows. Default false. */
  lastHiddenState?: boolean;
  /** More outputs by key (src/embed/outputs.ts): a loaded head's, or the three above. */
  outputs?: readonly string[];
  /** Called after each batch with the number of sequences and residues finished. */
  onProgress?: (p: EmbedProgress) => void;
  /**
   * Stops the call: between batches, and inside a batch at the next layer (the batch then
   * waits for the GPU after each layer). Rejects with the signal's reason (an AbortError).
   */
  signal?: AbortSignal;
  /** Called after each layer of a batch (the batch then waits for the GPU after each layer). */
  onLayer?: (p: { layer: number; layers: number; sequences: number }) => void;
}

export interface EmbedProgress {
  sequences: number;
  totalSequences: number;
  residues: number;
  totalResidues: number;
}

export interface EmbeddingTensor {
  data: Float32Array;
  shape: number[];
}

export interface Embedding {
  /** Index of the sequence in the input. */
  index: number;
  /** Its id when the input gave one. */
  id?: string;
  /** Residues (tokens without the special ones). */
  length: number;
  /** Every output asked for, by kind key ('perResidue', 'perProtein', a head's). */
  outputs: Record<string, EmbeddingTensor>;
  perResidue?: EmbeddingTensor;
  perProtein?: EmbeddingTensor;
  lastHiddenState?: EmbeddingTensor;
}

export type SequenceInput = string | { id: string; sequence: string };

export interface LoadOptions {
  onProgress?: (p: LoadProgress) => void;
  /**
   * Pick kernel variants by measurement on this adapter (cached per adapter in `tuneStore`),
   * or use the defaults (false). Default true.
   */
  autotune?: boolean;
  tuneStore?: TuneStore;
  /**
   * Weights holding NaN or ±Inf (a corrupt or badly converted file) can make embeddings NaN.
   * Each such tensor is reported by name as it is loaded: with `strict`, as a WeightsError that
   * stops the load; otherwise through `onWarning` (default console.warn) and the load goes on.
   */
  strict?: boolean;
  onWarning?: (message: string, detail: NonFiniteWeights) => void;
}

/** A folder that has no files: for checkpoints made in memory (benches), whose family tokenizer falls back to its default. */
const NO_FILES: ModelFiles = { name: '(in memory)', open: async () => null };

export class EmbeddingModel {
  private busy: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private running = 0;
  /** embed() / embedBatches() calls started and not finished (waiting for the GPU included). */
  private active = 0;
  private readonly heads = new Map<string, Head>();
  /** Batches split in two because they did not fit the device (for tests and logs). */
  splits = 0;

  private constructor(
    readonly family: Family<unknown>,
    readonly config: unknown,
    readonly encoder: Encoder,
    readonly tokenizer: SequenceTokenizer,
    private readonly ownsRuntime: boolean,
  ) {}

  /** Loads the checkpoint's weights onto `rt` (and closes the checkpoint); `files` is its folder, for the tokenizer. */
  static async fromCheckpoint(rt: Runtime, ckpt: Checkpoint<unknown>, ownsRuntime: boolean, options: LoadOptions = {}, files: ModelFiles = NO_FILES): Promise<EmbeddingModel> {
    try {
      const tokenizer = await ckpt.family.tokenizer(files, ckpt.config);
      if (tokenizer.padSide !== 'right') throw new UsageError(`${ckpt.family.name}: left padding is not supported by the batching yet`);
      const tuner = options.autotune === false ? undefined : new Autotuner(rt, options.tuneStore);
      const checks = { strict: options.strict ?? false, onWarning: options.onWarning ?? ((message: string) => console.warn(message)) };
      const encoder = await ckpt.family.load(rt, ckpt, { onProgress: options.onProgress, tuner, checks });
      return new EmbeddingModel(ckpt.family, ckpt.config, encoder, tokenizer, ownsRuntime);
    } finally {
      await ckpt.close();
    }
  }

  get runtime(): Runtime {
    return this.encoder.rt;
  }

  /** Width of the hidden state (d_model). */
  get hiddenSize(): number {
    return this.encoder.hiddenSize;
  }

  /** "3 layers, d_model 64, ...": the family's one-line summary of this model. */
  get summary(): string {
    return `${this.family.name}: ${this.family.summary(this.config)}`;
  }

  /** Loads a registered prediction head (src/heads/registry.ts) onto this model's device; its outputs can then be asked for. */
  async addHead(name: string, files?: ModelFiles): Promise<Head> {
    if (this.disposed) throw new UsageError('addHead() called on a disposed model');
    const spec = headSpec(name);
    const head = await spec.load(this.runtime, { hiddenSize: this.hiddenSize, files });
    this.heads.get(name)?.dispose();
    this.heads.set(name, head);
    return head;
  }

  /**
   * Runs loaded heads (`heads`: their names; default every loaded head) on the sequences and
   * returns their predictions in input order: per head and output, the labels, the
   * probabilities read back and the decoded prediction (src/embed/predict.ts).
   */
  async predict(sequences: readonly SequenceInput[], options: Omit<EmbedOptions, 'outputs' | 'perResidue' | 'perProtein' | 'lastHiddenState'> & { heads?: readonly string[] } = {}): Promise<Prediction[]> {
    const names = options.heads ?? [...this.heads.keys()];
    if (names.length === 0) throw new UsageError('predict(): no head is loaded (model.addHead(name, files))');
    const specs = names.map((n) => {
      if (!this.heads.has(n)) throw new UsageError(`predict(): the head "${n}" is not loaded (model.addHead("${n}", files))`, { head: n });
      return predictingHead(n);
    });
    const { heads: _heads, ...embedOptions } = options;
    const embs = await this.embed(sequences, { ...embedOptions, outputs: predictionKeys(specs) });
    return embs.map((e) => toPrediction(e, specs));
  }

  /** Embeds sequences; results are in input order. Calls on one model run one after another. */
  async embed(sequences: readonly SequenceInput[], options: EmbedOptions = {}): Promise<Embedding[]> {
    const out: Embedding[] = new Array(sequences.length);
    for await (const batch of this.embedBatches(sequences, options)) for (const e of batch) out[e.index] = e;
    return out;
  }

  /**
   * Embeds batch by batch, yielding each batch's results as soon as they are read back
   * (longest sequences first). For writers that stream results to disk. Until the generator
   * finishes or is closed (return(), as `break` in a for-await loop does) it counts as a
   * running embed for dispose().
   */
  async *embedBatches(sequences: readonly SequenceInput[], options: EmbedOptions = {}): AsyncGenerator<Embedding[]> {
    if (this.disposed) throw new UsageError('embed() called on a disposed model');
    this.active++;
    try {
      yield* this.batches(sequences, options);
    } finally {
      this.active--;
    }
  }

  /** The output kinds an embed call asks for, each checked to be producible by this model. */
  private wanted(options: EmbedOptions): OutputKind[] {
    const keys: string[] = [...(options.outputs ?? [])];
    if (options.perResidue) keys.push(PER_RESIDUE.key);
    if (options.perProtein ?? options.outputs === undefined) keys.push(PER_PROTEIN.key);
    if (options.lastHiddenState) keys.push(LAST_HIDDEN_STATE.key);
    if (keys.length === 0) throw new UsageError('embed(): ask for at least one output (perResidue, perProtein, lastHiddenState, or outputs)');
    return orderKinds(keys).map((key) => {
      const kind = outputKind(key);
      if (!kind) throw new UsageError(`embed(): no output kind "${key}"`, { output: key });
      if (kind.source !== 'encoder' && !this.heads.has(kind.source)) {
        throw new UsageError(`embed(): output "${key}" comes from the head "${kind.source}", which is not loaded (model.addHead("${kind.source}"))`, { output: key });
      }
      return kind;
    });
  }

  private async *batches(sequences: readonly SequenceInput[], options: EmbedOptions): AsyncGenerator<Embedding[]> {
    const kinds = this.wanted(options);
    const limits: BatchLimits = {
      maxResidues: options.maxResidues ?? PROTTRANS_LIMITS.maxResidues,
      maxSeqLen: options.maxSeqLen ?? PROTTRANS_LIMITS.maxSeqLen,
      maxBatch: options.maxBatch ?? PROTTRANS_LIMITS.maxBatch,
    };
    for (const [k, v] of Object.entries(limits)) {
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`embed(): ${k} must be a positive integer, got ${v}`);
    }
    // Tokenise everything first: a bad letter anywhere fails before any GPU work.
    const toks = sequences.map((s, i) => (typeof s === 'string' ? this.tokenizer.encode(s, `sequence ${i}`) : this.tokenizer.encode(s.sequence, s.id)));
    const idOf = (i: number) => (typeof sequences[i] === 'string' ? undefined : (sequences[i] as { id: string }).id);
    const batches = planBatches(toks.map((t) => t.residueCount), limits);
    const totalResidues = toks.reduce((a, t) => a + t.residueCount, 0);
    let doneSeqs = 0, doneRes = 0;
    const steps = options.signal || options.onLayer ? { signal: options.signal, onLayer: options.onLayer } : undefined;
    for (const batch of batches) {
      options.signal?.throwIfAborted();
      const results = await this.exclusive(() => this.runSplitting(batch, toks, kinds, steps));
      for (const r of results) r.id = idOf(r.index);
      doneSeqs += batch.length;
      doneRes += results.reduce((a, r) => a + r.length, 0);
      options.onProgress?.({ sequences: doneSeqs, totalSequences: sequences.length, residues: doneRes, totalResidues });
      yield results;
    }
  }

  /** Runs `fn` after every earlier call on this model has finished (one GPU pipeline, no interleaving). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(() => {
      if (this.disposed) throw new UsageError('the model was disposed while an embed() call was waiting');
      this.running++;
      return fn().finally(() => this.running--);
    });
    this.busy = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs a batch; one that needs a buffer over the device's limits runs as two halves instead
   * (recursively), so a too-large max_residues/max_batch slows the run down rather than failing
   * it. A single sequence that does not fit still fails with the OutOfMemoryError naming the limit.
   */
  private async runSplitting(batch: number[], toks: Tokenized[], kinds: OutputKind[], steps?: Pick<EmbedOptions, 'signal' | 'onLayer'>): Promise<Embedding[]> {
    try {
      return await this.runBatch(batch, toks, kinds, steps);
    } catch (e) {
      if (!(e instanceof OutOfMemoryError) || batch.length === 1) throw e;
      this.splits++;
      const half = Math.ceil(batch.length / 2);
      return [...(await this.runSplitting(batch.slice(0, half), toks, kinds, steps)), ...(await this.runSplitting(batch.slice(half), toks, kinds, steps))];
    }
  }

  /** Encoder, then heads, on the GPU; then the outputs asked for are read back and cut per sequence. */
  private async runBatch(batch: number[], toks: Tokenized[], kinds: OutputKind[], steps?: Pick<EmbedOptions, 'signal' | 'onLayer'>): Promise<Embedding[]> {
    const rt = this.runtime;
    const B = batch.length;
    const L = Math.max(...batch.map((i) => toks[i].ids.length));
    const D = this.hiddenSize;
    const flat = new Uint32Array(B * L).fill(this.tokenizer.padId); // right padding
    const rows: BatchRows = { B, L, tokens: new Uint32Array(B), residueStart: new Uint32Array(B), residueCount: new Uint32Array(B) };
    batch.forEach((i, b) => {
      flat.set(toks[i].ids, b * L);
      rows.tokens[b] = toks[i].ids.length;
      rows.residueStart[b] = toks[i].residueStart;
      rows.residueCount[b] = toks[i].residueCount;
    });
    const gpu = new Map<string, Tensor>(); // outputs on the GPU by kind key, [B, L, w] or [B, w]
    const read = new Map<string, Float32Array>();
    const onLayer = steps?.onLayer;
    const forwardSteps = steps && { signal: steps.signal, onLayer: onLayer && ((layer: number, layers: number) => onLayer({ layer, layers, sequences: B })) };
    const hidden = await this.encoder.forward(flat, rows.tokens, B, L, forwardSteps); // [B, L, hidden]
    try {
      if (kinds.includes(PER_PROTEIN)) gpu.set(PER_PROTEIN.key, await this.meanPool(hidden, rows)); // [B, hidden]
      for (const name of new Set(kinds.map((k) => k.source).filter((s) => s !== 'encoder'))) {
        const produced = await this.heads.get(name)!.run(hidden, rows);
        for (const [key, t] of produced) {
          if (kinds.some((k) => k.key === key)) gpu.set(key, t);
          else t.release();
        }
      }
      for (const k of kinds) {
        if (k.source === 'encoder' && k !== PER_PROTEIN) continue;
        const t = gpu.get(k.key);
        if (!t) throw new UsageError(`head "${k.source}" did not produce its output "${k.key}"`, { output: k.key });
        read.set(k.key, await rt.read(t));
      }
      if (kinds.includes(PER_RESIDUE) || kinds.includes(LAST_HIDDEN_STATE)) read.set('hidden', await rt.read(hidden));
      else rt.flush();
    } finally {
      hidden.release();
      for (const t of gpu.values()) t.release();
    }
    return batch.map((i, b) => {
      const n = rows.tokens[b], r0 = rows.residueStart[b], nr = rows.residueCount[b];
      const e: Embedding = { index: i, length: nr, outputs: {} };
      for (const k of kinds) {
        const w = k.width(D);
        let t: EmbeddingTensor;
        if (k.per === 'protein') t = { data: read.get(k.key)!.slice(b * w, (b + 1) * w), shape: [w] };
        else {
          const src = k.source === 'encoder' ? read.get('hidden')! : read.get(k.key)!;
          const [start, count] = k.per === 'residue' ? [r0, nr] : [0, n];
          t = { data: src.slice((b * L + start) * w, (b * L + start + count) * w), shape: [count, w] };
        }
        e.outputs[k.key] = t;
      }
      // The encoder's kinds also under their own field names (the same objects).
      for (const k of [PER_RESIDUE, PER_PROTEIN, LAST_HIDDEN_STATE]) if (e.outputs[k.key]) e[k.key as 'perResidue' | 'perProtein' | 'lastHiddenState'] = e.outputs[k.key];
      return e;
    });
  }

  /** Per-protein means [B, hidden] of each sequence's residue rows of hidden [B, L, hidden]. */
  private async meanPool(hidden: Tensor, rows: BatchRows): Promise<Tensor> {
    const rt = this.runtime;
    const starts = rt.upload(rows.residueStart, [rows.B], 'u32', 'residue_start');
    const counts = rt.upload(rows.residueCount, [rows.B], 'u32', 'residue_count');
    const out = rt.empty([rows.B, this.hiddenSize], 'f32', 'per_protein');
    try {
      await meanpool(rt, hidden, starts, counts, out);
    } catch (e) {
      out.release();
      throw e;
    } finally {
      starts.release();
      counts.release();
    }
    return out;
  }

  /**
   * Frees the weights and heads (and the device if the model created it). An embed() in flight,
   * or waiting for its turn, makes this a UsageError (the model stays usable and the calls finish).
   */
  dispose(): void {
    if (this.disposed) return;
    if (this.active > 0 || this.running > 0) {
      throw new UsageError(`dispose() called while ${Math.max(this.active, this.running)} embed() call(s) are running; await them first`, { running: Math.max(this.active, this.running) });
    }
    this.disposed = true;
    for (const h of this.heads.values()) h.dispose();
    this.heads.clear();
    this.encoder.dispose();
    if (this.ownsRuntime) this.encoder.rt.destroy();
  }
}

/** The name the library had when it ran ProtT5 only. */
export const ProtT5Model = EmbeddingModel;
export type ProtT5Model = EmbeddingModel;

// The public embed API: sequences in, per-residue and per-protein embeddings out, in input order.
import { OutOfMemoryError, UsageError } from '../errors.js';
import { Autotuner, type TuneStore } from '../gpu/autotune.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Checkpoint } from '../../weights/checkpoint.js';
import { PROTTRANS_LIMITS, planBatches, type BatchLimits } from './batching.js';
import type { T5Config } from '../models/t5/config.js';
import { T5Encoder, type LoadProgress, type NonFiniteWeights } from '../models/t5/encoder.js';
import { tokenize } from '../tokenizers/prott5.js';

export interface EmbedOptions extends Partial<BatchLimits> {
  /** [L, d_model] per sequence: one row per residue (</s> dropped). Default false. */
  perResidue?: boolean;
  /** [d_model] per sequence: the mean of the residue rows. Default true. */
  perProtein?: boolean;
  /** [L + 1, d_model] per sequence: last_hidden_state including the </s> row. Default false. */
  lastHiddenState?: boolean;
  /** Called after each batch with the number of sequences and residues finished. */
  onProgress?: (p: EmbedProgress) => void;
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
  /** Residues (tokens without </s>). */
  length: number;
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

export class ProtT5Model {
  private busy: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private running = 0;
  /** embed() / embedBatches() calls started and not finished (waiting for the GPU included). */
  private active = 0;
  /** Batches split in two because they did not fit the device (for tests and logs). */
  splits = 0;

  private constructor(
    readonly encoder: T5Encoder,
    private readonly ownsRuntime: boolean,
  ) {}

  static async fromCheckpoint(rt: Runtime, ckpt: Checkpoint, ownsRuntime: boolean, options: LoadOptions = {}): Promise<ProtT5Model> {
    try {
      const tuner = options.autotune === false ? undefined : new Autotuner(rt, options.tuneStore);
      const checks = { strict: options.strict ?? false, onWarning: options.onWarning ?? ((message: string) => console.warn(message)) };
      return new ProtT5Model(await T5Encoder.load(rt, ckpt, options.onProgress, tuner, checks), ownsRuntime);
    } finally {
      await ckpt.close();
    }
  }

  get config(): T5Config {
    return this.encoder.config;
  }

  get runtime(): Runtime {
    return this.encoder.rt;
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

  private async *batches(sequences: readonly SequenceInput[], options: EmbedOptions): AsyncGenerator<Embedding[]> {
    const perResidue = options.perResidue ?? false;
    const perProtein = options.perProtein ?? true;
    const lastHidden = options.lastHiddenState ?? false;
    if (!perResidue && !perProtein && !lastHidden) throw new UsageError('embed(): ask for at least one of perResidue, perProtein, lastHiddenState');
    const limits: BatchLimits = {
      maxResidues: options.maxResidues ?? PROTTRANS_LIMITS.maxResidues,
      maxSeqLen: options.maxSeqLen ?? PROTTRANS_LIMITS.maxSeqLen,
      maxBatch: options.maxBatch ?? PROTTRANS_LIMITS.maxBatch,
    };
    for (const [k, v] of Object.entries(limits)) {
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`embed(): ${k} must be a positive integer, got ${v}`);
    }
    // Tokenise everything first: a bad letter anywhere fails before any GPU work.
    const ids = sequences.map((s, i) => (typeof s === 'string' ? tokenize(s, `sequence ${i}`) : tokenize(s.sequence, s.id)));
    const idOf = (i: number) => (typeof sequences[i] === 'string' ? undefined : (sequences[i] as { id: string }).id);
    const batches = planBatches(ids.map((t) => t.length - 1), limits);
    const totalResidues = ids.reduce((a, t) => a + t.length - 1, 0);
    let doneSeqs = 0, doneRes = 0;
    for (const batch of batches) {
      const results = await this.exclusive(() => this.runSplitting(batch, ids, { perResidue, perProtein, lastHidden }));
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
  private async runSplitting(batch: number[], ids: Uint32Array[], want: { perResidue: boolean; perProtein: boolean; lastHidden: boolean }): Promise<Embedding[]> {
    try {
      return await this.runBatch(batch, ids, want);
    } catch (e) {
      if (!(e instanceof OutOfMemoryError) || batch.length === 1) throw e;
      this.splits++;
      const half = Math.ceil(batch.length / 2);
      return [...(await this.runSplitting(batch.slice(0, half), ids, want)), ...(await this.runSplitting(batch.slice(half), ids, want))];
    }
  }

  private async runBatch(
    batch: number[], ids: Uint32Array[], want: { perResidue: boolean; perProtein: boolean; lastHidden: boolean },
  ): Promise<Embedding[]> {
    const enc = this.encoder, rt = enc.rt;
    const B = batch.length;
    const L = Math.max(...batch.map((i) => ids[i].length));
    const D = enc.config.d_model;
    const flat = new Uint32Array(B * L); // padded with <pad> = 0
    const lengths = new Uint32Array(B);
    batch.forEach((i, b) => {
      flat.set(ids[i], b * L);
      lengths[b] = ids[i].length;
    });
    const hidden = await enc.forward(flat, lengths, B, L); // [B, L, d_model]
    let pooled: Float32Array | null = null;
    let rows: Float32Array | null = null;
    try {
      if (want.perProtein) {
        const p = await enc.meanPool(hidden, lengths.map((n) => n - 1)); // [B, d_model]
        try {
          pooled = await rt.read(p);
        } finally {
          p.release();
        }
      }
      if (want.perResidue || want.lastHidden) rows = await rt.read(hidden);
      else rt.flush();
    } finally {
      hidden.release();
    }
    return batch.map((i, b) => {
      const n = lengths[b];
      const e: Embedding = { index: i, length: n - 1 };
      if (rows) {
        const seq = rows.subarray(b * L * D, (b * L + n) * D);
        if (want.lastHidden) e.lastHiddenState = { data: seq.slice(), shape: [n, D] };
        if (want.perResidue) e.perResidue = { data: seq.slice(0, (n - 1) * D), shape: [n - 1, D] };
      }
      if (pooled) e.perProtein = { data: pooled.slice(b * D, (b + 1) * D), shape: [D] };
      return e;
    });
  }

  /**
   * Frees the weights (and the device if the model created it). An embed() in flight, or
   * waiting for its turn, makes this a UsageError (the model stays usable and the calls finish).
   */
  dispose(): void {
    if (this.disposed) return;
    if (this.active > 0 || this.running > 0) {
      throw new UsageError(`dispose() called while ${Math.max(this.active, this.running)} embed() call(s) are running; await them first`, { running: Math.max(this.active, this.running) });
    }
    this.disposed = true;
    this.encoder.dispose();
    if (this.ownsRuntime) this.encoder.rt.destroy();
  }
}

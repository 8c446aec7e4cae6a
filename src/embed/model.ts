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
  /**
   * The kind of input text: 'aa' (amino acids, the default) or, for ProstT5, '3di' (3Di
   * structure states, lower-case letters; prefixed with <fold2AA> instead of <AA2fold>).
   */
  input?: string;
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

/** The option names embed() accepts (an unknown one is a UsageError, not silently ignored). */
const EMBED_OPTION_KEYS = Object.keys({
  perResidue: 1, perProtein: 1, lastHiddenState: 1, outputs: 1, input: 1, onProgress: 1, signal: 1, onLayer: 1, maxResidues: 1, maxSeqLen: 1, maxBatch: 1,
} satisfies Record<keyof EmbedOptions, 1>);

/** A UsageError naming `where` and each key of `options` that is not one of `known` (with the likely intended one). */
export function checkOptionKeys(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new UsageError(`${where}: options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`, { argument: 'options' });
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = known.find((k) => k.toLowerCase() === key.toLowerCase().replace(/[-_]/g, ''));
    throw new UsageError(`${where}: unknown option "${key}"${near ? ` (did you mean "${near}"?)` : `; the options are ${known.join(', ')}`}`, { argument: 'options', option: key });
  }
}

/** Checks embed()'s first argument: an array of strings or { id, sequence } objects. */
function checkSequences(sequences: unknown): asserts sequences is readonly SequenceInput[] {
  if (!Array.isArray(sequences)) {
    const what = typeof sequences === 'string' ? 'a string (wrap one sequence in an array: embed([sequence]))' : sequences === null ? 'null' : typeof sequences;
    throw new UsageError(`embed(): sequences must be an array of strings or { id, sequence } objects, got ${what}`, { argument: 'sequences' });
  }
  sequences.forEach((s: unknown, i) => {
    if (typeof s === 'string') return;
    const o = s as { id?: unknown; sequence?: unknown } | null;
    if (typeof o !== 'object' || o === null || typeof o.sequence !== 'string' || typeof o.id !== 'string') {
      throw new UsageError(`embed(): sequences[${i}] must be a string or an { id: string, sequence: string } object, got ${o === null ? 'null' : typeof o === 'object' ? `an object with ${typeof o.id === 'string' ? '' : 'no string id'}${typeof o.id !== 'string' && typeof o.sequence !== 'string' ? ' and ' : ''}${typeof o.sequence === 'string' ? '' : 'no string sequence'}` : typeof o}`, { argument: 'sequences', index: i });
    }
  });
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

/**
 * The Embedding an embed() call with options `O` gives: each output `O` asks for by a literal
 * (`{ perResidue: true }`, `outputs: ['secstruct']`) is a present field, not an optional one.
 * perProtein is present by default (no `perProtein` and no `outputs` key). With options of the
 * plain EmbedOptions type, the fields stay optional.
 */
export type EmbeddingFor<O> = Embedding &
  (O extends { perResidue: true } ? { perResidue: EmbeddingTensor } : unknown) &
  (O extends { lastHiddenState: true } ? { lastHiddenState: EmbeddingTensor } : unknown) &
  (O extends { perProtein: true } ? { perProtein: EmbeddingTensor } : 'perProtein' extends keyof O ? unknown : 'outputs' extends keyof O ? unknown : { perProtein: EmbeddingTensor }) &
  (O extends { outputs: readonly (infer K extends string)[] } ? { outputs: Record<K, EmbeddingTensor> } : unknown);

/** Options `O` with no key EmbedOptions lacks (a misspelt option is a type error, as it is a UsageError at run time). */
export type ExactEmbedOptions<O> = O & { [K in keyof O]: K extends keyof EmbedOptions ? O[K] : never };

export interface LoadOptions {
  /**
   * Called through every phase of the load, each call naming its phase: 'download' (a hub id
   * in Node: bytes per file; a URL's bytes go to the browser's onDownload), 'upload' (one call per tensor), 'tuning' (kernel variants measured on this
   * adapter, first run only: one call per op and per candidate) and 'compiling' (the warm-up
   * pass that compiles every GPU pipeline embed() uses: one call per pipeline, then a last one
   * with `total` set when the warm-up batch has run).
   */
  onProgress?: (p: LoadProgress) => void;
  /** Stops the load (download, upload, tuning, warm-up); it rejects with the signal's reason and frees what it made. */
  signal?: AbortSignal;
  /**
   * Run one tiny batch at the end of the load, so that the GPU pipelines are compiled during the
   * load (reported as 'compiling') instead of during the first embed(). Default true.
   */
  warmup?: boolean;
  /**
   * Pick kernel variants by measurement on this adapter (cached per adapter in `tuneStore`),
   * or use the defaults (false). Default true: shapes too small to be worth measuring (under
   * TUNE_MIN_FLOPS per timing run, e.g. the demo model's) use the defaults untimed; 'all'
   * measures those too.
   */
  autotune?: boolean | 'all';
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
  private disposal: Promise<void> | null = null;
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
      // The batching pads on the right; a left-padding tokenizer's family must give the same numbers so (Family.shiftInvariant).
      if (tokenizer.padSide !== 'right' && !ckpt.family.shiftInvariant) throw new UsageError(`${ckpt.family.name}: left padding is not supported by the batching`);
      const onProgress = options.onProgress;
      const signal = options.signal;
      signal?.throwIfAborted();
      const tuner = options.autotune === false ? undefined : new Autotuner(rt, options.tuneStore, options.autotune === 'all' ? { minFlops: 0 } : {});
      if (tuner) {
        tuner.signal = signal;
        if (onProgress) tuner.onEvent = (e) => onProgress({ phase: 'tuning', op: e.op, shape: e.shape, variant: e.variant, cached: e.cached, loaded: e.done, total: e.total });
      }
      const checks = { strict: options.strict ?? false, onWarning: options.onWarning ?? ((message: string) => console.warn(message)) };
      const encoder = await ckpt.family.load(rt, ckpt, { onProgress, tuner, checks, signal });
      const model = new EmbeddingModel(ckpt.family, ckpt.config, encoder, tokenizer, ownsRuntime);
      try {
        if (options.warmup !== false) await model.warmUp(onProgress, signal);
      } catch (e) {
        encoder.dispose();
        throw e;
      }
      return model;
    } finally {
      await ckpt.close();
    }
  }

  /**
   * One batch of 8 pad tokens through the encoder and the per-protein pool: every pipeline an
   * embed() of the encoder's outputs uses is compiled here (variants do not depend on the length).
   */
  private async warmUp(onProgress: LoadOptions['onProgress'], signal?: AbortSignal): Promise<void> {
    const rt = this.runtime;
    let compiled = 0;
    onProgress?.({ phase: 'compiling', pipeline: null, loaded: 0, total: null });
    const previous = rt.onCompile;
    rt.onCompile = (name) => {
      previous?.(name);
      onProgress?.({ phase: 'compiling', pipeline: name, loaded: ++compiled, total: null });
    };
    try {
      const n = 8;
      const tok: Tokenized = { ids: new Uint32Array(n).fill(this.tokenizer.padId), residueStart: 0, residueCount: n };
      // First a pass that only starts every pipeline it meets, so they compile concurrently; then the real batch.
      await rt.precompile(() => this.runBatch([0], [tok], [PER_PROTEIN], signal ? { signal } : undefined));
      await this.runBatch([0], [tok], [PER_PROTEIN], signal ? { signal } : undefined);
    } finally {
      rt.onCompile = previous;
    }
    onProgress?.({ phase: 'compiling', pipeline: null, loaded: compiled, total: compiled });
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
    checkSequences(sequences);
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

  /**
   * Embeds sequences; results are in input order. Calls on one model run one after another.
   * The result type follows the options: `embed(x, { perResidue: true })` gives results whose
   * `perResidue` is present (see EmbeddingFor).
   */
  async embed<const O extends EmbedOptions = {}>(sequences: readonly SequenceInput[], options?: ExactEmbedOptions<O>): Promise<EmbeddingFor<O>[]> {
    checkSequences(sequences);
    const out: EmbeddingFor<O>[] = new Array(sequences.length);
    for await (const batch of this.embedBatches<O>(sequences, options)) for (const e of batch) out[e.index] = e;
    return out;
  }

  /**
   * Embeds batch by batch, yielding each batch's results as soon as they are read back
   * (longest sequences first). For writers that stream results to disk. Until the generator
   * finishes or is closed (return(), as `break` in a for-await loop does) it counts as a
   * running embed for dispose().
   */
  async *embedBatches<const O extends EmbedOptions = {}>(sequences: readonly SequenceInput[], options?: ExactEmbedOptions<O>): AsyncGenerator<EmbeddingFor<O>[]> {
    if (this.disposed) throw new UsageError('embed() called on a disposed model');
    checkSequences(sequences);
    checkOptionKeys('embed()', options, EMBED_OPTION_KEYS);
    this.active++;
    try {
      yield* this.batches(sequences, (options ?? {}) as EmbedOptions) as AsyncGenerator<EmbeddingFor<O>[]>;
    } finally {
      this.active--;
    }
  }

  /** The input kinds this model's tokenizer reads (['aa'], ProstT5's ['aa', '3di']); the first is the default. */
  get inputModes(): readonly string[] {
    return this.tokenizer.modes ?? ['aa'];
  }

  /** `input` checked against the tokenizer's modes (undefined: the default). */
  inputMode(input: string | undefined): string | undefined {
    if (input === undefined) return undefined;
    if (!this.inputModes.includes(input)) {
      throw new UsageError(`embed(): input "${input}" is not read by this model (${this.family.name}: ${this.inputModes.join(', ')})`, { input });
    }
    return input;
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
    const mode = this.inputMode(options.input);
    const toks = sequences.map((s, i) => (typeof s === 'string' ? this.tokenizer.encode(s, `sequence ${i}`, mode) : this.tokenizer.encode(s.sequence, s.id, mode)));
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
    const flat = new Uint32Array(B * L).fill(this.tokenizer.padId); // right padding (a left-padding family is shift-invariant: the same numbers)
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
   * Frees the weights and heads (and the device if the model created it). Never throws: with no
   * embed() running it frees at once (the promise is already settled). During an embed() the
   * batch on the GPU finishes first and the promise resolves after it; the embed() calls still
   * running, and those waiting for their turn, reject with a UsageError at their next batch. A
   * second call returns the first one's promise.
   */
  dispose(): Promise<void> {
    if (this.disposal) return this.disposal;
    this.disposed = true;
    const free = () => {
      for (const h of this.heads.values()) h.dispose();
      this.heads.clear();
      this.encoder.dispose();
      if (this.ownsRuntime) this.encoder.rt.destroy();
    };
    if (this.running === 0) {
      free();
      this.disposal = Promise.resolve();
    } else this.disposal = this.busy.then(free);
    return this.disposal;
  }

  /** `await using model = await loadProtT5(...)` disposes the model at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}


/** The name the library had when it ran ProtT5 only. */
export const ProtT5Model = EmbeddingModel;
export type ProtT5Model = EmbeddingModel;

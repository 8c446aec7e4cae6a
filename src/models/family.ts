// What a model family is to the engine: how its config.json parses, which tensors it needs (the
// one schema), how a sequence becomes token ids, and its forward pass. A family is one folder
// under src/models/ plus one line in src/models/registry.ts.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor, TensorDType } from '../gpu/tensor.js';
import type { Autotuner as Tuner } from '../gpu/tuner.js';
import type { ModelFiles } from '../../weights/source.js';
import type { TensorEntry } from '../../weights/tensor-entry.js';

/** The tensor names of a family that hold whatever the config: which stored names it reads. */
export interface TensorNames {
  /** Stored names that are never read (a decoder, an LM head, a pre-training head). */
  ignore: RegExp;
  /** Stored name → the canonical name it stands for when the canonical one is absent (tied copies). */
  aliases: Readonly<Record<string, string>>;
  /** With no config.json to say the shapes (`prott5 convert` of a bare file): the stored names to keep. */
  keep: RegExp;
}

/** Token ids of one sequence and which of them are its residues. */
export interface Tokenized {
  ids: Uint32Array;
  /** Index of the first residue's token (0 when no special token comes first). */
  residueStart: number;
  /** Residues (tokens that are rows of the per-residue output). */
  residueCount: number;
}

/** A sequence → token ids, by the family's recipe over the folder's vocabulary. */
export interface SequenceTokenizer {
  /**
   * `name` (record id or "sequence 3") is named in a SequenceError; `mode` is one of `modes`
   * (ProstT5: 'aa' | '3di'), the first by default.
   */
  encode(sequence: string, name: string, mode?: string): Tokenized;
  /** The kinds of input text it reads (['aa'], or ProstT5's ['aa', '3di']); the first is the default. */
  readonly modes?: readonly string[];
  /** The id padded rows hold. */
  readonly padId: number;
  /** Which end of a batch row the padding goes (XLNet pads on the left). */
  readonly padSide: 'left' | 'right';
}

/**
 * Load progress. Every call names its `phase`; `loaded` and `total` count that phase's units
 * (`total` null where not known ahead): switch on `phase` for the rest.
 */
export type LoadProgress = DownloadPhase | UploadPhase | TuningPhase | CompilingPhase;

/** Fetching the model's files (a hub id into the cache, in Node): bytes of `file`. */
export interface DownloadPhase {
  phase: 'download';
  file: string;
  /** Bytes of this file so far (a resumed part included) and its size (null when not said). */
  loaded: number;
  total: number | null;
  /** True once, when the file is verified and in place. */
  finished: boolean;
}

/** Weights to the GPU: one call per tensor. */
export interface UploadPhase {
  phase: 'upload';
  tensor: string;
  /** Tensors uploaded, of all the model's tensors. */
  loaded: number;
  total: number;
  /** Bytes uploaded so far. */
  bytes: number;
}

/**
 * Kernel variants measured on this adapter (the first load on an adapter; later loads find
 * them in the tune store, `cached`): a call when an op's shape starts (variant null), then one
 * per candidate timed.
 */
export interface TuningPhase {
  phase: 'tuning';
  op: string;
  shape: string;
  variant: string | null;
  cached: boolean;
  /** Shapes tuned, of those this load tunes (null if the family did not say). */
  loaded: number;
  total: number | null;
}

/**
 * The warm-up batch compiling the GPU pipelines: a first call (pipeline null, total null), one as
 * each pipeline starts compiling, and a last one when the warm-up batch has run (pipeline null,
 * total = loaded): drivers that compile at the first dispatch (llvmpipe) do so between the two.
 */
export interface CompilingPhase {
  phase: 'compiling';
  pipeline: string | null;
  /** Pipelines compiled so far. */
  loaded: number;
  /** null until the warm-up is done; then the number of pipelines it compiled. */
  total: number | null;
}

/** A weight tensor holding NaN or ±Inf values: where, and how many of each. */
export interface NonFiniteWeights {
  tensor: string;
  file: string;
  nan: number;
  inf: number;
  /** Elements in the tensor. */
  total: number;
}

/** What load does about weights holding NaN or ±Inf. */
export interface WeightChecks {
  /** Throw a WeightsError naming the first such tensor (default: warn and go on). */
  strict?: boolean;
  onWarning?: (message: string, detail: NonFiniteWeights) => void;
}

/** A model folder opened: its family, parsed config, and every tensor the family needs by canonical name. */
export interface Checkpoint<C = unknown> {
  family: Family<C>;
  config: C;
  tensors: Map<string, TensorEntry>;
  /** The weight files read (for messages). */
  files: string[];
  /** The weight files' safetensors `__metadata__` (merged; absent or {} for PyTorch files). */
  metadata?: Record<string, string>;
  close(): Promise<void>;
}

export interface LoadContext {
  onProgress?: (p: LoadProgress) => void;
  /** Picks kernel variants by measurement; the kernels' defaults without one. */
  tuner?: Tuner;
  checks?: WeightChecks;
  /** Stops the load between tensors (the family's load frees what it uploaded and rethrows). */
  signal?: AbortSignal;
}

/**
 * Safe points inside a forward pass (between layers), for long batches: the pass waits for the
 * GPU there, reports the layer, and stops with an AbortError once `signal` is aborted.
 */
export interface ForwardSteps {
  signal?: AbortSignal;
  onLayer?: (done: number, total: number) => void;
}

/** At a safe point: the GPU's work so far is done, then progress, then a requested stop. */
export async function safePoint(rt: Runtime, steps: ForwardSteps | undefined, done: number, total: number): Promise<void> {
  if (!steps) return;
  await rt.sync();
  steps.onLayer?.(done, total);
  steps.signal?.throwIfAborted();
}

/** A loaded encoder: weights on the GPU, a forward pass that leaves its result there. */
export interface Encoder {
  readonly rt: Runtime;
  /** Width of a row of the hidden state. */
  readonly hiddenSize: number;
  /** dtype of each weight tensor as stored (for info and tests). */
  readonly weightDtypes: ReadonlySet<TensorDType>;
  /**
   * Records the forward pass over a padded batch and returns last_hidden_state [B, L, hidden]
   * on the GPU (the caller releases it). ids: [B·L] token ids, padded with the tokenizer's
   * padId; lengths: [B] tokens per sequence, specials included.
   */
  forward(ids: Uint32Array, lengths: Uint32Array, B: number, L: number, steps?: ForwardSteps): Promise<Tensor>;
  dispose(): void;
}

export interface Family<C = unknown> {
  /** Short name: 't5', 'bert', ... */
  readonly name: string;
  /** config.json `model_type` values this family runs. */
  readonly modelTypes: readonly string[];
  /** config.json `architectures` entries that identify it when `model_type` is absent. */
  readonly architectures?: readonly string[];
  /** Validates a parsed config.json; errors are ConfigErrors naming `file` and the key. */
  parseConfig(raw: unknown, file: string): C;
  readonly names: TensorNames;
  /** Canonical name → shape of every tensor the model needs with this config. */
  shapes(config: C): Map<string, readonly number[]>;
  /** "a T5 encoder with 3 layers": what a surplus tensor is not part of. */
  describe(config: C): string;
  /** "3 layers, d_model 64": a line for logs and the demo page. */
  summary(config: C): string;
  hiddenSize(config: C): number;
  /**
   * A sequence's outputs do not depend on where in its padded batch row it sits (positions enter
   * only as differences i − j and padded keys are masked: XLNet). A tokenizer that pads on the
   * left is then run with each sequence at the start of its row, as the others are: the same numbers.
   */
  readonly shiftInvariant?: boolean;
  /** Which published checkpoint this is ('ProstT5', 'Ankh base', ...), from the config and the folder's name or hub id. */
  variant?(config: C, name: string): { name: string; note?: string };
  /** The tokenizer from the folder's own files and the family's recipe. */
  tokenizer(files: ModelFiles, config: C): Promise<SequenceTokenizer>;
  load(rt: Runtime, ckpt: Checkpoint<C>, ctx: LoadContext): Promise<Encoder>;
}

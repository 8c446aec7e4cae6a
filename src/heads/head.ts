// A prediction head: a small network on the encoder's hidden state [B, L, D], run on the GPU
// before anything is read back, in a batch, with masks that give the numbers of a protein run
// alone. A head is one folder under src/heads/ plus one line in src/heads/registry.ts.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import type { ModelFiles } from '../../weights/source.js';

/**
 * One kind of output an embed run can produce (src/embed/outputs.ts lists them all: the
 * encoder's and every head's).
 */
export interface OutputKind {
  /** Key in the API (`Embedding.outputs[key]`, `embed(x, { outputs: [key] })`) and in a file's `prott5_outputs`. */
  readonly key: string;
  /** HDF5 group (and safetensors name prefix) when a file holds more than one kind. */
  readonly group: string;
  /** One row per residue (`[L, width]`), one vector per protein (`[width]`), or every token row (`[tokens, width]`). */
  readonly per: 'residue' | 'protein' | 'token';
  /** Columns, given the encoder's hidden size. */
  width(hiddenSize: number): number;
  /** Stored dtype in output files. */
  readonly dtype: 'f32';
  /** 'encoder', or the name of the head that computes it. */
  readonly source: string;
  /** Offered by `prott5 embed` (false: API only). */
  readonly cli: boolean;
  /** For help texts. */
  readonly description: string;
}

/** Where each sequence of a padded batch sits: rows of the hidden state, token and residue counts. */
export interface BatchRows {
  B: number;
  /** Padded tokens per sequence (the hidden state's second dimension). */
  L: number;
  /** [B] tokens of each sequence, specials included. */
  tokens: Uint32Array;
  /** [B] row of each sequence's first residue. */
  residueStart: Uint32Array;
  /** [B] residues of each sequence. */
  residueCount: Uint32Array;
}

export interface HeadLoadOptions {
  /** The encoder's hidden size (the head's input width, checked against its weights). */
  hiddenSize: number;
  /** The head's checkpoint: a folder or the files the user gave; heads that ship none ignore it. */
  files?: ModelFiles;
}

/** A head loaded on a device. */
export interface Head {
  readonly name: string;
  /**
   * Computes the head's outputs from hidden [B, L, D] (on the GPU). Each output is a tensor by
   * its kind's key: [B, L, width] with the rows of the hidden state (per residue or per token), or
   * [B, width] (per protein). The caller reads the rows it needs and releases the tensors.
   */
  run(hidden: Tensor, rows: BatchRows): Promise<Map<string, Tensor>>;
  dispose(): void;
}

export interface HeadSpec {
  readonly name: string;
  /** The kinds it produces (registered as output kinds with it). */
  readonly outputs: readonly OutputKind[];
  readonly description: string;
  load(rt: Runtime, options: HeadLoadOptions): Promise<Head>;
}

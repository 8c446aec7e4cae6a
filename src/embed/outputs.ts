// The one registry of output kinds: what an embed run can produce, its shape, the HDF5 group
// it goes in when a file holds several kinds, and its dtype in files. The API (Embedding),
// the CLI's writers and the demo page all read it; a head registers the kinds it produces.

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

const hidden = (d: number) => d;

export const PER_RESIDUE: OutputKind = {
  key: 'perResidue', group: 'per_residue', per: 'residue', width: hidden, dtype: 'f32', source: 'encoder', cli: true,
  description: '[L, hidden] per record: one row per residue',
};
export const PER_PROTEIN: OutputKind = {
  key: 'perProtein', group: 'per_protein', per: 'protein', width: hidden, dtype: 'f32', source: 'encoder', cli: true,
  description: '[hidden] per record: the mean of its residue rows',
};
export const LAST_HIDDEN_STATE: OutputKind = {
  key: 'lastHiddenState', group: 'last_hidden_state', per: 'token', width: hidden, dtype: 'f32', source: 'encoder', cli: false,
  description: "[tokens, hidden] per record: the encoder's last_hidden_state, special tokens included",
};

const kinds: OutputKind[] = [PER_RESIDUE, PER_PROTEIN, LAST_HIDDEN_STATE];

/** Adds an output kind (a head's); a key already taken by another source is an error. */
export function registerOutput(kind: OutputKind): void {
  const i = kinds.findIndex((k) => k.key === kind.key);
  if (i >= 0 && kinds[i].source !== kind.source) throw new Error(`output kind "${kind.key}" is already produced by ${kinds[i].source}`);
  if (kinds.some((k) => k.group === kind.group && k.key !== kind.key)) throw new Error(`output group "${kind.group}" is already taken`);
  if (i >= 0) kinds[i] = kind;
  else kinds.push(kind);
}

/** The kind with this key, or undefined. */
export function outputKind(key: string): OutputKind | undefined {
  return kinds.find((k) => k.key === key);
}

export function outputKinds(): readonly OutputKind[] {
  return kinds;
}

/** Keys in registry order (perResidue, perProtein, then heads' kinds), without repeats. */
export function orderKinds(keys: Iterable<string>): string[] {
  const set = new Set(keys);
  return [...kinds.map((k) => k.key).filter((k) => set.has(k)), ...[...set].filter((k) => !outputKind(k))];
}

/** Shape of one record's output of `kind`: residues L, tokens n (specials included). */
export function outputShape(kind: OutputKind, hiddenSize: number, residues: number, tokens = residues): number[] {
  const w = kind.width(hiddenSize);
  return kind.per === 'protein' ? [w] : [kind.per === 'residue' ? residues : tokens, w];
}

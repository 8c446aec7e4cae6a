// The one registry of output kinds: what an embed run can produce, its shape, the HDF5 group
// it goes in when a file holds several kinds, and its dtype in files. The API (Embedding),
// the CLI's writers and the demo page all read it: the encoder's kinds (below) and those of
// every registered head (src/heads/registry.ts).
import { NumericalError } from '../errors.js';
import type { OutputKind } from '../heads/head.js';
import { registeredHeads } from '../heads/registry.js';

export type { OutputKind };


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

const ENCODER_KINDS: readonly OutputKind[] = [PER_RESIDUE, PER_PROTEIN, LAST_HIDDEN_STATE];

/** Every kind: the encoder's, then each registered head's; a key or group used twice is an error. */
export function outputKinds(): readonly OutputKind[] {
  const all = [...ENCODER_KINDS, ...registeredHeads().flatMap((h) => h.outputs)];
  for (const [i, k] of all.entries()) {
    const other = all.findIndex((x) => x.key === k.key || x.group === k.group);
    if (other !== i) throw new Error(`output kind "${k.key}" (${k.source}) clashes with "${all[other].key}" (${all[other].source}) in its key or group`);
  }
  return all;
}

/** The kind with this key, or undefined. */
export function outputKind(key: string): OutputKind | undefined {
  return outputKinds().find((k) => k.key === key);
}

/** Keys in registry order (perResidue, perProtein, then heads' kinds), without repeats. */
export function orderKinds(keys: Iterable<string>): string[] {
  const set = new Set(keys);
  return [...outputKinds().map((k) => k.key).filter((k) => set.has(k)), ...[...set].filter((k) => !outputKind(k))];
}

/** Shape of one record's output of `kind`: residues L, tokens n (specials included). */
export function outputShape(kind: OutputKind, hiddenSize: number, residues: number, tokens = residues): number[] {
  const w = kind.width(hiddenSize);
  return kind.per === 'protein' ? [w] : [kind.per === 'residue' ? residues : tokens, w];
}

/**
 * A NumericalError when one of `kinds` of a record's outputs holds NaN or ±Inf (weights holding
 * them, or values beyond float range): the writers call it before they write the record.
 */
export function checkFiniteOutputs(id: string, outputs: Readonly<Record<string, { data: Float32Array }>>, kinds: readonly string[]): void {
  const bad = kinds.find((k) => outputs[k].data.some((v) => !Number.isFinite(v)));
  if (bad) throw new NumericalError(`record "${id}": the ${bad} embedding holds NaN or Inf (weights holding NaN/Inf, or values beyond float range); nothing written for it`, { record: id, output: bad });
}

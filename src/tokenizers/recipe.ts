// Each family's tokenization recipe, one declaration each. A recipe names tokens by their text;
// the ids always come from the model folder's tokenizer files (see tokenizer.ts).
import { PROTT5_SPIECE_MODEL } from './default-vocab.js';

/** Files that hold a base vocabulary; the first one a folder has is read. */
export type VocabularyFile = 'spiece.model' | 'vocab.txt' | 'tokenizer.json';

/** How one kind of input text (amino acids, 3Di) becomes tokens. */
export interface Encoding {
  /** ASCII case folding before the lookup (non-ASCII letters are never folded). */
  case: 'upper' | 'lower';
  /** The accepted letters, after folding; anything else is a SequenceError. */
  letters: string;
  /** What a letter is, for messages: "residue 3 is 'J', not <describe>". */
  describe: string;
  /** Letter → letter before the lookup (ProtTrans: U Z O B → X). */
  replace?: Readonly<Record<string, string>>;
  /** Letter → token text, taken as is (XLNet: U Z O B X → <unk>). */
  asToken?: Readonly<Record<string, string>>;
  /** The vocabulary entry of a residue: the letter itself, or "▁" + letter (a sentencepiece word). */
  piece: 'letter' | 'sentencepiece';
  /** Token texts before and after the residues. The residue rows are before.length .. before.length + L - 1. */
  before: readonly string[];
  after: readonly string[];
  /** Token texts the input may hold verbatim, each one residue row (ESM: <mask>). */
  literals?: readonly string[];
}

/** Bytes to use when a folder has none of the recipe's vocabulary files. */
export interface TokenizerFallback {
  /** Which reader: the file the bytes stand for. */
  file: VocabularyFile;
  /** Shown in messages instead of a path. */
  name: string;
  load(): Uint8Array | Promise<Uint8Array>;
}

export interface Recipe {
  family: string;
  /** Base vocabulary files, in order of preference. added_tokens.json and tokenizer_config.json are read too when present. */
  vocabulary: readonly VocabularyFile[];
  /** The input kinds; the first is the default (ProstT5: aa, 3di). */
  modes: Readonly<Record<string, Encoding>>;
  pad: string;
  /** XLNet pads on the left, the others on the right. */
  padSide: 'left' | 'right';
  fallback?: TokenizerFallback;
}

const AMINO_ACIDS = 'ACDEFGHIKLMNPQRSTVWYXUZOB';
const AA = { case: 'upper', letters: AMINO_ACIDS, describe: 'an amino-acid letter (ACDEFGHIKLMNPQRSTVWY, X, U, Z, O, B)' } as const;
/** ProtTrans maps the rare amino acids to X before tokenising. */
const RARE_TO_X = { U: 'X', Z: 'X', O: 'X', B: 'X' } as const;
const BERT_SPECIALS = { before: ['[CLS]'], after: ['[SEP]'] } as const;

/** ProtT5-XL-U50 (T5): ▁A.. pieces of spiece.model, then </s>. */
export const PROTT5: Recipe = {
  family: 'prott5',
  vocabulary: ['spiece.model', 'tokenizer.json'],
  modes: { aa: { ...AA, replace: RARE_TO_X, piece: 'sentencepiece', before: [], after: ['</s>'] } },
  pad: '<pad>',
  padSide: 'right',
  // Folders holding only config.json + weights (the repo's fixtures, converted checkpoints):
  // a spiece.model with ProtT5's pieces, shipped with the package (default-vocab.ts).
  fallback: { file: 'spiece.model', name: 'built-in ProtT5 spiece.model', load: () => PROTT5_SPIECE_MODEL },
};

/** ProstT5: <AA2fold> + amino acids, or <fold2AA> + 3Di (lower-case letters, added tokens); then </s>. */
export const PROSTT5: Recipe = {
  family: 'prostt5',
  vocabulary: ['spiece.model', 'tokenizer.json'],
  modes: {
    aa: { ...AA, replace: RARE_TO_X, piece: 'sentencepiece', before: ['<AA2fold>'], after: ['</s>'] },
    '3di': { case: 'lower', letters: 'acdefghiklmnpqrstvwy', describe: 'a 3Di letter (acdefghiklmnpqrstvwy)', piece: 'letter', before: ['<fold2AA>'], after: ['</s>'] },
  },
  pad: '<pad>',
  padSide: 'right',
};

/**
 * Ankh (ElnaggarLab/ankh-base, ankh-large; T5 v1.1): residues then </s>, from the folder's
 * tokenizer.json or spiece.model. Assumed, not checked against a published file: one token per
 * amino-acid letter, written as the letter itself, no letter mapping (a letter without a token
 * is a SequenceError that names it, never a guess).
 */
export const ANKH: Recipe = {
  family: 'ankh',
  vocabulary: ['tokenizer.json', 'spiece.model'],
  modes: { aa: { ...AA, piece: 'letter', before: [], after: ['</s>'] } },
  pad: '<pad>',
  padSide: 'right',
};

/** ProtBert, ProtBert-BFD: [CLS] residues [SEP] from vocab.txt. */
export const PROTBERT: Recipe = {
  family: 'protbert',
  vocabulary: ['vocab.txt', 'tokenizer.json'],
  modes: { aa: { ...AA, replace: RARE_TO_X, piece: 'letter', ...BERT_SPECIALS } },
  pad: '[PAD]',
  padSide: 'right',
};

/** ProtElectra discriminator: the same vocab.txt and recipe as ProtBert. */
export const PROTELECTRA: Recipe = { ...PROTBERT, family: 'protelectra' };

/** ProtAlbert: [CLS] ▁residues [SEP] from spiece.model. */
export const PROTALBERT: Recipe = {
  family: 'protalbert',
  vocabulary: ['spiece.model', 'tokenizer.json'],
  modes: { aa: { ...AA, replace: RARE_TO_X, piece: 'sentencepiece', ...BERT_SPECIALS } },
  pad: '<pad>',
  padSide: 'right',
};

/** ProtXLNet: ▁residues <sep> <cls>, U Z O B X → <unk> (there is no ▁X piece); pads on the left. */
export const PROTXLNET: Recipe = {
  family: 'protxlnet',
  vocabulary: ['spiece.model', 'tokenizer.json'],
  modes: {
    aa: { ...AA, asToken: { U: '<unk>', Z: '<unk>', O: '<unk>', B: '<unk>', X: '<unk>' }, piece: 'sentencepiece', before: [], after: ['<sep>', '<cls>'] },
  },
  pad: '<pad>',
  padSide: 'left',
};

/** ProtTXL (Transformer-XL): residues only, from vocab.txt. The vocabulary has no pad token; right padding is invisible to a causal model, so <eos> fills it. */
export const PROTTXL: Recipe = {
  family: 'prottxl',
  vocabulary: ['vocab.txt', 'tokenizer.json'],
  modes: { aa: { ...AA, replace: RARE_TO_X, piece: 'letter', before: [], after: [] } },
  pad: '<eos>',
  padSide: 'right',
};

/** ESM-2: <cls> residues <eos>, every letter its own token (no mapping); <mask> may appear in the input. */
export const ESM2: Recipe = {
  family: 'esm2',
  vocabulary: ['vocab.txt', 'tokenizer.json'],
  modes: { aa: { ...AA, piece: 'letter', before: ['<cls>'], after: ['<eos>'], literals: ['<mask>'] } },
  pad: '<pad>',
  padSide: 'right',
};

export const RECIPES = {
  prott5: PROTT5,
  prostt5: PROSTT5,
  ankh: ANKH,
  protbert: PROTBERT,
  protelectra: PROTELECTRA,
  protalbert: PROTALBERT,
  protxlnet: PROTXLNET,
  prottxl: PROTTXL,
  esm2: ESM2,
} as const satisfies Record<string, Recipe>;

export type RecipeName = keyof typeof RECIPES;

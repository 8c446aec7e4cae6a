// The ProtT5 tokenizer over the spiece.model shipped with the package (default-vocab.ts):
// for callers without a model folder. Ids: <pad> 0, </s> 1, ▁A ▁L ▁G ... 3..27.
import { PROTT5_SPIECE_MODEL } from './default-vocab.js';
import { readVocabularyBytes } from './files.js';
import { PROTT5 } from './recipe.js';
import { Tokenizer } from './tokenizer.js';

let cached: Tokenizer | undefined;

/** The PROTT5 recipe on the built-in ProtT5 spiece.model. */
export function defaultProtT5Tokenizer(): Tokenizer {
  cached ??= Tokenizer.fromVocabulary(readVocabularyBytes('spiece.model', PROTT5_SPIECE_MODEL, PROTT5.fallback!.name), PROTT5);
  return cached;
}

export const PAD_ID = defaultProtT5Tokenizer().padId;
export const EOS_ID = defaultProtT5Tokenizer().need('</s>');

/**
 * Upper-cases, drops whitespace, maps U Z O B to X, and returns the token ids with </s>
 * appended. A letter outside the alphabet is a SequenceError naming `name` and the 1-based position.
 */
export function tokenize(sequence: string, name = 'sequence'): Uint32Array {
  return defaultProtT5Tokenizer().encode(sequence, name).ids;
}

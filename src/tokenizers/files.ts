// Opens a model folder's tokenizer files through ModelFiles (the same in Node and the browser)
// and builds its Vocabulary: the recipe's base file, then added_tokens.json and tokenizer_config.json.
import { TokenizerError } from '../errors.js';
import type { ModelFiles } from '../../weights/source.js';
import { addAddedTokens, addExtraIds, readTokenizerConfig } from './added-tokens.js';
import type { Recipe, VocabularyFile } from './recipe.js';
import { readSentencePieceVocabulary } from './spiece.js';
import { readTokenizerJson } from './tokenizer-json.js';
import { readVocabTxt } from './vocab-txt.js';
import type { Vocabulary } from './vocabulary.js';

/** Larger tokenizer files are refused before reading (real ones are well under 20 MB). */
export const MAX_TOKENIZER_FILE_BYTES = 64 << 20;

/** The bytes of `file` in the folder and its shown name, or null when the folder lacks it. */
export async function readTokenizerFile(files: ModelFiles, file: string): Promise<{ name: string; bytes: Uint8Array } | null> {
  const src = await files.open(file);
  if (!src) return null;
  try {
    if (src.size > MAX_TOKENIZER_FILE_BYTES) {
      throw new TokenizerError(`${src.name}: ${src.size} bytes is too large for a tokenizer file (at most ${MAX_TOKENIZER_FILE_BYTES})`, { file: src.name });
    }
    return { name: src.name, bytes: await src.read(0, src.size) };
  } finally {
    await src.close?.();
  }
}

/** Parses a base vocabulary file by its kind. */
export function readVocabularyBytes(kind: VocabularyFile, bytes: Uint8Array, name: string): Vocabulary {
  switch (kind) {
    case 'spiece.model': return readSentencePieceVocabulary(bytes, name);
    case 'vocab.txt': return readVocabTxt(bytes, name);
    case 'tokenizer.json': return readTokenizerJson(bytes, name);
  }
}

/**
 * The folder's vocabulary for `recipe`: the first of recipe.vocabulary the folder has (else the
 * recipe's fallback bytes), plus added_tokens.json and tokenizer_config.json when present.
 * A folder with none of them, and no fallback, is a TokenizerError naming the folder and the files.
 */
export async function loadVocabulary(files: ModelFiles, recipe: Recipe): Promise<Vocabulary> {
  let vocab: Vocabulary | undefined;
  let kind: VocabularyFile | undefined;
  for (const k of recipe.vocabulary) {
    const f = await readTokenizerFile(files, k);
    if (f) {
      vocab = readVocabularyBytes(k, f.bytes, f.name);
      kind = k;
      break;
    }
  }
  if (!vocab || !kind) {
    const fb = recipe.fallback;
    if (!fb) {
      throw new TokenizerError(`${files.name}: no tokenizer file: a ${recipe.family} folder needs one of ${recipe.vocabulary.join(', ')}`, {
        folder: files.name,
        files: [...recipe.vocabulary],
      });
    }
    kind = fb.file;
    vocab = readVocabularyBytes(kind, await fb.load(), fb.name);
  }
  // T5's extra ids come first (28..127 after ProtT5's 28 pieces), then the added tokens (128..).
  // A tokenizer.json already lists its extra ids.
  const config = await readTokenizerFile(files, 'tokenizer_config.json');
  const cfg = config && readTokenizerConfig(config.bytes, config.name);
  const extraIds = kind === 'spiece.model' && cfg ? cfg.extraIds : 0;
  if (config && extraIds > 0) addExtraIds(vocab, extraIds, config.name);
  const added = await readTokenizerFile(files, 'added_tokens.json');
  if (added) {
    addAddedTokens(vocab, added.bytes, added.name);
    vocab.source += ` + ${added.name}`;
  }
  if (config && cfg) {
    for (const [token, id] of cfg.added) vocab.add(token, id, config.name, `added_tokens_decoder[${id}]`);
    if (extraIds > 0 || cfg.added.length > 0) vocab.source += ` + ${config.name}`;
  }
  return vocab;
}

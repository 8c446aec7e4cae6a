// src/tokenizers: readers of a model folder's tokenizer files and each family's recipe.
export { Tokenizer, type Encoded } from './tokenizer.js';
export { RECIPES, PROTT5, PROSTT5, ANKH, PROTBERT, PROTELECTRA, PROTALBERT, PROTXLNET, PROTTXL, ESM2 } from './recipe.js';
export type { Encoding, Recipe, RecipeName, TokenizerFallback, VocabularyFile } from './recipe.js';
export { loadVocabulary, readTokenizerFile, readVocabularyBytes, MAX_TOKENIZER_FILE_BYTES } from './files.js';
export { Vocabulary } from './vocabulary.js';
export { parseSentencePieceModel, readSentencePieceVocabulary, PieceType, type SentencePiece } from './spiece.js';
export { readVocabTxt } from './vocab-txt.js';
export { readTokenizerJson } from './tokenizer-json.js';
export { addAddedTokens, addExtraIds, readTokenizerConfig } from './added-tokens.js';
export { defaultProtT5Tokenizer, tokenize, PAD_ID, EOS_ID } from './prott5.js';

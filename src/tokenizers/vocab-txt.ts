// vocab.txt (BERT, ELECTRA, ESM, Transformer-XL): one token per line, id = line index.
import { TokenizerError } from '../errors.js';
import { decodeUtf8, Vocabulary } from './vocabulary.js';

/** Lines end in \n (a \r before it is dropped); the last line may lack it. Empty lines are errors. */
export function readVocabTxt(bytes: Uint8Array, file: string): Vocabulary {
  let text = decodeUtf8(bytes, file);
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new TokenizerError(`${file}: the vocabulary is empty (no lines)`, { file });
  const vocab = new Vocabulary(file);
  lines.forEach((raw, i) => {
    const token = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (token === '') throw new TokenizerError(`${file}: line ${i + 1} is empty (one token per line expected)`, { file, line: i + 1 });
    vocab.add(token, i, file, `line ${i + 1}`);
  });
  return vocab;
}

// tokenizer.json (Hugging Face fast tokenizers): `model.vocab` of a Unigram model ([piece, score]
// list, id = index) or a WordPiece / BPE / WordLevel model ({ token: id }), then `added_tokens`.
// Normalizers, pre-tokenizers and merges are not read: residues are looked up one by one.
import { TokenizerError } from '../errors.js';
import { parseJsonObject, Vocabulary } from './vocabulary.js';

export function readTokenizerJson(bytes: Uint8Array, file: string): Vocabulary {
  const root = parseJsonObject(bytes, file);
  const model = root.model as { type?: unknown; vocab?: unknown } | undefined;
  if (typeof model !== 'object' || model === null) throw new TokenizerError(`${file}: has no "model" object`, { file });
  const vocab = new Vocabulary(file);
  const type = model.type;
  if (type === 'Unigram') {
    if (!Array.isArray(model.vocab)) throw new TokenizerError(`${file}: model.vocab of a Unigram model is not a list`, { file });
    model.vocab.forEach((entry: unknown, i: number) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || entry[0] === '') {
        throw new TokenizerError(`${file}: model.vocab[${i}] is not a [piece, score] pair`, { file, index: i });
      }
      vocab.add(entry[0], i, file, `model.vocab[${i}]`);
    });
  } else if (type === 'WordPiece' || type === 'BPE' || type === 'WordLevel') {
    const v = model.vocab;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TokenizerError(`${file}: model.vocab of a ${type} model is not an object`, { file });
    for (const [token, id] of Object.entries(v)) {
      if (typeof id !== 'number') throw new TokenizerError(`${file}: model.vocab[${JSON.stringify(token)}] is not a number`, { file, token });
      vocab.add(token, id, file, `model.vocab[${JSON.stringify(token)}]`);
    }
  } else {
    throw new TokenizerError(`${file}: model.type is ${JSON.stringify(type)}; readable are Unigram, WordPiece, BPE, WordLevel`, { file });
  }
  if (vocab.size === 0) throw new TokenizerError(`${file}: model.vocab is empty`, { file });
  const added = root.added_tokens ?? [];
  if (!Array.isArray(added)) throw new TokenizerError(`${file}: added_tokens is not a list`, { file });
  added.forEach((t: unknown, i: number) => {
    const { id, content } = (t ?? {}) as { id?: unknown; content?: unknown };
    if (typeof id !== 'number' || typeof content !== 'string' || content === '') {
      throw new TokenizerError(`${file}: added_tokens[${i}] is not { id, content }`, { file, index: i });
    }
    vocab.add(content, id, file, `added_tokens[${i}]`);
  });
  return vocab;
}

// added_tokens.json (token → id, e.g. ProstT5's 3Di letters and <fold2AA>/<AA2fold>) and the
// parts of tokenizer_config.json that add tokens: T5's `extra_ids` and `added_tokens_decoder`.
import { TokenizerError } from '../errors.js';
import { parseJsonObject, type Vocabulary } from './vocabulary.js';

/** Adds every `"token": id` of added_tokens.json to `vocab`. */
export function addAddedTokens(vocab: Vocabulary, bytes: Uint8Array, file: string): void {
  const obj = parseJsonObject(bytes, file);
  for (const [token, id] of Object.entries(obj)) {
    if (token === '') throw new TokenizerError(`${file}: an added token is the empty string`, { file });
    if (typeof id !== 'number') throw new TokenizerError(`${file}: the id of ${JSON.stringify(token)} is ${JSON.stringify(id)}, not a number`, { file, token });
    vocab.add(token, id, file, `key ${JSON.stringify(token)}`);
  }
}

/** The largest extra_ids accepted (T5 uses 100). */
const MAX_EXTRA_IDS = 1 << 16;

/** What tokenizer_config.json adds to a vocabulary. Other keys are not read. */
export interface TokenizerConfigTokens {
  /** T5's `extra_ids`: `<extra_id_i>` at base + n - 1 - i (T5Tokenizer's order: `<extra_id_0>` last). */
  extraIds: number;
  /** `added_tokens_decoder` ({ "id": { "content": token } }) as [token, id] pairs. */
  added: Array<[string, number]>;
}

export function readTokenizerConfig(bytes: Uint8Array, file: string): TokenizerConfigTokens {
  const cfg = parseJsonObject(bytes, file);
  const extra = cfg.extra_ids ?? 0;
  if (typeof extra !== 'number' || !Number.isInteger(extra) || extra < 0 || extra > MAX_EXTRA_IDS) {
    throw new TokenizerError(`${file}: extra_ids is ${JSON.stringify(extra)}, not an integer in 0..${MAX_EXTRA_IDS}`, { file });
  }
  const added: Array<[string, number]> = [];
  const dec = cfg.added_tokens_decoder ?? {};
  if (typeof dec !== 'object' || Array.isArray(dec)) throw new TokenizerError(`${file}: added_tokens_decoder is not an object`, { file });
  for (const [key, entry] of Object.entries(dec as Record<string, unknown>)) {
    const content = (entry as { content?: unknown } | null)?.content;
    if (!/^\d+$/.test(key) || typeof content !== 'string' || content === '') {
      throw new TokenizerError(`${file}: added_tokens_decoder[${JSON.stringify(key)}] is not { "content": token } under a numeric id`, { file });
    }
    added.push([content, Number(key)]);
  }
  return { extraIds: extra, added };
}

/** Places `<extra_id_0..n-1>` after the current last id. */
export function addExtraIds(vocab: Vocabulary, n: number, file: string): void {
  const base = vocab.size;
  for (let i = 0; i < n; i++) vocab.add(`<extra_id_${i}>`, base + n - 1 - i, file, 'extra_ids');
}

// Token string ↔ id, as read from a model folder's tokenizer files. No token is written here.
import { TokenizerError } from '../errors.js';

/** Ids above this are taken as a broken file, not a vocabulary (the largest real ones are ~250k). */
export const MAX_TOKEN_ID = (1 << 24) - 1;

export class Vocabulary {
  private readonly byToken = new Map<string, number>();
  private readonly byId: Array<string | undefined> = [];
  /** The files the tokens came from, for messages: 'path/spiece.model + added_tokens.json'. */
  source: string;

  constructor(source: string) {
    this.source = source;
  }

  /** Number of ids: the largest id + 1 (ids may have gaps). */
  get size(): number {
    return this.byId.length;
  }

  id(token: string): number | undefined {
    return this.byToken.get(token);
  }

  token(id: number): string | undefined {
    return this.byId[id];
  }

  /**
   * Adds `token` at `id`. The same pair twice is fine; a token at two ids, or two tokens at one
   * id, is a TokenizerError naming `file` and `where` (a line, an index, a key).
   */
  add(token: string, id: number, file: string, where: string): void {
    if (!Number.isSafeInteger(id) || id < 0 || id > MAX_TOKEN_ID) {
      throw new TokenizerError(`${file}: ${where}: id ${id} of ${JSON.stringify(token)} is not an integer in 0..${MAX_TOKEN_ID}`, { file, token, id });
    }
    const had = this.byToken.get(token);
    if (had === id) return;
    if (had !== undefined) {
      throw new TokenizerError(`${file}: ${where}: ${JSON.stringify(token)} has id ${id}, but it already has id ${had}`, { file, token, id });
    }
    const other = this.byId[id];
    if (other !== undefined) {
      throw new TokenizerError(`${file}: ${where}: id ${id} is given to ${JSON.stringify(token)}, but it already belongs to ${JSON.stringify(other)}`, { file, token, id });
    }
    this.byToken.set(token, id);
    while (this.byId.length < id) this.byId.push(undefined);
    this.byId[id] = token;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 (no replacement characters); a TokenizerError naming `file` otherwise. */
export function decodeUtf8(bytes: Uint8Array, file: string, what = 'the file'): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new TokenizerError(`${file}: ${what} is not valid UTF-8`, { file });
  }
}

/** JSON.parse with a TokenizerError naming `file`; the top level must be an object. */
export function parseJsonObject(bytes: Uint8Array, file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(decodeUtf8(bytes, file));
  } catch (e) {
    if (e instanceof TokenizerError) throw e;
    throw new TokenizerError(`${file}: not valid JSON: ${(e as Error).message}`, { file }, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TokenizerError(`${file}: the top level is not a JSON object`, { file });
  return v as Record<string, unknown>;
}

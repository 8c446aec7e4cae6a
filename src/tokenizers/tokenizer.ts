// A family's recipe applied to a folder's vocabulary: sequence text → token ids, with the
// residue rows. Built once per model; encode() is synchronous.
import { SequenceError, TokenizerError, UsageError } from '../errors.js';
import type { ModelFiles } from '../../weights/source.js';
import { loadVocabulary } from './files.js';
import type { Encoding, Recipe } from './recipe.js';
import type { Vocabulary } from './vocabulary.js';

export interface Encoded {
  ids: Uint32Array;
  /** Row of the first residue in `ids` (before any padding; left padding adds its width). */
  residueStart: number;
  /** Number of residue rows: L. */
  residueCount: number;
}

// ASCII table entries that are not ids.
const NOT_A_LETTER = -1, NO_PIECE = -2, SPACE = -3;

interface Compiled {
  before: Uint32Array;
  after: Uint32Array;
  /** ASCII code of the input → id, or NOT_A_LETTER / NO_PIECE / SPACE. */
  table: Int32Array;
  /** ASCII code → folded letter, for messages. */
  folded: string[];
  /** ASCII code → the vocabulary entry looked up for it. */
  lookedUp: string[];
  literals: Array<[string, number]>;
  literalStarts: Set<number>;
  describe: string;
}

export class Tokenizer {
  /** The input kinds of the recipe; the first is the default. */
  readonly modes: readonly string[];
  readonly padId: number;
  readonly padSide: 'left' | 'right';
  private readonly compiled = new Map<string, Compiled>();

  private constructor(readonly recipe: Recipe, readonly vocabulary: Vocabulary) {
    this.modes = Object.keys(recipe.modes);
    if (this.modes.length === 0) throw new UsageError(`recipe ${recipe.family} has no modes`);
    this.padId = this.need(recipe.pad, 'its pad token');
    this.padSide = recipe.padSide;
    for (const m of this.modes) this.compiled.set(m, this.compile(m, recipe.modes[m]));
  }

  /** Reads the folder's tokenizer files (see loadVocabulary) and applies `recipe`. */
  static async fromFolder(files: ModelFiles, recipe: Recipe): Promise<Tokenizer> {
    return new Tokenizer(recipe, await loadVocabulary(files, recipe));
  }

  /** Applies `recipe` to a vocabulary already read. Missing special tokens are a TokenizerError. */
  static fromVocabulary(vocabulary: Vocabulary, recipe: Recipe): Tokenizer {
    return new Tokenizer(recipe, vocabulary);
  }

  /** The id of a token text; a TokenizerError naming the vocabulary's files when it has none. */
  need(token: string, role = 'a token'): number {
    const id = this.vocabulary.id(token);
    if (id === undefined) {
      throw new TokenizerError(`${this.vocabulary.source}: has no ${JSON.stringify(token)}, ${role} in the ${this.recipe.family} recipe`, {
        file: this.vocabulary.source,
        token,
      });
    }
    return id;
  }

  private compile(mode: string, e: Encoding): Compiled {
    const role = (what: string) => `${what} (mode ${mode})`;
    const before = Uint32Array.from(e.before, (t) => this.need(t, role('a token before the residues')));
    const after = Uint32Array.from(e.after, (t) => this.need(t, role('a token after the residues')));
    const literals = (e.literals ?? []).map((t): [string, number] => [t, this.need(t, role('a token allowed in the input'))]);
    if (!/^[\x21-\x7e]*$/.test(e.letters)) throw new UsageError(`recipe ${this.recipe.family} (mode ${mode}): letters must be printable ASCII`);
    const table = new Int32Array(128).fill(NOT_A_LETTER);
    const folded: string[] = [], lookedUp: string[] = [];
    for (let c = 0; c < 128; c++) {
      let ch = String.fromCharCode(c);
      if (e.case === 'upper' && c >= 97 && c <= 122) ch = ch.toUpperCase();
      if (e.case === 'lower' && c >= 65 && c <= 90) ch = ch.toLowerCase();
      folded[c] = ch;
      if (/\s/.test(ch)) {
        table[c] = SPACE;
        continue;
      }
      if (!e.letters.includes(ch)) continue;
      const asToken = e.asToken?.[ch];
      if (asToken !== undefined) {
        table[c] = this.need(asToken, role(`the token for ${ch}`));
        continue;
      }
      const letter = e.replace?.[ch] ?? ch;
      const piece = e.piece === 'sentencepiece' ? '\u2581' + letter : letter;
      lookedUp[c] = piece;
      table[c] = this.vocabulary.id(piece) ?? NO_PIECE;
    }
    const literalStarts = new Set(literals.map(([t]) => t.charCodeAt(0)));
    return { before, after, table, folded, lookedUp, literals, literalStarts, describe: e.describe };
  }

  /**
   * Specials before, one token per residue, specials after. Whitespace anywhere is dropped;
   * letters are case-folded (ASCII only) and mapped as the recipe says. A character that is not
   * a letter of the mode, or a letter without a vocabulary entry, is a SequenceError naming
   * `name`, the 1-based residue position (whitespace not counted) and the character.
   */
  encode(sequence: string, name = 'sequence', mode: string = this.modes[0]): Encoded {
    const m = this.compiled.get(mode);
    if (!m) throw new UsageError(`${this.recipe.family}: no input mode ${JSON.stringify(mode)} (modes: ${this.modes.join(', ')})`);
    const nb = m.before.length;
    const ids = new Uint32Array(nb + sequence.length + m.after.length);
    ids.set(m.before);
    let n = nb;
    for (let i = 0; i < sequence.length; ) {
      const c = sequence.charCodeAt(i);
      if (m.literalStarts.has(c)) {
        const lit = m.literals.find(([t]) => sequence.startsWith(t, i));
        if (lit) {
          ids[n++] = lit[1];
          i += lit[0].length;
          continue;
        }
      }
      if (c < 128) {
        const v = m.table[c];
        if (v >= 0) {
          ids[n++] = v;
          i++;
          continue;
        }
        if (v === SPACE) {
          i++;
          continue;
        }
        const ch = m.folded[c];
        if (v === NO_PIECE) {
          throw new SequenceError(`${name}: residue ${n - nb + 1} is '${ch}', which has no token in ${this.vocabulary.source} (looked up as '${m.lookedUp[c]}')`, {
            record: name,
            position: n - nb + 1,
            char: ch,
          });
        }
        this.notALetter(name, n - nb + 1, ch, m);
      }
      const ch = String.fromCodePoint(sequence.codePointAt(i)!);
      if (/\s/.test(ch)) {
        i += ch.length;
        continue;
      }
      this.notALetter(name, n - nb + 1, ch, m);
    }
    if (n === nb) throw new SequenceError(`${name}: the sequence is empty`, { record: name });
    ids.set(m.after, n);
    return { ids: ids.slice(0, n + m.after.length), residueStart: nb, residueCount: n - nb };
  }

  private notALetter(name: string, position: number, ch: string, m: Compiled): never {
    const shown = /^[\x21-\x7e]$/.test(ch) ? `'${ch}'` : `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new SequenceError(`${name}: residue ${position} is ${shown}, not ${m.describe}`, { record: name, position, char: ch });
  }
}

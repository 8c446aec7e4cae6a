// The ProtT5 tokenizer: one token per residue, then </s>. Vocabulary of Rostlab's spiece model:
// <pad> 0, </s> 1, <unk> 2, then A L G V S R E D T I P K F Q N Y M H W C X B O U Z as 3..27.
import { SequenceError } from '../errors.js';

export const PAD_ID = 0;
export const EOS_ID = 1;
const LETTERS = 'ALGVSREDTIPKFQNYMHWCXBOUZ';
const ID = new Map<string, number>([...LETTERS].map((c, i) => [c, i + 3]));
/** ProtTrans maps the rare amino acids to X before tokenising. */
const RARE = /[UZOB]/g;

/**
 * Upper-cases, drops whitespace, maps U Z O B to X, and returns the token ids with </s>
 * appended. A letter outside the alphabet is a SequenceError naming `name` and the 1-based position.
 */
export function tokenize(sequence: string, name = 'sequence'): Uint32Array {
  // ASCII-only upper-casing: String#toUpperCase would turn 'ß' into 'SS' and 'ı' into 'I'.
  const clean = sequence.replace(/\s+/g, '').replace(/[a-z]+/g, (s) => s.toUpperCase()).replace(RARE, 'X');
  if (clean.length === 0) throw new SequenceError(`${name}: the sequence is empty`, { record: name });
  const ids = new Uint32Array(clean.length + 1);
  for (let i = 0; i < clean.length; i++) {
    const id = ID.get(clean[i]);
    if (id === undefined) {
      // Report the position in the caller's string, counting residues (whitespace skipped).
      const ch = String.fromCodePoint(clean.codePointAt(i)!);
      const shown = /[\x21-\x7e]/.test(ch) ? `'${ch}'` : `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      throw new SequenceError(`${name}: residue ${i + 1} is ${shown}, not an amino-acid letter (ACDEFGHIKLMNPQRSTVWY, X, U, Z, O, B)`, {
        record: name,
        position: i + 1,
        char: ch,
      });
    }
    ids[i] = id;
  }
  ids[clean.length] = EOS_ID;
  return ids;
}

// A tokenizer that refuses sequences longer than a model's position table, naming the record:
// for families with learned absolute positions (BERT, ELECTRA, ALBERT), where a longer input
// would read past the table.
import { SequenceError } from '../errors.js';
import type { SequenceTokenizer } from './family.js';

export function limitTokens(tok: SequenceTokenizer, maxTokens: number, why: string): SequenceTokenizer {
  return {
    padId: tok.padId,
    padSide: tok.padSide,
    encode(sequence, name) {
      const t = tok.encode(sequence, name);
      if (t.ids.length > maxTokens) {
        const specials = t.ids.length - t.residueCount;
        throw new SequenceError(
          `${name}: ${t.residueCount} residues make ${t.ids.length} tokens (with ${specials} special), more than the ${maxTokens} ${why}`,
          { record: name, tokens: t.ids.length, max: maxTokens },
        );
      }
      return t;
    },
  };
}

// The BERT family (ProtBert, ProtBert-BFD): BertForMaskedLM checkpoints, bert.* (cls.* ignored).
import { PROTBERT } from '../../tokenizers/recipe.js';
import { bertStyleFamily } from './family.js';

export const bert = bertStyleFamily('bert', {
  modelTypes: ['bert'],
  architectures: ['BertForMaskedLM', 'BertModel', 'BertForPreTraining'],
  recipe: PROTBERT,
  title: 'a BERT encoder',
});

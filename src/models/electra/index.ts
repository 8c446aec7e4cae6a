// The ELECTRA family (ProtElectra discriminator): ElectraForPreTraining checkpoints, electra.*;
// the BERT encoder with embeddings embedding_size wide, then embeddings_project to hidden_size
// (src/models/bert/ computes both).
import { PROTELECTRA } from '../../tokenizers/recipe.js';
import { bertStyleFamily } from '../bert/family.js';

export const electra = bertStyleFamily('electra', {
  modelTypes: ['electra'],
  architectures: ['ElectraForPreTraining', 'ElectraModel', 'ElectraForMaskedLM'],
  recipe: PROTELECTRA,
  title: 'an ELECTRA encoder',
});

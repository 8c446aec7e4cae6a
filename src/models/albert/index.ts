// The ALBERT family (ProtAlbert): AlbertForMaskedLM checkpoints, albert.* (predictions.* ignored);
// factorised embedding (embedding_hidden_mapping_in), one shared layer group applied
// num_hidden_layers times, uploaded once (src/models/bert/ computes it).
import { PROTALBERT } from '../../tokenizers/recipe.js';
import { bertStyleFamily } from '../bert/family.js';

export const albert = bertStyleFamily('albert', {
  modelTypes: ['albert'],
  // The published ProtAlbert config.json has no model_type: its architectures pick the family.
  architectures: ['AlbertForMaskedLM', 'AlbertModel', 'AlbertForPreTraining'],
  recipe: PROTALBERT,
  title: 'an ALBERT encoder',
});

// A model folder to a family and its named tensors: config.json picks the family (the
// registry) and is parsed by it; the folder's weights (weights/model-folder.ts) are bound to
// the family's schema by name and shape. Tensors the family ignores (a decoder) are never read.
import { ConfigError } from '../errors.js';
import { CONFIG_FILE, openFolderWeights, readJsonFile } from '../../weights/model-folder.js';
import type { ModelFiles } from '../../weights/source.js';
import type { Checkpoint } from './family.js';
import { familyFor } from './registry.js';
import { bindTensors } from './schema.js';

/** Opens a model folder. `C` is the config type the caller expects (unchecked: a typing aid). */
export async function openCheckpoint<C = unknown>(files: ModelFiles): Promise<Checkpoint<C>> {
  const file = `${files.name}/${CONFIG_FILE}`;
  const raw = await readJsonFile(files, CONFIG_FILE);
  if (raw === null) {
    const why = files.whyMissing?.(CONFIG_FILE);
    throw new ConfigError(`${files.name}: no config.json in the model folder${why ? ` (${why})` : ''}`, { file });
  }
  const family = familyFor(raw, file);
  const config = family.parseConfig(raw, file);
  const weights = await openFolderWeights(files);
  try {
    const tensors = bindTensors(weights, family.names, family.shapes(config), family.describe(config), files.name);
    return { family, config, tensors, files: weights.files, metadata: weights.metadata, close: weights.close } as Checkpoint<C>;
  } catch (e) {
    await weights.close();
    throw e;
  }
}

// The public names both entry points (src/node.ts, src/browser.ts) export: one list, so the two
// cannot drift. Each entry adds only its own platform's runtime, files, tune store, loadProtT5
// (and, in Node, demoModel and the hub download); test/exports.test.ts compares the two.
export * from './errors.js';
export { EmbeddingModel, ProtT5Model } from './embed/model.js';
export type { EmbedOptions, EmbedProgress, Embedding, EmbeddingFor, EmbeddingTensor, ExactEmbedOptions, SequenceInput, LoadOptions } from './embed/model.js';
export type { Family, Encoder, Checkpoint, LoadProgress, DownloadPhase, UploadPhase, TuningPhase, CompilingPhase, NonFiniteWeights, SequenceTokenizer, Tokenized, TensorNames } from './models/family.js';
export { registerFamily, registeredFamilies } from './models/registry.js';
export { openCheckpoint } from './models/checkpoint.js';
export type { T5Config } from './models/t5/config.js';
export { PROT_T5_XL, parseT5Config } from './models/t5/config.js';
export type { Head, HeadSpec, HeadLoadOptions, BatchRows, OutputKind } from './heads/head.js';
export { registerHead, registeredHeads } from './heads/registry.js';
export { outputKinds } from './embed/outputs.js';
export { tokenize } from './tokenizers/prott5.js';
export { PROTTRANS_LIMITS, planBatches, type BatchLimits } from './embed/batching.js';
export { Runtime } from './gpu/runtime.js';
export { Tensor } from './gpu/tensor.js';
export { Autotuner, MemoryTuneStore, type TuneStore, type TuneEvent } from './gpu/tuner.js';
export { parseFasta, readFasta, type FastaRecord } from './embed/fasta.js';
export { encodeSafetensors, readSafetensors } from '../weights/safetensors.js';
export { MemorySource, type ByteSource, type ModelFiles } from '../weights/source.js';
export { predictFromEmbeddings, type Prediction, type OutputPrediction, type PredictionTensor, type EmbeddingRecord } from './embed/predict.js';
export type { PredictingHeadSpec, HeadOutput } from './heads/prediction.js';
export { tmbedString, viterbi as tmbedViterbi } from './heads/tmbed/viterbi.js';

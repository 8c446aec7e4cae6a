// The tuner moved to src/gpu/tuner.ts (generic) and each op's candidates to kernels/<op>.ts.
// Kept only for importers not yet switched: src/embed/model.ts, src/models/family.ts.
export { Autotuner, MemoryTuneStore, type TuneStore } from './tuner.js';

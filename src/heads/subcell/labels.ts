// Subcellular localization classes in index order (bio_embeddings' Location values), shared by
// the paper's FNN (subcell) and light attention (la).
export const LOCATIONS = [
  'Cell-Membrane', 'Cytoplasm', 'Endoplasmic reticulum', 'Golgi - Apparatus', 'Lysosome / Vacuole',
  'Mitochondrion', 'Nucleus', 'Peroxisome', 'Plastid', 'Extra - cellular',
] as const;

// Tokenizer files shipped with the package, for folders that carry none (see recipe.ts fallback).
/// <reference path="./binary.d.ts" />
import prott5Spiece from './prott5-spiece.model';

/**
 * A spiece.model with ProtT5's 28 pieces in ProtT5's order (<pad> </s> <unk> ▁A ▁L ▁G ...), the
 * families fixture's prostt5/spiece.model (tools/make_hf_fixtures.py; its scores are made up,
 * ids are what matters) with normalizer_spec.precompiled_charsmap removed (237 kB; ASCII letters
 * normalise to themselves). examples/demo-model/spiece.model is the same file, charsmap kept.
 */
export const PROTT5_SPIECE_MODEL: Uint8Array = prott5Spiece;

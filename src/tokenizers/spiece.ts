// spiece.model: SentencePiece's ModelProto, read from the protobuf wire format. Only
// `repeated SentencePiece pieces = 1` is kept; every other field (trainer_spec 2,
// normalizer_spec 3 with its ~237 kB precompiled_charsmap, ...) is skipped by wire type.
// SentencePiece { 1: piece (string), 2: score (float), 3: type (enum) }; id = index of the piece.
import { TokenizerError } from '../errors.js';
import { decodeUtf8, Vocabulary } from './vocabulary.js';

/** SentencePiece.Type. */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface SentencePiece {
  piece: string;
  score: number;
  /** A PieceType value; NORMAL when the field is absent (the proto default). */
  type: number;
}

const WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5;

/** A cursor over one message's bytes [pos, end). Every read checks the bounds. */
class Wire {
  constructor(private readonly bytes: Uint8Array, public pos: number, readonly end: number, private readonly file: string) {}

  fail(what: string): never {
    throw new TokenizerError(`${this.file}: not a valid SentencePiece model: ${what} at byte ${this.pos}`, { file: this.file, offset: this.pos });
  }

  /** An unsigned varint of at most 10 bytes, as a number (exact up to 2^53). */
  varint(): number {
    let v = 0, mul = 1;
    for (let k = 0; k < 10; k++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.bytes[this.pos++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    this.fail('varint longer than 10 bytes');
  }

  /** The [start, end) of a length-delimited field's payload; moves past it. */
  span(): [number, number] {
    const n = this.varint();
    if (n > this.end - this.pos) this.fail(`field of ${n} bytes runs past the end (${this.end - this.pos} left)`);
    const start = this.pos;
    this.pos += n;
    return [start, this.pos];
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_LEN) this.span();
    else if (wire === WIRE_I64 || wire === WIRE_I32) {
      const n = wire === WIRE_I64 ? 8 : 4;
      if (n > this.end - this.pos) this.fail('truncated fixed-width field');
      this.pos += n;
    } else this.fail(`wire type ${wire} (groups are not used by SentencePiece)`);
  }

  /** The next field's [number, wire type]. */
  key(): [number, number] {
    const k = this.varint();
    const field = Math.floor(k / 8);
    if (field === 0) this.fail('field number 0');
    return [field, k % 8];
  }
}

function readPiece(bytes: Uint8Array, start: number, end: number, index: number, file: string): SentencePiece {
  const m: Wire = new Wire(bytes, start, end, file);
  let piece: string | undefined;
  let score = 0, type: number = PieceType.NORMAL;
  while (m.pos < m.end) {
    const [field, wire] = m.key();
    if (field === 1) {
      if (wire !== WIRE_LEN) m.fail(`piece ${index}: field 1 (piece) has wire type ${wire}, not 2`);
      const [a, b] = m.span();
      piece = decodeUtf8(bytes.subarray(a, b), file, `piece ${index}`);
    } else if (field === 2) {
      if (wire !== WIRE_I32) m.fail(`piece ${index}: field 2 (score) has wire type ${wire}, not 5`);
      if (m.end - m.pos < 4) m.fail(`piece ${index}: truncated score`);
      score = new DataView(bytes.buffer, bytes.byteOffset + m.pos, 4).getFloat32(0, true);
      m.pos += 4;
    } else if (field === 3) {
      if (wire !== WIRE_VARINT) m.fail(`piece ${index}: field 3 (type) has wire type ${wire}, not 0`);
      type = m.varint();
      if (type < 1 || type > 6) m.fail(`piece ${index}: type ${type} is not a SentencePiece.Type (1..6)`);
    } else m.skip(wire);
  }
  if (piece === undefined || piece === '') m.fail(`piece ${index} has no text`);
  return { piece, score, type };
}

/** The pieces of a spiece.model, in id order. A TokenizerError naming `file` for any malformed input. */
export function parseSentencePieceModel(bytes: Uint8Array, file: string): SentencePiece[] {
  const w: Wire = new Wire(bytes, 0, bytes.byteLength, file);
  const pieces: SentencePiece[] = [];
  while (w.pos < w.end) {
    const [field, wire] = w.key();
    if (field === 1) {
      if (wire !== WIRE_LEN) w.fail(`field 1 (pieces) has wire type ${wire}, not 2`);
      const [a, b] = w.span();
      pieces.push(readPiece(bytes, a, b, pieces.length, file));
    } else w.skip(wire);
  }
  if (pieces.length === 0) throw new TokenizerError(`${file}: not a valid SentencePiece model: it has no pieces`, { file });
  return pieces;
}

/** A Vocabulary with piece i at id i; a piece defined twice is a TokenizerError (as in SentencePiece). */
export function readSentencePieceVocabulary(bytes: Uint8Array, file: string): Vocabulary {
  const vocab = new Vocabulary(file);
  parseSentencePieceModel(bytes, file).forEach((p, i) => vocab.add(p.piece, i, file, `piece ${i}`));
  return vocab;
}

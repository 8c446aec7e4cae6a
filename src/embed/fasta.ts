/**
 * FASTA parsing for real-world protein files.
 *
 * One character-level state machine (FastaMachine) fed with line fragments by a line splitter
 * (LineSplitter) serves both the whole-string parser (parseFasta) and the streaming one
 * (readFasta), so they accept, reject and number lines identically however the input is chunked.
 *
 * Accepted quirks: UTF-8 BOM, `\r\n` / `\r` / `\n` line ends, blank lines, whitespace inside
 * sequence lines, gap characters `-` and `.`, lower case (upper-cased), one trailing `*` (stop) at
 * the end of a record, sequences wrapped over many lines or one line per protein, whitespace
 * before the `>`. Everything else is a SequenceError naming file, record, line and column.
 *
 * Memory is bounded: a header line is limited (binary junk with a stray `>` cannot grow a buffer
 * without bound), sequence lines are validated and consumed as they stream (any line length),
 * and a record's residue count is limited (a whole-genome nucleotide file is not a protein).
 */
import { SequenceError } from '../errors.js';

export interface FastaRecord {
  /** First whitespace-delimited word of the header. */
  id: string;
  /** The full header text without `>`, trimmed. */
  header: string;
  /** Upper-case residues, gaps/whitespace/trailing stop removed. */
  sequence: string;
  /** 1-based line number of the header. */
  line: number;
}

export interface FastaOptions {
  /** Longest header line accepted, in characters (default FASTA_MAX_HEADER_CHARS = 1 MiB). */
  maxHeaderLength?: number;
  /** Most residues accepted in one record (default FASTA_MAX_RECORD_RESIDUES = 64 Mi). */
  maxSequenceLength?: number;
}

export const FASTA_MAX_HEADER_CHARS = 1 << 20;
export const FASTA_MAX_RECORD_RESIDUES = 1 << 26;

/** The residue letters a record may contain: the 20 standard amino acids plus X U Z O B. */
export const FASTA_RESIDUES = 'ACDEFGHIKLMNPQRSTVWYXUZOB';

// Character classes for codes < 128.
const C_INVALID = 0, C_RESIDUE = 1, C_SKIP = 2, C_STOP = 3;
const CLASS = new Uint8Array(128);
for (const ch of FASTA_RESIDUES) {
  CLASS[ch.charCodeAt(0)] = C_RESIDUE;
  CLASS[ch.toLowerCase().charCodeAt(0)] = C_RESIDUE;
}
for (const ch of ' \t\v\f-.') CLASS[ch.charCodeAt(0)] = C_SKIP;
CLASS['*'.charCodeAt(0)] = C_STOP;

const WS = /\s/;

/** `'J' (U+004A)` for printable ASCII, `U+0000` for anything else (controls, non-ASCII). */
export function describeChar(codePoint: number): string {
  const hex = 'U+' + codePoint.toString(16).toUpperCase().padStart(4, '0');
  return codePoint > 0x20 && codePoint < 0x7f ? `'${String.fromCharCode(codePoint)}' (${hex})` : hex;
}

/** A record id quoted for a message: JSON-escaped and shortened. */
function quoteId(id: string): string {
  return JSON.stringify(id.length > 80 ? id.slice(0, 80) + '…' : id);
}

interface Position { line: number; column: number }

type LineKind = 'start' | 'header' | 'sequence';

/** The line-level state machine. Feed it line fragments and line ends; finished records go to `out`. */
class FastaMachine {
  private readonly maxHeader: number;
  private readonly maxResidues: number;
  private readonly seen = new Map<string, number>();

  // current line
  private lineNo = 1;
  private col = 0; // UTF-16 units of the current line consumed so far
  private kind: LineKind = 'start';
  private headerParts: string[] = [];
  private headerLen = 0;
  private headerCol = 0; // column of '>'

  // current record
  private recId: string | null = null;
  private recHeader = '';
  private recLine = 0;
  private pieces: string[] = [];
  private residues = 0;
  private stop: Position | null = null;

  /** Finished records are appended here. */
  constructor(private readonly file: string, options: FastaOptions, private readonly out: FastaRecord[]) {
    this.maxHeader = options.maxHeaderLength ?? FASTA_MAX_HEADER_CHARS;
    this.maxResidues = options.maxSequenceLength ?? FASTA_MAX_RECORD_RESIDUES;
  }

  /**
   * Throws `<file>:<line>[:<column>]: <message>[ in record "<id>"]`. `record` defaults to the
   * record being read; `inRecord: false` leaves the suffix off where the message names it already.
   */
  private fail(reason: string, message: string, line: number, column: number | null,
    { record = this.recId, inRecord = true, extra = {} }: { record?: string | null; inRecord?: boolean; extra?: Record<string, unknown> } = {}): never {
    const where = `${this.file}:${line}${column === null ? '' : `:${column}`}`;
    const rec = record === null || !inRecord ? '' : ` in record ${quoteId(record)}`;
    throw new SequenceError(`${where}: ${message}${rec}`, { file: this.file, record, line, column, reason, ...extra });
  }

  /** Consume part of the current line (no line terminators inside). */
  fragment(s: string): void {
    let i = 0;
    const n = s.length;
    if (this.kind === 'start') {
      // Leading whitespace decides nothing yet.
      while (i < n && WS.test(s[i])) i++;
      if (i === n) { this.col += n; return; }
      if (s.charCodeAt(i) === 62 /* > */) {
        this.startHeader(this.col + i + 1);
        this.kind = 'header';
        this.col += i + 1;
        s = s.slice(i + 1);
        i = 0;
      } else {
        if (this.recId === null) {
          this.fail('before-header', `sequence text before the first '>' header (found ${describeChar(s.codePointAt(i)!)})`, this.lineNo, this.col + i + 1);
        }
        this.kind = 'sequence';
        // whitespace before i is skipped anyway
      }
    }
    if (this.kind === 'header') this.headerFragment(s);
    else this.sequenceFragment(s, i);
  }

  private startHeader(column: number): void {
    // A new header ends the previous record: check it is not empty before anything else.
    this.closeRecord();
    this.headerParts = [];
    this.headerLen = 0;
    this.headerCol = column;
  }

  private headerFragment(s: string): void {
    // Character by character, so the first offending character decides (a control character, or
    // the first one over the length limit) however the line was split into chunks.
    for (let i = 0; i < s.length; i++) {
      if (this.headerLen + i >= this.maxHeader) {
        this.fail('header-too-long', `header line longer than ${this.maxHeader} characters (binary data?)`, this.lineNo, null, { record: null });
      }
      const c = s.charCodeAt(i);
      if ((c < 0x20 && c !== 9 && c !== 11 && c !== 12) || c === 0x7f) {
        this.fail('invalid-header', `control character ${describeChar(c)} in a header line (binary data?)`, this.lineNo, this.col + i + 1, { record: null, extra: { char: describeChar(c) } });
      }
    }
    this.headerLen += s.length;
    this.headerParts.push(s);
    this.col += s.length;
  }

  private sequenceFragment(s: string, from: number): void {
    const n = s.length;
    let runStart = from;
    for (let i = from; i < n; i++) {
      const c = s.charCodeAt(i);
      const cls = c < 128 ? CLASS[c] : WS.test(s[i]) ? C_SKIP : C_INVALID;
      if (cls === C_RESIDUE) {
        if (this.stop !== null) {
          const st = this.stop;
          this.fail('stop-codon', `'*' (stop) before the end of the sequence`, st.line, st.column, { extra: { char: describeChar(42) } });
        }
        continue;
      }
      if (i > runStart) this.pushRun(s.slice(runStart, i), i);
      runStart = i + 1;
      if (cls === C_SKIP) continue;
      if (cls === C_STOP) {
        if (this.stop !== null) {
          this.fail('stop-codon', `second '*' (stop) in the sequence`, this.lineNo, this.col + i + 1, { extra: { char: describeChar(42) } });
        }
        this.stop = { line: this.lineNo, column: this.col + i + 1 };
        continue;
      }
      const cp = s.codePointAt(i)!;
      this.fail('invalid-character', `invalid character ${describeChar(cp)} (residues are ${FASTA_RESIDUES}; gaps '-' '.' and a final '*' are dropped)`,
        this.lineNo, this.col + i + 1, { extra: { char: describeChar(cp) } });
    }
    if (n > runStart) this.pushRun(runStart === 0 ? s : s.slice(runStart), n);
    this.col += n;
  }

  private pushRun(run: string, endIndex: number): void {
    const before = this.residues;
    this.residues += run.length;
    if (this.residues > this.maxResidues) {
      // The column of the first residue over the limit (not the end of the run, which depends on
      // where the input was split into chunks).
      const column = this.col + endIndex - run.length + (this.maxResidues - before) + 1;
      this.fail('sequence-too-long', `sequence longer than ${this.maxResidues} residues (a nucleotide or concatenated file?)`, this.lineNo, column);
    }
    this.pieces.push(run);
  }

  /** The current line ended. */
  endLine(): void {
    if (this.kind === 'header') this.finishHeader();
    this.lineNo++;
    this.col = 0;
    this.kind = 'start';
  }

  private closeRecord(): void {
    if (this.recId === null) return;
    if (this.residues === 0) {
      this.fail('empty-record', `empty record: no residues after the header of record ${quoteId(this.recId)} (line ${this.recLine})`, this.recLine, null, { inRecord: false });
    }
    this.out.push({ id: this.recId, header: this.recHeader, sequence: this.pieces.join('').toUpperCase(), line: this.recLine });
    this.recId = null;
    this.pieces = [];
    this.residues = 0;
    this.stop = null;
  }

  private finishHeader(): void {
    const header = this.headerParts.join('').trim();
    this.headerParts = [];
    if (header.length === 0) {
      this.fail('empty-id', `header with no id ('>' alone)`, this.lineNo, this.headerCol, { record: null });
    }
    const id = header.split(/\s/, 1)[0];
    const first = this.seen.get(id);
    if (first !== undefined) {
      this.fail('duplicate-id', `duplicate id ${quoteId(id)}: first at line ${first}, again at line ${this.lineNo}`, this.lineNo, this.headerCol,
        { record: id, inRecord: false, extra: { firstLine: first } });
    }
    this.seen.set(id, this.lineNo);
    this.recId = id;
    this.recHeader = header;
    this.recLine = this.lineNo;
  }

  /** End of input: closes an unterminated last line and the last record. */
  end(): void {
    if (this.kind !== 'start' || this.col > 0) this.endLine();
    this.closeRecord();
  }
}

/** Splits chunks into line fragments and line ends (`\n`, `\r\n`, `\r`), chunk boundaries anywhere. */
class LineSplitter {
  private skipLF = false;
  private atStart = true;
  constructor(private readonly machine: FastaMachine) {}

  push(s: string): void {
    let i = 0;
    const n = s.length;
    if (n === 0) return;
    if (this.atStart) {
      this.atStart = false;
      if (s.charCodeAt(0) === 0xfeff) i = 1;
    }
    if (this.skipLF) {
      this.skipLF = false;
      if (s.charCodeAt(i) === 10) i++;
    }
    while (i < n) {
      let j = i;
      let c = 0;
      for (; j < n; j++) {
        c = s.charCodeAt(j);
        if (c === 10 || c === 13) break;
      }
      if (j > i) this.machine.fragment(i === 0 && j === n ? s : s.slice(i, j));
      if (j === n) return;
      this.machine.endLine();
      if (c === 13) {
        if (j + 1 < n) { if (s.charCodeAt(j + 1) === 10) j++; } else this.skipLF = true;
      }
      i = j + 1;
    }
  }

  end(): void {
    this.machine.end();
  }
}

/** Parses a whole FASTA text. Throws SequenceError (with details {file, record, line, column}). */
export function parseFasta(text: string, file = '<input>', options: FastaOptions = {}): FastaRecord[] {
  const out: FastaRecord[] = [];
  const splitter = new LineSplitter(new FastaMachine(file, options, out));
  splitter.push(text);
  splitter.end();
  return out;
}

/**
 * Streams records from chunks of text or UTF-8 bytes (a file read stream, stdin). Chunks may split
 * lines, `\r\n` pairs and multi-byte characters anywhere. Records are yielded as soon as the next
 * header (or the end) shows they are complete; errors surface at the first bad character.
 */
export async function* readFasta(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  file = '<input>',
  options: FastaOptions = {},
): AsyncGenerator<FastaRecord, void, undefined> {
  const out: FastaRecord[] = [];
  const splitter = new LineSplitter(new FastaMachine(file, options, out));
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let pendingBytes = false;
  let failure: unknown = null;
  try {
    for await (const chunk of chunks) {
      if (typeof chunk === 'string') {
        if (pendingBytes) { splitter.push(decoder.decode()); pendingBytes = false; }
        splitter.push(chunk);
      } else {
        splitter.push(decoder.decode(chunk, { stream: true }));
        pendingBytes = true;
      }
      for (const rec of out.splice(0)) yield rec;
    }
    if (pendingBytes) splitter.push(decoder.decode());
    splitter.end();
  } catch (err) {
    if (!(err instanceof SequenceError)) throw err;
    failure = err; // records completed before the bad input still come out first
  }
  for (const rec of out.splice(0)) yield rec;
  if (failure !== null) throw failure;
}

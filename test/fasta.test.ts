// FASTA parser: real-world quirks, every error (class, message, details), streaming equivalence.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFasta, readFasta, type FastaRecord, type FastaOptions } from '../src/embed/fasta.js';
import { SequenceError } from '../src/errors.js';
import { rng } from './helpers.js';

/** Runs fn, asserts it throws a SequenceError whose message contains every fragment; returns it. */
function throwsSeq(fn: () => unknown, ...fragments: string[]): SequenceError {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof SequenceError)) throw new Error(`expected SequenceError, got ${String(err)}`);
    for (const f of fragments) assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
    assert.is(err.code, 'BAD_SEQUENCE');
    return err;
  }
  throw new Error(`expected a SequenceError containing ${JSON.stringify(fragments)}, nothing thrown`);
}

async function collect(chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>, file = '<input>', options: FastaOptions = {}): Promise<FastaRecord[]> {
  const out: FastaRecord[] = [];
  for await (const r of readFasta(chunks, file, options)) out.push(r);
  return out;
}

async function collectError(chunks: Iterable<string | Uint8Array>, file = '<input>'): Promise<{ records: FastaRecord[]; error: unknown }> {
  const records: FastaRecord[] = [];
  try {
    for await (const r of readFasta(chunks, file)) records.push(r);
  } catch (error) {
    return { records, error };
  }
  return { records, error: null };
}

// ---- accepted input ---------------------------------------------------------------------------

test('basic records: id, header, sequence, header line; multi-line sequences joined', () => {
  const recs = parseFasta('>sp|P12345|ABC_HUMAN Some protein OS=Homo sapiens\nMKTAYIAKQR\nQISFVKSHFS\n>tr|Q1|Q1_X\nMDE\n', 'a.fasta');
  assert.equal(recs, [
    { id: 'sp|P12345|ABC_HUMAN', header: 'sp|P12345|ABC_HUMAN Some protein OS=Homo sapiens', sequence: 'MKTAYIAKQRQISFVKSHFS', line: 1 },
    { id: 'tr|Q1|Q1_X', header: 'tr|Q1|Q1_X', sequence: 'MDE', line: 4 },
  ]);
});

test('empty input and whitespace-only input give no records', () => {
  assert.equal(parseFasta(''), []);
  assert.equal(parseFasta('\n\n  \r\n\t\n'), []);
  assert.equal(parseFasta('\uFEFF'), []);
});

test('Windows \\r\\n, old Mac \\r, and mixed line ends; line numbers count each ending once', () => {
  const want = [
    { id: 'a', header: 'a x', sequence: 'ACDEFG', line: 1 },
    { id: 'b', header: 'b', sequence: 'KLM', line: 4 },
  ];
  assert.equal(parseFasta('>a x\r\nACD\r\nEFG\r\n>b\r\nKLM\r\n'), want);
  assert.equal(parseFasta('>a x\rACD\rEFG\r>b\rKLM\r'), want);
  assert.equal(parseFasta('>a x\nACD\r\nEFG\r>b\nKLM'), want);
  // \n\r is two line ends (LF then CR), so b moves down a line
  assert.equal(parseFasta('>a x\n\rACD\nEFG\n>b\nKLM')[1].line, 5);
});

test('blank and whitespace-only lines are ignored anywhere', () => {
  const recs = parseFasta('\n\n   \n>a\n\nAC\n \t \nDE\n\n\n>b\n\nW\n\n');
  assert.equal(recs.map((r) => [r.id, r.sequence, r.line]), [['a', 'ACDE', 4], ['b', 'W', 11]]);
});

test('no final newline', () => {
  assert.equal(parseFasta('>a\nACD').map((r) => r.sequence), ['ACD']);
  assert.equal(parseFasta('>a\r\nACD\r').map((r) => r.sequence), ['ACD']);
});

test('whitespace inside sequence lines (spaces, tabs, numbered-block style without digits) is dropped', () => {
  assert.is(parseFasta('>a\n  MKT AYI\tAKQ  \n\tRQI SFV \n')[0].sequence, 'MKTAYIAKQRQISFV');
  assert.is(parseFasta('>a\nMKT\u00a0AYI\n')[0].sequence, 'MKTAYI'); // NBSP counts as whitespace
});

test('a trailing * (stop) is removed, also before blank lines, gaps, whitespace or the next record', () => {
  assert.is(parseFasta('>a\nMKT*\n')[0].sequence, 'MKT');
  assert.is(parseFasta('>a\nMKT\n*\n\n')[0].sequence, 'MKT');
  assert.is(parseFasta('>a\nMKT* -- \n')[0].sequence, 'MKT');
  const recs = parseFasta('>a\nMK*\n>b\nWW*');
  assert.equal(recs.map((r) => r.sequence), ['MK', 'WW']);
});

test('gap characters - and . are removed', () => {
  assert.is(parseFasta('>a\n--MK-T..AY-\n.I.\n')[0].sequence, 'MKTAYI');
});

test('lower case accepted and upper-cased; X U Z O B kept', () => {
  assert.is(parseFasta('>a\nmktAyi\nxuzob\n')[0].sequence, 'MKTAYIXUZOB');
  assert.is(parseFasta('>a\nACDEFGHIKLMNPQRSTVWYXUZOB')[0].sequence, 'ACDEFGHIKLMNPQRSTVWYXUZOB');
});

test('UTF-8 BOM at the start is ignored (string and bytes)', async () => {
  const text = '\uFEFF>a desc\nMKT\n';
  assert.equal(parseFasta(text), [{ id: 'a', header: 'a desc', sequence: 'MKT', line: 1 }]);
  const bytes = new TextEncoder().encode(text);
  assert.is(bytes[0], 0xef);
  assert.equal(await collect([bytes]), parseFasta(text));
  // split inside the BOM's three bytes
  assert.equal(await collect([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2)]), parseFasta(text));
});

test('header: trimmed, id is the first word, whitespace after > and before > tolerated', () => {
  const recs = parseFasta('>  sp|P1|X   two  words \t\nMK\n  >b\tdesc\nW\n');
  assert.equal(recs.map((r) => [r.id, r.header]), [['sp|P1|X', 'sp|P1|X   two  words'], ['b', 'b\tdesc']]);
  // '>' inside a header and unicode in a header are kept
  assert.is(parseFasta('>x a>b µ-crystallin\nMK')[0].header, 'x a>b µ-crystallin');
});

test('long sequence lines: one line per protein (100k and 300k residues)', () => {
  const r = rng(7);
  const letters = 'ACDEFGHIKLMNPQRSTVWY';
  for (const n of [100_000, 300_000]) {
    let seq = '';
    for (let i = 0; i < n; i++) seq += letters[Math.floor(r() * 20)];
    const recs = parseFasta(`>big\n${seq}\n>small\nMK\n`);
    assert.is(recs[0].sequence.length, n);
    assert.is(recs[0].sequence, seq);
    assert.is(recs[1].line, 3);
  }
});

test('many records (a small proteome) in order', () => {
  const parts: string[] = [];
  for (let i = 0; i < 2000; i++) parts.push(`>p${i} protein ${i}\n${'MKTAYIAKQR'.repeat(1 + (i % 7))}\n`);
  const recs = parseFasta(parts.join(''));
  assert.is(recs.length, 2000);
  assert.is(recs[1999].id, 'p1999');
  assert.is(recs[1999].line, 3999);
  assert.is(recs[6].sequence.length, 70);
});

// ---- errors -----------------------------------------------------------------------------------

test('invalid characters: digits, J, punctuation — file, record, line, column, character', () => {
  let e = throwsSeq(() => parseFasta('>a\nMKT\nAY1I\n', 'x.fa'), 'x.fa:3:3', '"a"', "'1' (U+0031)");
  assert.equal(e.context, { file: 'x.fa', record: 'a', line: 3, column: 3, reason: 'invalid-character', char: "'1' (U+0031)" });
  e = throwsSeq(() => parseFasta('>ok\nMK\n>sp|Q9|J\nACDJ\n', 'y.fa'), 'y.fa:4:4', '"sp|Q9|J"', "'J' (U+004A)");
  assert.is(e.context.record, 'sp|Q9|J');
  throwsSeq(() => parseFasta('>a\nMK  T#\n'), '<input>:2:6', "'#'");
  // numbered GenBank-style lines are not FASTA
  throwsSeq(() => parseFasta('>a\n1 mktayi\n'), ':2:1', "'1'");
});

test('a * in the middle of a sequence (same line and across lines) names the * position', () => {
  let e = throwsSeq(() => parseFasta('>a\nMK*TA\n'), '<input>:2:3', "'*'", 'before the end', '"a"');
  assert.is(e.context.column, 3);
  e = throwsSeq(() => parseFasta('>a\nMKT*\n\nAYI\n'), '<input>:2:4', "'*'");
  assert.is(e.context.line, 2);
  throwsSeq(() => parseFasta('>a\nMKT**\n'), '<input>:2:5', 'second');
});

test('NUL bytes and control characters are printed safely as U+XXXX', () => {
  const e = throwsSeq(() => parseFasta('>a\nMK\u0000T\n', 'n.fa'), 'n.fa:2:3', 'U+0000');
  assert.not.ok(e.message.includes('\u0000'), 'raw NUL in message');
  throwsSeq(() => parseFasta('>a\nMK\u0007\n'), 'U+0007');
  throwsSeq(() => parseFasta('>a\nMKé\n'), 'U+00E9', ':2:3');
  const e2 = throwsSeq(() => parseFasta('>a\nMK\u{1F600}\n'), 'U+1F600');
  assert.not.ok(/[\u{1F600}]/u.test(e2.message));
  // U+FEFF counts as whitespace (JS \s), so files concatenated with `cat` that each start with a BOM work
  assert.equal(parseFasta('\uFEFF>a\nMK\n\uFEFF>b\nW\n').map((r) => r.id), ['a', 'b']);
});

test('binary junk in a header: control characters rejected with line and column', () => {
  const e = throwsSeq(() => parseFasta('>a\nMK\n>b\u0000\u0001junk\nMK\n', 'bin'), 'bin:3:3', 'U+0000', 'control character');
  assert.is(e.context.line, 3);
  assert.is(e.context.record, null);
});

test('binary junk as bytes (streamed) fails at the first bad character', async () => {
  const r = rng(3);
  const junk = new Uint8Array(4096);
  for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(r() * 256);
  junk[0] = 0x00; // not a header
  const { error } = await collectError([junk], 'junk.bin');
  assert.ok(error instanceof SequenceError);
  assert.match((error as Error).message, /junk\.bin:1:1: sequence text before the first '>' header \(found U\+0000\)/);
  // junk after a valid record
  const head = new TextEncoder().encode('>a\nMKT\n');
  const both = new Uint8Array(head.length + 16);
  both.set(head);
  both.set([0x4d, 0x4b, 0xff, 0xfe, 0, 1, 2, 3], head.length); // "MK" then invalid UTF-8 → U+FFFD
  const res = await collectError([both], 'j2');
  assert.ok(res.error instanceof SequenceError);
  assert.match((res.error as Error).message, /j2:3:3: invalid character U\+FFFD/);
});

test('sequence text before any header names the line (after blank lines)', () => {
  let e = throwsSeq(() => parseFasta('\n\nMKT\n>a\nMK\n', 'f.fa'), 'f.fa:3:1', 'before the first', "'M'");
  assert.equal(e.context, { file: 'f.fa', record: null, line: 3, column: 1, reason: 'before-header' });
  e = throwsSeq(() => parseFasta('   xyz'), '<input>:1:4');
  assert.is(e.context.column, 4);
});

test('a header with no id: > alone, > followed by whitespace', () => {
  let e = throwsSeq(() => parseFasta('>a\nMK\n>\nMK\n', 'h.fa'), 'h.fa:3:1', 'no id');
  assert.is(e.context.line, 3);
  e = throwsSeq(() => parseFasta('>   \t\nMK\n'), '<input>:1:1', 'no id');
  throwsSeq(() => parseFasta('>'), 'no id');
});

test('empty records: in the middle, at the end, only a stop, only gaps', () => {
  let e = throwsSeq(() => parseFasta('>a\nMK\n>b desc\n\n>c\nMK\n', 'e.fa'), 'e.fa:3:', 'empty record', '"b"');
  assert.equal(e.context, { file: 'e.fa', record: 'b', line: 3, column: null, reason: 'empty-record' });
  e = throwsSeq(() => parseFasta('>a\nMK\n>last\n'), '<input>:3', '"last"', 'empty record');
  throwsSeq(() => parseFasta('>a\nMK\n>last'), '<input>:3', '"last"');
  throwsSeq(() => parseFasta('>s\n*\n'), '"s"', 'empty record');
  throwsSeq(() => parseFasta('>g\n---..\n'), '"g"', 'empty record');
});

test('duplicate ids name both lines', () => {
  const e = throwsSeq(() => parseFasta('>a one\nMK\n>b\nW\n>a two\nMK\n', 'd.fa'), 'd.fa:5:1', 'duplicate id "a"', 'first at line 1', 'again at line 5');
  assert.equal(e.context, { file: 'd.fa', record: 'a', line: 5, column: 1, reason: 'duplicate-id', firstLine: 1 });
  // ids compare after taking the first word, so different descriptions do not help
  throwsSeq(() => parseFasta('>x|1 a\nM\n>x|1\nM\n'), 'duplicate');
});

test('bounded: a header line over 1 MiB is an error; 1 MiB exactly is fine', () => {
  const big = 'A'.repeat(1 << 20);
  const ok = parseFasta(`>${big.slice(1)}\nMK\n`);
  assert.is(ok[0].header.length, (1 << 20) - 1);
  const e = throwsSeq(() => parseFasta(`>a\nM\n>${big}xx\nMK\n`, 'big.fa'), 'big.fa:3', 'longer than 1048576');
  assert.is(e.context.reason, 'header-too-long');
  // options lower the bounds
  throwsSeq(() => parseFasta('>abcdefghijk\nM\n', 'o', { maxHeaderLength: 8 }), 'longer than 8');
  throwsSeq(() => parseFasta('>a\nMKTAY\nIAK\n', 'o', { maxSequenceLength: 7 }), 'o:3:', 'longer than 7 residues', '"a"');
  assert.is(parseFasta('>a\nMKTAY\nIA\n', 'o', { maxSequenceLength: 7 })[0].sequence, 'MKTAYIA');
});

test('a streamed header over the bound fails before the whole line is buffered', async () => {
  let produced = 0;
  function* endless(): Generator<string> {
    yield '>junk';
    for (;;) { produced += 65536; yield 'x'.repeat(65536); }
  }
  const { error } = await collectError(endless(), 'stdin');
  assert.ok(error instanceof SequenceError);
  assert.match((error as Error).message, /stdin:1: header line longer than/);
  assert.ok(produced < (1 << 20) + 2 * 65536, `read ${produced} characters before failing`);
});

// ---- streaming --------------------------------------------------------------------------------

const AWKWARD = '\uFEFF>sp|P1|µ-crystallin OS=Homo sapiens\r\nMKT AYI-\r\nakqr*\r\n\r\n>tr|Q2|Ünï x\r' +
  'M.K\rW\n\n  >third\tlast\nMKTAYIAKQRQISFVKSHFSRQ\nZUOBX\r\n>fourth\nMK';

test('streaming: every two-chunk split of a tricky text gives the same records as parseFasta', async () => {
  const want = parseFasta(AWKWARD, 't.fa');
  assert.is(want.length, 4);
  assert.equal(want[0], { id: 'sp|P1|µ-crystallin', header: 'sp|P1|µ-crystallin OS=Homo sapiens', sequence: 'MKTAYIAKQR', line: 1 });
  assert.equal(want.map((r) => r.line), [1, 5, 9, 12]);
  for (let i = 0; i <= AWKWARD.length; i++) {
    const got = await collect([AWKWARD.slice(0, i), AWKWARD.slice(i)], 't.fa');
    assert.equal(got, want, `split at ${i}`);
  }
});

test('streaming: bytes split anywhere (inside \\r\\n, inside multi-byte UTF-8), every chunk size', async () => {
  const want = parseFasta(AWKWARD, 'b.fa');
  const bytes = new TextEncoder().encode(AWKWARD);
  for (let i = 0; i <= bytes.length; i++) {
    for (let j = i; j <= bytes.length; j += 5) {
      const got = await collect([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)], 'b.fa');
      assert.equal(got, want, `split at ${i},${j}`);
    }
  }
  for (const size of [1, 2, 3, 7, 64]) {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    assert.equal(await collect(chunks, 'b.fa'), want, `chunk size ${size}`);
    const strChunks: string[] = [];
    for (let i = 0; i < AWKWARD.length; i += size) strChunks.push(AWKWARD.slice(i, i + size));
    assert.equal(await collect(strChunks, 'b.fa'), want, `string chunk size ${size}`);
  }
  // mixing string and byte chunks
  const mixed = [AWKWARD.slice(0, 20), new TextEncoder().encode(AWKWARD.slice(20, 50)), AWKWARD.slice(50)];
  assert.equal(await collect(mixed, 'b.fa'), want);
});

test('streaming: random chunkings of a larger file with \\r\\n', async () => {
  const r = rng(11);
  const parts: string[] = [];
  for (let i = 0; i < 300; i++) {
    parts.push(`>id${i} desc ${i}\r\n`);
    const len = 1 + Math.floor(r() * 200);
    let s = '';
    for (let k = 0; k < len; k++) s += 'acdefghiklmnpqrstvwy'[Math.floor(r() * 20)];
    for (let k = 0; k < s.length; k += 60) parts.push(s.slice(k, k + 60) + '\r\n');
    if (r() < 0.3) parts.push('*\r\n');
    if (r() < 0.3) parts.push('\r\n');
  }
  const text = parts.join('');
  const want = parseFasta(text);
  assert.is(want.length, 300);
  for (let trial = 0; trial < 20; trial++) {
    const chunks: string[] = [];
    for (let i = 0; i < text.length;) {
      const n = 1 + Math.floor(r() * 400);
      chunks.push(text.slice(i, i + n));
      i += n;
    }
    assert.equal(await collect(chunks), want, `trial ${trial}`);
  }
});

test('streaming: errors match parseFasta for every split, and earlier records come out first', async () => {
  const bad = '>a\r\nMKT\r\n>b\r\nMK\r\nQJ\r\n>c\r\nW\r\n';
  const e = throwsSeq(() => parseFasta(bad, 's.fa'), 's.fa:5:2', "'J'", '"b"');
  for (let i = 0; i <= bad.length; i++) {
    const { records, error } = await collectError([bad.slice(0, i), bad.slice(i)], 's.fa');
    assert.ok(error instanceof SequenceError, `split ${i}`);
    assert.is((error as SequenceError).message, e.message, `split ${i}`);
    assert.equal((error as SequenceError).context, e.context);
    assert.equal(records.map((x) => x.id), ['a'], `split ${i}`);
  }
  const dup = '>a\nM\n>a\nM\n';
  const e2 = throwsSeq(() => parseFasta(dup));
  for (let i = 0; i <= dup.length; i++) {
    const { error } = await collectError([dup.slice(0, i), dup.slice(i)]);
    assert.is((error as Error).message, e2.message);
  }
});

test('streaming from a real file read stream (small highWaterMark)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fasta-test-'));
  try {
    const path = join(dir, 'p.fasta');
    writeFileSync(path, AWKWARD);
    const got = await collect(createReadStream(path, { highWaterMark: 5 }), path);
    assert.equal(got, parseFasta(AWKWARD, path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

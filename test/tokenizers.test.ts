// src/tokenizers: ids read from each family's own tokenizer files equal HF's input_ids for every
// fixture case; readers (spiece.model, vocab.txt, added_tokens.json, tokenizer_config.json,
// tokenizer.json) are strict, with typed errors naming the file; random bytes as spiece.model
// only ever give a TokenizerError.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DirectoryFiles } from '../weights/node-files.js';
import { MemorySource, type ByteSource, type ModelFiles } from '../weights/source.js';
import { ProtT5Error, SequenceError, TokenizerError, UsageError } from '../src/errors.js';
import {
  ESM2, PROSTT5, PROTALBERT, PROTBERT, PROTT5, PROTXLNET, RECIPES, Tokenizer, defaultProtT5Tokenizer, loadVocabulary,
  parseSentencePieceModel, readSentencePieceVocabulary, readTokenizerJson, readVocabTxt, tokenize, MAX_TOKENIZER_FILE_BYTES,
  type Recipe, type RecipeName,
} from '../src/tokenizers/index.js';
import { PROTT5_SPIECE_MODEL } from '../src/tokenizers/default-vocab.js';
import { fixturesDir, repoRoot, rng } from './helpers.js';

interface Case {
  index: number;
  mode?: string;
  sequence: string;
  input_ids: number[];
  residue_start: number;
  residue_count: number;
  masked_rows?: number[];
}
const FAMILIES = join(fixturesDir(), 'families');
const cases: Record<string, { cases: Case[] }> = JSON.parse(readFileSync(join(FAMILIES, 'tokenizer-cases.json'), 'utf8')).families;
const folder = (f: string): ModelFiles => new DirectoryFiles(join(FAMILIES, f));
const fileBytes = (f: string, name: string): Uint8Array => new Uint8Array(readFileSync(join(FAMILIES, f, name)));

/** A model folder in memory; `opened` lists the names asked for. */
class MemoryFiles implements ModelFiles {
  readonly opened: string[] = [];
  constructor(readonly name: string, private readonly files: Record<string, Uint8Array | string>) {}
  async open(file: string): Promise<ByteSource | null> {
    this.opened.push(file);
    const b = this.files[file];
    if (b === undefined) return null;
    return new MemorySource(`${this.name}/${file}`, typeof b === 'string' ? new TextEncoder().encode(b) : b);
  }
}

async function rejects<E extends Error>(p: Promise<unknown>, type: new (...a: never[]) => E, ...fragments: string[]): Promise<E> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof type)) throw new Error(`expected ${type.name}, got ${(err as Error)?.stack ?? String(err)}`);
    assert.ok(err instanceof ProtT5Error);
    for (const f of fragments) assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
    return err;
  }
  throw new Error(`expected ${type.name} containing ${JSON.stringify(fragments)}, nothing thrown`);
}
const throws = <E extends Error>(fn: () => unknown, type: new (...a: never[]) => E, ...fragments: string[]) =>
  rejects(Promise.resolve().then(fn), type, ...fragments);

/** The case's input text: masked rows become the literal `<mask>`. */
function inputOf(c: Case): string {
  if (!c.masked_rows) return c.sequence;
  const rows = new Set(c.masked_rows.map((r) => r - c.residue_start));
  return [...c.sequence].map((ch, i) => (rows.has(i) ? '<mask>' : ch)).join('');
}

// ---- every family, every case ---------------------------------------------------------------------

const FAMILY_RECIPE: Record<string, RecipeName> = {
  protbert: 'protbert', protelectra: 'protelectra', protalbert: 'protalbert', protxlnet: 'protxlnet',
  prottxl: 'prottxl', prostt5: 'prostt5', esm2: 'esm2',
};

test('every family and case: ids from the folder files equal input_ids; residue rows equal residue_start/count', async () => {
  assert.equal(Object.keys(cases).sort(), Object.keys(FAMILY_RECIPE).sort());
  let n = 0;
  for (const [family, recipeName] of Object.entries(FAMILY_RECIPE)) {
    const tok = await Tokenizer.fromFolder(folder(family), RECIPES[recipeName]);
    for (const c of cases[family].cases) {
      const got = tok.encode(inputOf(c), `${family} case ${c.index}`, c.mode);
      assert.instance(got.ids, Uint32Array);
      assert.equal([...got.ids], c.input_ids, `${family} case ${c.index}`);
      assert.is(got.residueStart, c.residue_start, `${family} case ${c.index} residue_start`);
      assert.is(got.residueCount, c.residue_count, `${family} case ${c.index} residue_count`);
      n++;
    }
  }
  assert.is(n, 5 * 5 + 10 + 6);
});

test('pad ids and sides, read from the files', async () => {
  const want: Record<string, [number, 'left' | 'right']> = {
    protbert: [0, 'right'], protelectra: [0, 'right'], protalbert: [0, 'right'], protxlnet: [5, 'left'],
    prottxl: [0, 'right'], prostt5: [0, 'right'], esm2: [1, 'right'],
  };
  for (const [family, [id, side]] of Object.entries(want)) {
    const tok = await Tokenizer.fromFolder(folder(family), RECIPES[FAMILY_RECIPE[family]]);
    assert.is(tok.padId, id, family);
    assert.is(tok.padSide, side, family);
  }
});

test('prostt5: extra_ids and added tokens; 3Di folds to lower case; mode errors', async () => {
  const tok = await Tokenizer.fromFolder(folder('prostt5'), PROSTT5);
  assert.equal(tok.modes, ['aa', '3di']);
  const v = tok.vocabulary;
  assert.is(v.size, 150);
  assert.is(v.id('<extra_id_99>'), 28);
  assert.is(v.id('<extra_id_0>'), 127);
  assert.is(v.id('a'), 128);
  assert.is(v.id('<fold2AA>'), 148);
  assert.is(v.id('<AA2fold>'), 149);
  assert.ok(v.source.includes('added_tokens.json') && v.source.includes('tokenizer_config.json'), v.source);
  assert.equal([...tok.encode('ALG', 'x', '3di').ids], [...tok.encode('alg', 'x', '3di').ids]);
  assert.equal([...tok.encode('alg', 'x', 'aa').ids], [149, 3, 4, 5, 1]);
  assert.equal([...tok.encode('a l\ng', 'x', '3di').ids], [148, 128, 129, 130, 1]);
  // The default mode is amino acids.
  assert.equal([...tok.encode('ALG').ids], [149, 3, 4, 5, 1]);
  // x and b are amino-acid letters, not 3Di states.
  const e = await throws(() => tok.encode('alxg', '3di rec', '3di'), SequenceError, '3di rec', 'residue 3', "'x'", '3Di');
  assert.equal(e.context, { record: '3di rec', position: 3, char: 'x' });
  await throws(() => tok.encode('ab', 'r', '3di'), SequenceError, 'residue 2', "'b'");
  await throws(() => tok.encode('ALG', 'r', 'fold'), UsageError, 'fold', 'aa, 3di');
});

test('esm2: <mask> is taken verbatim as one residue row; no letter mapping', async () => {
  const tok = await Tokenizer.fromFolder(folder('esm2'), ESM2);
  assert.equal([...tok.encode('A<mask>C').ids], [0, 5, 32, 23, 2]);
  assert.is(tok.encode('A<mask>C').residueCount, 3);
  // U Z O B X keep their own ids.
  assert.equal([...tok.encode('XBUZO').ids], [0, 24, 25, 26, 27, 28, 2]);
  // A '<' that does not start <mask> is a bad character; so is '.' (a vocab token, not a residue).
  await throws(() => tok.encode('A<mas', 'm'), SequenceError, 'residue 2', "'<'");
  await throws(() => tok.encode('A.C', 'dot'), SequenceError, 'residue 2', "'.'");
  await throws(() => tok.encode('<MASK>', 'up'), SequenceError, 'residue 1', "'<'");
});

test('protxlnet: U Z O B X are <unk>, no ▁X piece is looked up', async () => {
  const tok = await Tokenizer.fromFolder(folder('protxlnet'), PROTXLNET);
  assert.equal([...tok.encode('LuzobxW').ids], [9, 0, 0, 0, 0, 0, 28, 4, 3]);
  assert.is(tok.encode('LuzobxW').residueStart, 0);
});

test('a bad letter names the record, the 1-based residue position and the char, in every family', async () => {
  for (const [family, recipeName] of Object.entries(FAMILY_RECIPE)) {
    const tok = await Tokenizer.fromFolder(folder(family), RECIPES[recipeName]);
    const e = await throws(() => tok.encode('MK T\nJA', 'sp|Q1|Y'), SequenceError, 'sp|Q1|Y', 'residue 4', "'J'");
    assert.equal(e.context, { record: 'sp|Q1|Y', position: 4, char: 'J' }, family);
    await throws(() => tok.encode('MK\u00dfA', 'eszett'), SequenceError, 'eszett', 'residue 3', 'U+00DF');
    await throws(() => tok.encode('A\u{1F9EC}K', 'dna'), SequenceError, 'residue 2', 'U+1F9EC');
    await throws(() => tok.encode(' \n\t', 'blank'), SequenceError, 'blank', 'empty');
  }
});

test('a letter without a vocabulary entry is a SequenceError naming the file, not a silent <unk>', async () => {
  const files = new MemoryFiles('nov', { 'vocab.txt': '[PAD]\n[UNK]\n[CLS]\n[SEP]\nA\nL\n' });
  const tok = await Tokenizer.fromFolder(files, PROTBERT);
  assert.equal([...tok.encode('AL').ids], [2, 4, 5, 3]);
  const e = await throws(() => tok.encode('ALW', 'rec'), SequenceError, 'rec', 'residue 3', "'W'", 'nov/vocab.txt');
  assert.equal(e.context, { record: 'rec', position: 3, char: 'W' });
});

// ---- ProtT5: folder file, built-in fallback, tokenize() ------------------------------------------------

test('prott5: examples/demo-model/spiece.model and the built-in one are ProtT5 ids 3..27 A L G V S R E D T I P K F Q N Y M H W C X B O U Z', () => {
  const demo = parseSentencePieceModel(new Uint8Array(readFileSync(join(repoRoot(), 'examples', 'demo-model', 'spiece.model'))), 'demo');
  const builtIn = parseSentencePieceModel(PROTT5_SPIECE_MODEL, 'built-in');
  const want = ['<pad>', '</s>', '<unk>', ...'ALGVSREDTIPKFQNYMHWCXBOUZ'].map((c) => (c.length === 1 ? '\u2581' + c : c));
  assert.equal(demo.map((p) => p.piece), want);
  assert.equal(builtIn, demo, 'the built-in file differs only in the removed charsmap');
  assert.equal(parseSentencePieceModel(fileBytes('prostt5', 'spiece.model'), 'prostt5'), demo);
});

test('prott5: a folder with spiece.model reads it; one without uses the built-in bytes; both equal tokenize()', async () => {
  const t5cases: Array<{ sequence: string; input_ids: number[] }> = JSON.parse(readFileSync(join(fixturesDir(), 't5-tiny', 'cases.json'), 'utf8')).cases;
  const demo = await Tokenizer.fromFolder(new DirectoryFiles(join(repoRoot(), 'examples', 'demo-model')), PROTT5);
  // The demo folder also has tokenizer_config.json (100 extra ids) and an empty added_tokens.json, as Rostlab's has.
  assert.ok(demo.vocabulary.source.split(' + ')[0].endsWith('spiece.model') && !demo.vocabulary.source.startsWith('built-in'), demo.vocabulary.source);
  const bare = new MemoryFiles('bare', { 'config.json': '{}' });
  const fb = await Tokenizer.fromFolder(bare, PROTT5);
  assert.is(fb.vocabulary.source, 'built-in ProtT5 spiece.model');
  assert.ok(bare.opened.includes('spiece.model') && bare.opened.includes('tokenizer.json'));
  const tiny = await Tokenizer.fromFolder(new DirectoryFiles(join(fixturesDir(), 't5-tiny', 't5-tiny-f32')), PROTT5);
  for (const c of t5cases) {
    for (const tok of [demo, fb, tiny, defaultProtT5Tokenizer()]) {
      const e = tok.encode(c.sequence);
      assert.equal([...e.ids], c.input_ids);
      assert.is(e.residueStart, 0);
      assert.is(e.residueCount, c.input_ids.length - 1);
    }
    assert.equal([...tokenize(c.sequence)], c.input_ids);
  }
  assert.is(demo.padId, 0);
});

test('a folder with no tokenizer file and no fallback is a TokenizerError naming the folder and the files', async () => {
  const e = await rejects(Tokenizer.fromFolder(new MemoryFiles('empty-folder', {}), PROTBERT), TokenizerError, 'empty-folder', 'vocab.txt', 'tokenizer.json');
  assert.is(e.code, 'BAD_TOKENIZER');
});

// ---- tokenizer.json ---------------------------------------------------------------------------------

test('tokenizer.json: WordPiece (object vocab) and Unigram ([piece, score] list) give the same ids as vocab.txt / spiece.model', async () => {
  const bertTokens = new TextDecoder().decode(fileBytes('protbert', 'vocab.txt')).trim().split('\n');
  const wordPiece = { model: { type: 'WordPiece', vocab: Object.fromEntries(bertTokens.map((t, i) => [t, i])) }, added_tokens: [{ id: 2, content: '[CLS]', special: true }] };
  const albertPieces = parseSentencePieceModel(fileBytes('protalbert', 'spiece.model'), 'albert');
  const unigram = { model: { type: 'Unigram', unk_id: 1, vocab: albertPieces.map((p) => [p.piece, p.score]) }, added_tokens: [] };
  for (const [json, recipe, family] of [[wordPiece, PROTBERT, 'protbert'], [unigram, PROTALBERT, 'protalbert']] as const) {
    const tok = await Tokenizer.fromFolder(new MemoryFiles(family, { 'tokenizer.json': JSON.stringify(json) }), recipe);
    assert.ok(tok.vocabulary.source.endsWith('tokenizer.json'));
    for (const c of cases[family].cases) assert.equal([...tok.encode(c.sequence).ids], c.input_ids, `${family} ${c.index}`);
  }
  // The recipe's first file wins when both exist.
  const both = new MemoryFiles('both', { 'vocab.txt': fileBytes('protbert', 'vocab.txt'), 'tokenizer.json': '{' });
  assert.ok((await Tokenizer.fromFolder(both, PROTBERT)).vocabulary.source.endsWith('vocab.txt'));
});

test('tokenizer.json: malformed files are TokenizerErrors naming the file', async () => {
  const bad: Array<[string, string]> = [
    ['{', 'not valid JSON'],
    ['[]', 'not a JSON object'],
    ['{}', '"model"'],
    ['{"model":{"type":"Mystery","vocab":{}}}', 'Mystery'],
    ['{"model":{"type":"Unigram","vocab":{}}}', 'not a list'],
    ['{"model":{"type":"Unigram","vocab":[]}}', 'empty'],
    ['{"model":{"type":"Unigram","vocab":[["a",0],[3,1]]}}', 'model.vocab[1]'],
    ['{"model":{"type":"WordPiece","vocab":{"a":0,"b":0}}}', 'already belongs'],
    ['{"model":{"type":"WordPiece","vocab":{"a":-1}}}', 'not an integer'],
    ['{"model":{"type":"WordPiece","vocab":{"a":0}},"added_tokens":[{"id":0,"content":"b"}]}', 'added_tokens[0]'],
    ['{"model":{"type":"WordPiece","vocab":{"a":0}},"added_tokens":[{"content":"b"}]}', 'added_tokens[0]'],
  ];
  for (const [text, frag] of bad) {
    await throws(() => readTokenizerJson(new TextEncoder().encode(text), 'x/tokenizer.json'), TokenizerError, 'x/tokenizer.json', frag);
  }
});

// ---- vocab.txt, added_tokens.json, tokenizer_config.json ------------------------------------------

test('vocab.txt: strict lines; empty file, empty line, duplicate, bad UTF-8 are TokenizerErrors naming the file', async () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const v = readVocabTxt(enc('a\r\nb\nc'), 'v');
  assert.equal([v.id('a'), v.id('b'), v.id('c'), v.size], [0, 1, 2, 3]);
  assert.is(readVocabTxt(enc('\ufeffa\n'), 'v').id('a'), 0);
  await throws(() => readVocabTxt(enc(''), 'f/vocab.txt'), TokenizerError, 'f/vocab.txt', 'empty');
  await throws(() => readVocabTxt(enc('a\n\nb\n'), 'f/vocab.txt'), TokenizerError, 'f/vocab.txt', 'line 2 is empty');
  await throws(() => readVocabTxt(enc('a\nb\na\n'), 'f/vocab.txt'), TokenizerError, 'f/vocab.txt', 'line 3', 'already has id 0');
  await throws(() => readVocabTxt(new Uint8Array([0x41, 0xff, 0x0a]), 'f/vocab.txt'), TokenizerError, 'f/vocab.txt', 'UTF-8');
  // Through a folder: the file's path is named.
  const e = await rejects(Tokenizer.fromFolder(new MemoryFiles('dir', { 'vocab.txt': '' }), PROTBERT), TokenizerError, 'dir/vocab.txt', 'empty');
  assert.is(e.context.file, 'dir/vocab.txt');
});

test('a special token missing from the vocabulary is a TokenizerError naming the file and the token', async () => {
  const files = new MemoryFiles('nocls', { 'vocab.txt': '[PAD]\n[UNK]\n[SEP]\nA\n' });
  await rejects(Tokenizer.fromFolder(files, PROTBERT), TokenizerError, 'nocls/vocab.txt', '"[CLS]"', 'protbert');
  const nopad = new MemoryFiles('nopad', { 'vocab.txt': '[CLS]\n[SEP]\nA\n' });
  await rejects(Tokenizer.fromFolder(nopad, PROTBERT), TokenizerError, '"[PAD]"', 'pad');
});

test('added_tokens.json and tokenizer_config.json: conflicts and bad values are TokenizerErrors naming the file', async () => {
  const spiece = fileBytes('prostt5', 'spiece.model');
  const cfg = fileBytes('prostt5', 'tokenizer_config.json');
  const withAdded = (added: string, config: Uint8Array | string = cfg) =>
    Tokenizer.fromFolder(new MemoryFiles('p', { 'spiece.model': spiece, 'tokenizer_config.json': config, 'added_tokens.json': added }), PROSTT5);
  await rejects(withAdded('{"a": 3}'), TokenizerError, 'p/added_tokens.json', 'already belongs to "▁A"');
  await rejects(withAdded('{"▁A": 140}'), TokenizerError, 'p/added_tokens.json', 'already has id 3');
  await rejects(withAdded('{"a": "128"}'), TokenizerError, 'p/added_tokens.json', 'not a number');
  await rejects(withAdded('{"a": 1.5}'), TokenizerError, 'p/added_tokens.json', 'not an integer');
  await rejects(withAdded('[1]'), TokenizerError, 'p/added_tokens.json', 'not a JSON object');
  await rejects(withAdded('{}', '{"extra_ids": -1}'), TokenizerError, 'p/tokenizer_config.json', 'extra_ids');
  await rejects(withAdded('{}', '{"extra_ids": 1e12}'), TokenizerError, 'p/tokenizer_config.json', 'extra_ids');
  await rejects(withAdded('{}', '{"added_tokens_decoder": {"x": {"content": "a"}}}'), TokenizerError, 'p/tokenizer_config.json', 'added_tokens_decoder');
  // added_tokens_decoder agreeing with the rest is fine; disagreeing is not.
  const ok = JSON.stringify({ extra_ids: 100, added_tokens_decoder: { 0: { content: '<pad>' }, 127: { content: '<extra_id_0>' }, 148: { content: '<fold2AA>' } } });
  const tok = await withAdded(new TextDecoder().decode(fileBytes('prostt5', 'added_tokens.json')), ok);
  assert.equal([...tok.encode('m', 'r', '3di').ids], [148, 144, 1]);
  const clash = JSON.stringify({ extra_ids: 100, added_tokens_decoder: { 128: { content: 'q' } } });
  await rejects(withAdded(new TextDecoder().decode(fileBytes('prostt5', 'added_tokens.json')), clash), TokenizerError, 'p/tokenizer_config.json', '"q"');
  // Without added_tokens.json, the 3Di mode lacks <fold2AA>: named when the tokenizer is built.
  await rejects(
    Tokenizer.fromFolder(new MemoryFiles('p', { 'spiece.model': spiece, 'tokenizer_config.json': cfg }), PROSTT5),
    TokenizerError, '"<AA2fold>"',
  );
});

test('a tokenizer file over the size limit is refused before it is read', async () => {
  let reads = 0;
  const huge: ByteSource = { name: 'big/spiece.model', size: MAX_TOKENIZER_FILE_BYTES + 1, read: async () => { reads++; return new Uint8Array(0); } };
  const files: ModelFiles = { name: 'big', open: async (f) => (f === 'spiece.model' ? huge : null) };
  await rejects(loadVocabulary(files, PROTT5), TokenizerError, 'big/spiece.model', 'too large');
  assert.is(reads, 0);
});

// ---- spiece.model: malformed, truncated, random bytes -----------------------------------------------

test('spiece.model: hand-made malformed inputs are TokenizerErrors naming the file', async () => {
  const f = 'm/spiece.model';
  const bad: Array<[number[], string]> = [
    [[], 'no pieces'],
    [[0x12, 0x00], 'no pieces'], // only an empty trainer_spec
    [[0x0a], 'truncated varint'],
    [[0x0a, 0x05, 0x0a], 'runs past the end'],
    [[0x08, 0x01], 'wire type 0, not 2'], // field 1 as a varint
    [[0x0a, 0x00], 'no text'], // a piece without field 1
    [[0x0a, 0x03, 0x0a, 0x01, 0x41, 0x0a, 0x03, 0x0a, 0x01, 0x41], 'already has id 0'], // "A" twice
    [[0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28], 'UTF-8'],
    [[0x0a, 0x05, 0x0a, 0x01, 0x41, 0x18, 0x09], 'type 9'],
    [[0x0a, 0x04, 0x0a, 0x01, 0x41, 0x15], 'truncated score'],
    [[0x0a, 0x05, 0x0a, 0x01, 0x41, 0x10, 0x00], 'field 2 (score) has wire type 0'],
    [[0x13], 'wire type 3'], // a group
    [[0x00], 'field number 0'],
    [[0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'longer than 10 bytes'],
    [[0x19, 1, 2, 3], 'truncated fixed-width'],
  ];
  for (const [bytes, frag] of bad) {
    const e = await throws(() => Tokenizer.fromVocabulary(readSentencePieceVocabulary(new Uint8Array(bytes), f), PROTT5), TokenizerError, f, frag);
    assert.is(e.context.file, f);
  }
  // Unknown fields, inside and outside a piece, are skipped.
  const ok = parseSentencePieceModel(new Uint8Array([0x28, 0x05, 0x0a, 0x08, 0x0a, 0x01, 0x41, 0x15, 0, 0, 0x80, 0x3f, 0x20, 0x07, 0x1d, 1, 2, 3, 4]), f);
  assert.equal(ok, [{ piece: 'A', score: 1, type: 1 }]);
});


test('spiece.model: every truncation of the real files is a TokenizerError naming the file', async () => {
  for (const family of ['protalbert', 'protxlnet', 'prostt5']) {
    const full = fileBytes(family, 'spiece.model');
    assert.ok(full.byteLength > 200_000, 'the file carries its precompiled_charsmap');
    const r = rng(family.length);
    // Cut points: every byte of the pieces (which come first), then random ones through the charsmap.
    const cuts = [...Array.from({ length: 700 }, (_, i) => i), ...Array.from({ length: 200 }, () => Math.floor(r() * full.byteLength))];
    let errors = 0;
    for (const cut of cuts) {
      const name = `${family}/spiece.model[0:${cut}]`;
      try {
        parseSentencePieceModel(full.subarray(0, cut), name);
      } catch (e) {
        if (!(e instanceof TokenizerError)) throw new Error(`${name}: ${(e as Error)?.stack ?? e}`);
        assert.ok(e.message.startsWith(name), e.message);
        errors++;
      }
    }
    // A cut exactly between top-level fields parses (fewer pieces); every cut inside the charsmap fails.
    assert.ok(errors > cuts.length * 0.8, `${family}: ${errors} of ${cuts.length} cuts failed`);
    const e = await rejects(
      Tokenizer.fromFolder(new MemoryFiles(family, { 'spiece.model': full.subarray(0, full.byteLength - 1) }), PROTALBERT),
      TokenizerError, `${family}/spiece.model`, 'runs past the end',
    );
    assert.is(e.context.file, `${family}/spiece.model`);
  }
});

test('spiece.model fuzz: random and mutated bytes never hang and throw nothing but a TokenizerError', () => {
  const r = rng(20240607);
  const base = fileBytes('protxlnet', 'spiece.model').subarray(0, 1200);
  const t0 = Date.now();
  let parsed = 0, rejected = 0;
  for (let k = 0; k < 4000; k++) {
    let bytes: Uint8Array;
    if (k % 2 === 0) {
      bytes = new Uint8Array(Math.floor(r() * (k % 10 === 0 ? 5000 : 64)));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(r() * 256);
    } else {
      bytes = base.slice(0, Math.floor(r() * base.length));
      for (let m = 1 + Math.floor(r() * 4); m > 0 && bytes.length; m--) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
    }
    try {
      const pieces = parseSentencePieceModel(bytes, 'fuzz');
      assert.ok(pieces.length > 0 && pieces.length <= bytes.length);
      parsed++;
    } catch (e) {
      if (!(e instanceof TokenizerError)) throw new Error(`case ${k}: ${(e as Error)?.stack ?? e}`);
      rejected++;
    }
  }
  assert.ok(parsed > 0 && rejected > 0, `parsed ${parsed}, rejected ${rejected}`);
  assert.ok(Date.now() - t0 < 20_000, 'fuzz ran in bounded time');
});

test('recipes: every declared family has a recipe; unknown letters are never silently <unk>', () => {
  assert.equal(Object.keys(RECIPES).sort(), ['ankh', 'esm2', 'prostt5', 'protalbert', 'protbert', 'protelectra', 'prott5', 'prottxl', 'protxlnet']);
  for (const [name, r] of Object.entries(RECIPES) as Array<[string, Recipe]>) {
    assert.is(r.family, name);
    assert.ok(Object.keys(r.modes).length >= 1);
    for (const m of Object.values(r.modes)) {
      for (const [letter, token] of Object.entries(m.asToken ?? {})) assert.ok(m.letters.includes(letter) && token === '<unk>', `${name}: ${letter}`);
    }
  }
});

test.run();

// Fuzzed parsers: a bounded, seeded run of every target (test/fuzz-targets.ts) in worker threads,
// then one focused regression test per crash the fuzzer found. The longer run is
// `node build/scripts/fuzz.js [--iterations N] [--seed S]`.
//
// PROTT5_FUZZ_SEED and PROTT5_FUZZ_SCALE (a factor on the input counts) explore beyond the
// default run; a failure prints the command that rebuilds the crashing input alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ProtT5Error, SequenceError, WeightsError } from '../src/errors.js';
import { MAX_LAYERS, parseT5Config } from '../src/models/t5/config.js';
import { parseFasta, readFasta } from '../src/embed/fasta.js';
import { openCheckpoint } from '../src/models/checkpoint.js';
import { describeValue } from '../weights/describe.js';
import { readPytorchBin } from '../weights/pytorch.js';
import { readSafetensors } from '../weights/safetensors.js';
import { MemorySource, type ModelFiles } from '../weights/source.js';
import { buildZip, describeCrash, fuzzTarget, fuzzWorkerMain, isFuzzWorker, PickleWriter, summary } from './fuzz-targets.js';
import { fixturesDir } from './helpers.js';

/** Inputs per target: the whole file stays well under a minute on two cores. */
const COUNTS: Record<string, number> = { safetensors: 2000, checkpoint: 1000, pytorch: 2000, config: 2000, fasta: 1500 };

if (isFuzzWorker()) {
  await fuzzWorkerMain();
} else {
  const seed = Number(process.env.PROTT5_FUZZ_SEED ?? 20250611);
  const scale = Number(process.env.PROTT5_FUZZ_SCALE ?? 1);

  for (const [target, count] of Object.entries(COUNTS)) {
    test(`fuzz ${target}: every input ends in success or a typed error, in bounded time and memory`, async () => {
      const iterations = Math.max(1, Math.round(count * scale));
      const r = await fuzzTarget(target, { seed, iterations, workerUrl: new URL(import.meta.url), perInputMs: 3000, hangMs: 20000, heapMb: 1024 });
      console.log(summary(r));
      assert.is(r.tried, iterations, 'every input was run');
      if (r.crashes.length) {
        assert.unreachable(`${r.crashes.length} crashes:\n${r.crashes.slice(0, 8).map((c) => describeCrash(c, seed, iterations)).join('\n')}`);
      }
    });
  }

  regressions();
  test.run();
}

// ---- one focused test per crash the fuzzer found ---------------------------------------------

/** Awaits fn(), asserts it throws `cls` (never a TypeError/RangeError) with every fragment in its message. */
async function typed<E extends ProtT5Error>(fn: () => unknown, cls: new (...a: never[]) => E, ...fragments: string[]): Promise<E> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  if (err === undefined) throw new Error(`expected ${cls.name}, nothing thrown`);
  if (!(err instanceof cls)) throw new Error(`expected ${cls.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  for (const f of fragments) assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message.slice(0, 300))} lacks ${JSON.stringify(f)}`);
  assert.ok(err.message.length < 2000, `a bounded message (${err.message.length} characters)`);
  return err;
}

/** Safetensors bytes with the header text exactly as given. */
function safetensors(headerText: string, data: Uint8Array = new Uint8Array(16)): Uint8Array {
  const h = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}
const readSt = (headerText: string, data?: Uint8Array) => readSafetensors(new MemorySource('r.safetensors', safetensors(headerText, data)));
const deep = (n: number, inner = ''): string => '['.repeat(n) + inner + ']'.repeat(n);
const W = '"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}';

function regressions(): void {
  test('describeValue: bounded, never throws (deep nesting, cycles, toString keys, huge lists)', () => {
    const nested = JSON.parse(deep(200000, '1'));
    assert.ok(describeValue(nested).length <= 80);
    const cyclic: unknown[] = [1];
    cyclic.push(cyclic);
    assert.is(describeValue(cyclic), '[1,…]');
    assert.is(describeValue({ toString: 1 }), '{"toString":1}');
    assert.is(describeValue(new Array(1e6).fill(1)).length, 80);
    assert.is(describeValue('bert'), '"bert"');
    assert.is(describeValue([2.5, NaN, null, true]), '[2.5,NaN,null,true]');
    assert.is(describeValue(undefined), 'undefined');
  });

  test('safetensors: a tensor named twice in the header is refused, not silently the last one', async () => {
    const e = await typed(() => readSt(`{${W},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`), WeightsError, 'tensor "w"', 'appears twice');
    assert.is(e.context.tensor, 'w');
    // The same key written with an escape is the same key.
    await typed(() => readSt(`{${W}, "\\u0077" : {"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`), WeightsError, 'appears twice');
    await typed(() => readSt(`{"__metadata__":{},${W},"__metadata__":{"a":"b"}}`), WeightsError, 'appears twice');
    // Equal names deeper down are not top-level duplicates.
    const ok = await readSt(`{"__metadata__":{"w":"1","x":"w"},${W}}`);
    assert.equal(ok.tensors.map((t) => t.name), ['w']);
  });

  test('safetensors: __metadata__ must be an object of strings (as the reference reader)', async () => {
    await typed(() => readSt(`{"__metadata__":{"format":"pt","n":1},${W}}`), WeightsError, '__metadata__ entry "n" is 1, not a string');
    await typed(() => readSt(`{"__metadata__":[1,2],${W}}`), WeightsError, '__metadata__ [1,2] is not an object of strings');
    await typed(() => readSt(`{"__metadata__":${deep(100000)},${W}}`), WeightsError, '__metadata__');
    assert.equal((await readSt(`{"__metadata__":null,${W}}`)).metadata, {});
    assert.equal((await readSt(`{"__metadata__":{"format":"pt"},${W}}`)).metadata, { format: 'pt' });
  });

  test('safetensors: deeply nested or huge shape and data_offsets give a typed error with a short message', async () => {
    await typed(() => readSt(`{"w":{"dtype":"F32","shape":${deep(200000)},"data_offsets":[0,16]}}`), WeightsError, 'tensor "w"', 'shape [[[[');
    await typed(() => readSt(`{"w":{"dtype":"F32","shape":[4],"data_offsets":${deep(200000)}}}`), WeightsError, 'data_offsets');
    await typed(() => readSt(`{"w":{"dtype":"F32","shape":[${new Array(100000).fill(1).join(',')}],"data_offsets":[0,16]}}`), WeightsError, 'holds 16 bytes', '…');
    await typed(() => readSt('{"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,16]}}'), WeightsError, 'too large');
  });

  test('safetensors: dtypes named like Object.prototype members are unsupported dtypes, not size errors', async () => {
    for (const dtype of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      const st = await readSt(`{"w":{"dtype":"${dtype}","shape":[4],"data_offsets":[0,16]}}`);
      assert.equal(st.tensors, [], dtype);
      assert.equal([...st.unsupported], [['w', dtype]]);
    }
  });

  const shardFiles = (map: string): ModelFiles => {
    const config = readFileSync(join(fixturesDir(), 't5-tiny', 't5-tiny-f32', 'config.json'));
    const asked: string[] = [];
    return {
      name: 'mem://m',
      async open(f) {
        asked.push(f);
        if (f === 'config.json') return new MemorySource('config.json', config);
        if (f === 'model.safetensors.index.json') return new MemorySource(f, new TextEncoder().encode(`{"weight_map":${map}}`));
        if (f === 'model.safetensors') return null; // a sharded folder has none (it is looked for first)
        throw new Error(`asked for ${JSON.stringify(f.slice(0, 100))}`);
      },
    };
  };

  test('checkpoint: a deeply nested shard name in the index is a WeightsError, not a stack overflow', async () => {
    await typed(() => openCheckpoint(shardFiles(`{"shared.weight":${deep(200000)}}`)), WeightsError, 'shard name [[[[', 'not a string');
    const e = await typed(() => openCheckpoint(shardFiles(`{"shared.weight":"${'../'.repeat(5000)}x"}`)), WeightsError, 'not a plain file name');
    assert.ok(e.message.length < 1000);
  });

  test('config: nested values and objects with a "toString" key are ConfigErrors naming the key', () => {
    const base = JSON.parse(readFileSync(join(fixturesDir(), 't5-tiny', 't5-tiny-f32', 'config.json'), 'utf8')) as Record<string, unknown>;
    const fails = (patch: string, ...fragments: string[]): void => {
      try {
        parseT5Config({ ...base, ...JSON.parse(patch) }, 'c.json');
      } catch (e) {
        assert.instance(e, ConfigError, `${patch.slice(0, 60)}: ${String(e)}`);
        for (const f of fragments) assert.ok((e as Error).message.includes(f), `${(e as Error).message} lacks ${f}`);
        return;
      }
      assert.unreachable(`${patch.slice(0, 60)} accepted`);
    };
    fails(`{"d_model":${deep(200000)}}`, '"d_model"');
    fails(`{"layer_norm_epsilon":${deep(200000)}}`, 'layer_norm_epsilon');
    fails(`{"feed_forward_proj":${deep(200000)}}`, 'feed_forward_proj');
    fails('{"model_type":{"toString":1}}', 'model_type is {"toString":1}');
    fails('{"model_type":{"valueOf":1,"toString":1}}', 'model_type');
    fails('{"feed_forward_proj":{"toString":"relu"}}', 'feed_forward_proj {"toString":"relu"} is not supported');
    fails('{"model_type":"bert"}', 'model_type is "bert"');
  });

  test(`config: num_layers above ${MAX_LAYERS} is refused at once (it used to take minutes and gigabytes to fail)`, async () => {
    const text = readFileSync(join(fixturesDir(), 't5-tiny', 't5-tiny-f32', 'config.json'), 'utf8');
    const weights = readFileSync(join(fixturesDir(), 't5-tiny', 't5-tiny-f32', 'model.safetensors'));
    for (const n of [MAX_LAYERS + 1, 2 ** 20, 2 ** 24]) {
      const files: ModelFiles = {
        name: 'mem://big',
        async open(f) {
          if (f === 'config.json') return new MemorySource(f, new TextEncoder().encode(text.replace('"num_layers": 3', `"num_layers": ${n}`)));
          return f === 'model.safetensors' ? new MemorySource(f, weights) : null;
        },
      };
      const t0 = performance.now();
      const e = await typed(() => openCheckpoint(files), ConfigError, `"num_layers" ${n}`);
      assert.is(e.context.key, 'num_layers');
      assert.ok(performance.now() - t0 < 1000, 'fails fast');
    }
    const c = JSON.parse(text) as Record<string, unknown>;
    assert.is(parseT5Config({ ...c, num_layers: MAX_LAYERS }).num_layers, MAX_LAYERS);
  });

  /** A torch.save zip of one tensor whose size tuple is given as raw pickle opcodes. */
  const torchZip = (sizeOps: (p: PickleWriter) => void, stride: number[], numel: number, storageBytes = numel * 4): Uint8Array => {
    const p = new PickleWriter().proto().global('collections', 'OrderedDict').op(0x29, 0x52).mark()
      .str('w').global('torch._utils', '_rebuild_tensor_v2').mark()
      .mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(numel).op(0x74).op(0x51).int(0);
    sizeOps(p);
    p.ints(stride).op(0x89).global('collections', 'OrderedDict').op(0x29, 0x52).op(0x74, 0x52).op(0x75, 0x2e);
    return buildZip([{ name: 'archive/data.pkl', data: p.done() }, { name: 'archive/data/0', data: new Uint8Array(storageBytes) }]);
  };

  test('pickle: a deeply nested tuple as a tensor size is a WeightsError, not a stack overflow', async () => {
    const bin = torchZip((p) => p.mark().op(0x4e).raw(new Uint8Array(200000).fill(0x85)).op(0x74), [1], 4);
    await typed(() => readPytorchBin(new MemorySource('n.bin', bin)), WeightsError, 'size[0] [[[[', 'not a non-negative integer');
  });

  test('pytorch: an expanded (stride 0) view larger than its storage is refused when parsed, not allocated on read', async () => {
    // [3, 3, 2^40] elements over a 37-element storage: read() used to allocate ~20 TB (RangeError).
    const bin = torchZip((p) => p.ints([3, 3, 2 ** 40]), [10, 7, 0], 37);
    await typed(() => readPytorchBin(new MemorySource('x.bin', bin)), WeightsError, 'tensor "w"', '9895604649984 elements', 'more than the 37', 'expanded');
    // Overlapping but no larger than the storage: still read (row-major gather).
    const small = torchZip((p) => p.ints([2, 3]), [0, 1], 6);
    const [t] = (await readPytorchBin(new MemorySource('s.bin', small))).tensors;
    assert.is((await t.read()).byteLength, 24);
  });

  test('fasta: the column of a too-long sequence does not depend on how the input was chunked', async () => {
    const text = '>a\nMKT\nAYIAKQRQ\n';
    const whole = await typed(() => parseFasta(text, 'f', { maxSequenceLength: 7 }), SequenceError, 'f:3:5:', 'longer than 7');
    for (let cut = 1; cut < text.length; cut++) {
      let err: unknown = null;
      try {
        for await (const _ of readFasta([text.slice(0, cut), text.slice(cut)], 'f', { maxSequenceLength: 7 })) { /* drain */ }
      } catch (e) {
        err = e;
      }
      assert.instance(err, SequenceError);
      assert.is((err as Error).message, whole.message, `split at ${cut}`);
    }
    assert.is(whole.context.column, 5, 'the 8th residue, the first over the limit, is line 3 column 5');
  });

  test('fasta: a header both too long and holding a control character fails the same way however it is chunked', async () => {
    for (const [text, fragment] of [['>abcdefghijkl\u0000m\nMK\n', 'longer than 10'], ['>abc\u0000defghijklm\nMK\n', 'control character U+0000']]) {
      const whole = await typed(() => parseFasta(text, 'h', { maxHeaderLength: 10 }), SequenceError, fragment);
      for (let cut = 1; cut < text.length; cut++) {
        let err: unknown = null;
        try {
          for await (const _ of readFasta([text.slice(0, cut), text.slice(cut)], 'h', { maxHeaderLength: 10 })) { /* drain */ }
        } catch (e) {
          err = e;
        }
        assert.is((err as Error)?.message, whole.message, `split at ${cut}`);
      }
    }
  });
}

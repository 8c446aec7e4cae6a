// Head checkpoints: the containers the heads publish ({'state_dict': ...}, TMbed's {'model':
// ...}, bindPredict's pickled whole modules), the module allow-list (exactly the fixture
// README's globals: any other is a WeightsError naming it), and shapes checked by name.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WeightsError } from '../src/errors.js';
import { headSpec } from '../src/heads/registry.js';
import { MODULE_GLOBALS } from '../weights/pickle.js';
import { readTorchCheckpoint } from '../weights/pytorch.js';
import { stateDictOf } from '../weights/torch-state.js';
import { MemorySource, type ModelFiles } from '../weights/source.js';
import { headDir } from './head-fixtures.js';
import { runtime } from './gpu.js';
import { PyCall, PyObject, PyTensor, stateDictFile, torchSave, type PyValue } from './torch-save.js';

const memoryFiles = (files: Record<string, Uint8Array>): ModelFiles => ({
  name: '(memory)',
  open: async (f) => (files[f] ? new MemorySource(f, files[f]) : null),
});

async function rejects(p: Promise<unknown> | (() => Promise<unknown>), ...parts: string[]): Promise<WeightsError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    assert.instance(e, WeightsError, String(e));
    for (const s of parts) assert.ok((e as Error).message.includes(s), `"${(e as Error).message}" should mention "${s}"`);
    return e as WeightsError;
  }
  return assert.unreachable('expected a WeightsError') as never;
}

/** A module object as torch.save(model) writes it: NEWOBJ, then BUILD of its __dict__. */
function module(cls: string, params: Record<string, PyTensor>, modules: Record<string, PyValue> = {}): PyObject {
  return new PyObject(cls, new Map<string, PyValue>([
    ['training', false],
    ['_parameters', new Map(Object.entries(params))],
    ['_buffers', new Map()],
    ['_non_persistent_buffers_set', new PyCall('__builtin__.set', [[]])],
    ['_forward_hooks', new PyCall('collections.OrderedDict', [])],
    ['_modules', new Map(Object.entries(modules))],
  ]));
}
const t = (...shape: number[]) => new PyTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), shape);
const cnn2 = (extra: Record<string, PyValue> = {}) => module('architectures.CNN2Layers', {}, {
  conv1: module('torch.nn.modules.container.Sequential', {}, {
    0: module('torch.nn.modules.conv.Conv1d', { weight: t(4, 3, 5), bias: t(4) }),
    1: module('torch.nn.modules.activation.ELU', {}),
    2: module('torch.nn.modules.dropout.Dropout', {}),
    3: module('torch.nn.modules.conv.Conv1d', { weight: t(3, 4, 5), bias: t(3) }),
    ...extra,
  }),
});

test("bindPredict's pickled module fixture: the state dict's names and shapes", async () => {
  const bytes = readFileSync(headDir('bindembed21dl', 'trained_models', 'checkpoint1.pt'));
  const ck = await readTorchCheckpoint(new MemorySource('checkpoint1.pt', bytes), { modules: true });
  const sd = stateDictOf(ck);
  assert.equal([...sd.keys()], ['conv1.0.weight', 'conv1.0.bias', 'conv1.3.weight', 'conv1.3.bias']);
  assert.equal(sd.get('conv1.0.weight')!.size, [128, 64, 5]);
  // Without the module allow-list it is refused, naming the first global.
  await rejects(readTorchCheckpoint(new MemorySource('checkpoint1.pt', bytes)), 'checkpoint1.pt', 'architectures.CNN2Layers', 'not allowed');
});

test('a crafted module file: exactly the allow-listed globals load; any other is a WeightsError naming it', async () => {
  const ok = await readTorchCheckpoint(new MemorySource('ok.pt', torchSave(cnn2())), { modules: true });
  assert.equal([...stateDictOf(ok).keys()], ['conv1.0.weight', 'conv1.0.bias', 'conv1.3.weight', 'conv1.3.bias']);
  for (const bad of ['torch.nn.modules.linear.Linear', 'os.system', 'builtins.eval', 'torch.HalfStorage', 'architectures.CNN3Layers']) {
    assert.not.ok(MODULE_GLOBALS.has(bad));
    const file = torchSave(cnn2({ 4: module(bad, {}) }));
    await rejects(readTorchCheckpoint(new MemorySource('bad.pt', file), { modules: true }), 'bad.pt', `global ${bad} is not allowed`);
  }
  // A module class is only ever created by NEWOBJ, never called.
  const called = torchSave(new PyCall('architectures.CNN2Layers', []));
  await rejects(readTorchCheckpoint(new MemorySource('call.pt', called), { modules: true }), 'architectures.CNN2Layers may only be created by NEWOBJ');
});

test('bindembed21dl loads from crafted module files (dims from the shapes) and refuses one with another global', async () => {
  const rt = await runtime();
  const files: Record<string, Uint8Array> = {};
  for (let k = 1; k <= 5; k++) files[`checkpoint${k}.pt`] = torchSave(cnn2());
  const head = await headSpec('bindembed21dl').load(rt, { hiddenSize: 3, files: memoryFiles(files) });
  head.dispose();
  files['checkpoint4.pt'] = torchSave(cnn2({ 4: module('torch.nn.modules.linear.Linear', { weight: t(2, 2) }) }));
  await rejects(headSpec('bindembed21dl').load(rt, { hiddenSize: 3, files: memoryFiles(files) }), 'checkpoint4.pt', 'torch.nn.modules.linear.Linear');
});

const secstruct = (over: Record<string, PyTensor> = {}, drop?: string) => {
  const sd: Record<string, PyTensor> = {
    'elmo_feature_extractor.0.weight': t(8, 6, 7, 1), 'elmo_feature_extractor.0.bias': t(8),
    'dssp3_classifier.0.weight': t(3, 8, 7, 1), 'dssp3_classifier.0.bias': t(3),
    'dssp8_classifier.0.weight': t(8, 8, 7, 1), 'dssp8_classifier.0.bias': t(8),
    'diso_classifier.0.weight': t(2, 8, 7, 1), 'diso_classifier.0.bias': t(2),
    ...over,
  };
  if (drop) delete sd[drop];
  return memoryFiles({ 'secstruct_checkpoint.pt': stateDictFile(sd) });
};

test('a checkpoint that does not fit the declared shapes is a WeightsError naming the tensor', async () => {
  const rt = await runtime();
  (await headSpec('secstruct').load(rt, { hiddenSize: 6, files: secstruct() })).dispose();
  await rejects(headSpec('secstruct').load(rt, { hiddenSize: 6, files: secstruct({ 'dssp3_classifier.0.weight': t(4, 8, 7, 1) }) }), 'secstruct_checkpoint.pt', 'tensor "dssp3_classifier.0.weight" is [4, 8, 7, 1]', 'needs [3, F=8');
  await rejects(headSpec('secstruct').load(rt, { hiddenSize: 6, files: secstruct({ 'dssp8_classifier.0.weight': t(8, 9, 7, 1) }) }), 'tensor "dssp8_classifier.0.weight"', 'F=8');
  await rejects(headSpec('secstruct').load(rt, { hiddenSize: 6, files: secstruct({ 'diso_classifier.0.bias': t(3) }) }), 'tensor "diso_classifier.0.bias" is [3]');
  await rejects(headSpec('secstruct').load(rt, { hiddenSize: 6, files: secstruct({}, 'dssp8_classifier.0.bias') }), 'needs tensor "dssp8_classifier.0.bias"');
  await rejects(headSpec('secstruct').load(rt, { hiddenSize: 1024, files: secstruct() }), 'tensor "elmo_feature_extractor.0.weight" takes 6 input channels', 'embeddings have 1024');
  await rejects(headSpec('secstruct').load(rt, { hiddenSize: 6, files: secstruct({ 'elmo_feature_extractor.0.weight': t(8, 6, 6, 1) }) }), 'odd');
  await rejects(headSpec('secstruct').load(rt, { hiddenSize: 6, files: memoryFiles({}) }), 'needs secstruct_checkpoint.pt');
  // No state dict anywhere in the container.
  const odd = memoryFiles({ 'secstruct_checkpoint.pt': torchSave(new Map<string, PyValue>([['epoch', 3], ['weights', [1, 2]]])) });
  await rejects(headSpec('secstruct').load(rt, { hiddenSize: 6, files: odd }), 'no state dict', 'epoch, weights');
});

test("the published containers: TMbed's {'model': ...} with int64 buffers, ProstT5's hold_out_checkpoint folder", async () => {
  const tm = stateDictOf(await readTorchCheckpoint(new MemorySource('cv_0.pt', readFileSync(headDir('tmbed', 'cv_0.pt')))));
  assert.ok(tm.has('model.input.norm.channels') && tm.get('model.input.norm.channels')!.storage.dtype === null);
  assert.equal(tm.get('filter_kernel')!.size, [7]);
  const p3 = stateDictOf(await readTorchCheckpoint(new MemorySource('model.pt', readFileSync(headDir('prostt5-3di', 'model.pt')))));
  assert.equal(p3.get('classifier.3.weight')!.size, [20, 32, 7, 1]);
});

test.run();

// Small head checkpoints for the demo model (d_model 128): every head, random seeded weights,
// in each published container (bindembed21dl as pickled modules), written with the test's own
// torch.save writer. Used by test/predict.test.ts and the demo page's browser test.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomArray } from './numeric.js';
import { PyCall, PyObject, PyTensor, stateDictFile, torchSave, type PyValue } from './torch-save.js';

/** Writes every head's checkpoint(s), sized for d_model = D, in root/<head>/; returns the folders. */
export function demoHeads(root: string, D = 128): string[] {
  let seed = 1;
  const w = (scale: number, ...shape: number[]) => new PyTensor(randomArray(shape.reduce((a, b) => a * b, 1), seed++, scale), shape);
  const pos = (...shape: number[]) => new PyTensor(Float32Array.from(randomArray(shape.reduce((a, b) => a * b, 1), seed++, 0.5), (v) => 1 + v), shape);
  /** bindPredict's GitHub form: a pickled CNN2Layers module. */
  const cnn2Module = (): Uint8Array => {
    const mod = (cls: string, params: Record<string, PyTensor>, modules: Record<string, PyValue> = {}) => new PyObject(cls, new Map<string, PyValue>([
      ['training', false], ['_parameters', new Map(Object.entries(params))], ['_buffers', new Map()],
      ['_non_persistent_buffers_set', new PyCall('__builtin__.set', [[]])], ['_modules', new Map(Object.entries(modules))],
    ]));
    return torchSave(mod('architectures.CNN2Layers', {}, {
      conv1: mod('torch.nn.modules.container.Sequential', {}, {
        0: mod('torch.nn.modules.conv.Conv1d', { weight: w(0.2, 16, D, 5), bias: w(0.1, 16) }),
        1: mod('torch.nn.modules.activation.ELU', {}),
        2: mod('torch.nn.modules.dropout.Dropout', {}),
        3: mod('torch.nn.modules.conv.Conv1d', { weight: w(0.3, 3, 16, 5), bias: w(0.1, 3) }),
      }),
    }));
  };
  const files: Record<string, Record<string, Uint8Array>> = {
    secstruct: { 'secstruct_checkpoint.pt': stateDictFile({
      'elmo_feature_extractor.0.weight': w(0.1, 8, D, 7, 1), 'elmo_feature_extractor.0.bias': w(0.1, 8),
      'dssp3_classifier.0.weight': w(0.3, 3, 8, 7, 1), 'dssp3_classifier.0.bias': w(0.1, 3),
      'dssp8_classifier.0.weight': w(0.3, 8, 8, 7, 1), 'dssp8_classifier.0.bias': w(0.1, 8),
      'diso_classifier.0.weight': w(0.3, 2, 8, 7, 1), 'diso_classifier.0.bias': w(0.1, 2),
    }) },
    subcell: { 'subcell_checkpoint.pt': stateDictFile({
      'layer.0.weight': w(0.2, 8, D), 'layer.0.bias': w(0.1, 8), 'loc_classifier.weight': w(0.5, 10, 8), 'loc_classifier.bias': w(0.1, 10),
      'mem_classifier.weight': w(0.5, 2, 8), 'mem_classifier.bias': w(0.1, 2),
    }) },
    la: Object.fromEntries([['la_prott5_subcellular_localization.pt', 10], ['la_prott5_subcellular_solubility.pt', 2]].map(([f, C]) => [f as string, stateDictFile({
      'feature_convolution.weight': w(0.1, D, D, 9), 'feature_convolution.bias': w(0.1, D),
      'attention_convolution.weight': w(0.1, D, D, 9), 'attention_convolution.bias': w(0.1, D),
      'linear.0.weight': w(0.1, 8, 2 * D), 'linear.0.bias': w(0.1, 8),
      'linear.3.weight': pos(8), 'linear.3.bias': w(0.1, 8), 'linear.3.running_mean': w(0.1, 8), 'linear.3.running_var': pos(8),
      'output.weight': w(0.5, C as number, 8), 'output.bias': w(0.1, C as number),
    })])),
    tmbed: Object.fromEntries([0, 1, 2, 3, 4].map((k) => [`cv_${k}.pt`, torchSave(new Map<string, PyValue>([['num_epochs', 3], ['model', new Map<string, PyValue>(Object.entries({
      filter_kernel: new PyTensor(Float32Array.of(0.004433, 0.054006, 0.242036, 0.39905, 0.242036, 0.054006, 0.004433), [7]),
      ...Object.fromEntries(['input', 'dwc1', 'dwc2'].flatMap((b) => [
        [`model.${b}.norm.weight`, pos(1, 16, 1, 1)], [`model.${b}.norm.bias`, w(0.1, 1, 16, 1, 1)], [`model.${b}.norm.eps`, new PyTensor(Float32Array.of(1e-6), [])],
      ])),
      'model.input.conv.weight': w(0.2, 16, D, 1, 1), 'model.dwc1.conv.weight': w(0.3, 16, 1, 9, 1), 'model.dwc2.conv.weight': w(0.3, 16, 1, 21, 1),
      'model.output.weight': w(0.5, 5, 48, 1, 1), 'model.output.bias': w(0.5, 5),
    }))]]))])),
    seth: { 'CNN.pt': stateDictFile({ 'classifier.0.weight': w(0.1, 6, D, 5, 1), 'classifier.0.bias': w(0.1, 6), 'classifier.2.weight': w(3, 1, 6, 5, 1), 'classifier.2.bias': new PyTensor(Float32Array.of(8), [1]) }) },
    bindembed21dl: Object.fromEntries([1, 2, 3, 4, 5].map((k) => [`checkpoint${k}.pt`, cnn2Module()])),
    prott5cons: { 'ProtT5cons_checkpoint.pt': stateDictFile({ 'classifier.0.weight': w(0.1, 8, D, 7, 1), 'classifier.0.bias': w(0.1, 8), 'classifier.3.weight': w(0.4, 9, 8, 7, 1), 'classifier.3.bias': w(0.1, 9) }) },
    'prostt5-3di': { 'model.pt': torchSave(new Map<string, PyValue>([['epoch', 1], ['state_dict', new Map<string, PyValue>(Object.entries({ 'classifier.0.weight': w(0.1, 8, D, 7, 1), 'classifier.0.bias': w(0.2, 8), 'classifier.3.weight': w(0.4, 20, 8, 7, 1), 'classifier.3.bias': w(0.1, 20) }))]]), 'hold_out_checkpoint') },
  };
  return Object.entries(files).map(([head, fs]) => {
    const dir = join(root, head);
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of Object.entries(fs)) writeFileSync(join(dir, name), bytes);
    return dir;
  });
}


// Preloaded into a `prott5` process by a test (node --import): loses the GPU device after the
// N-th batch is saved (FAULT_LOSE_DEVICE_AFTER_BATCHES), as a driver reset would. It patches
// Dawn's and h5wasm's classes from outside, so the engine itself holds no fault switch: the
// device is captured where it is created, and a batch counts as saved when the HDF5 writer
// has flushed it twice (its data, then the marks that say its records are whole).
import h5wasm from 'h5wasm/node';
import { globals } from 'webgpu';

const after = Number(process.env.FAULT_LOSE_DEVICE_AFTER_BATCHES);
if (!(after > 0)) throw new Error('lose-device preload: set FAULT_LOSE_DEVICE_AFTER_BATCHES to a positive count');

const devices: GPUDevice[] = [];
const Adapter = (globals as unknown as { GPUAdapter: { prototype: GPUAdapter } }).GPUAdapter;
const requestDevice = Adapter.prototype.requestDevice;
Adapter.prototype.requestDevice = async function (this: GPUAdapter, ...args: Parameters<GPUAdapter['requestDevice']>) {
  const d = await requestDevice.apply(this, args);
  devices.push(d);
  return d;
};

const File = h5wasm.File as unknown as { prototype: { flush(): void } };
const flush = File.prototype.flush;
let flushes = 0;
File.prototype.flush = function (this: unknown) {
  flush.call(this);
  if (++flushes === 2 * after) for (const d of devices) d.destroy();
};

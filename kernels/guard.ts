import { ProtT5Error } from '../src/errors.js';
import type { Tensor, TensorDType } from '../src/gpu/tensor.js';

/** A kernel was called with shapes or dtypes it does not take (a bug in the caller). */
export class KernelArgumentError extends ProtT5Error {
  override readonly code = 'KERNEL_ARGUMENT';
}

const fmt = (t: Tensor) => `${t.label}: ${t.dtype}[${t.shape.join(', ')}]`;

export function guard(op: string, ok: boolean, msg: string, ...tensors: Tensor[]): void {
  if (!ok) throw new KernelArgumentError(`${op}: ${msg} (${tensors.map(fmt).join('; ')})`, { op });
}

export function guardDtype(op: string, t: Tensor, allowed: TensorDType[]): void {
  guard(op, allowed.includes(t.dtype), `${t.label} must be ${allowed.join(' or ')}`, t);
}

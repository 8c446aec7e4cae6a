// Fused T5 attention with relative-position bias and key mask — wrapper for shaders/attention.wgsl.
import source from '../shaders/attention.wgsl';
import sourceUnrolled from '../shaders/attention_unrolled.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { guard, guardDtype } from './guard.js';
import { fill, packParams, unroll } from './template.js';

export interface AttentionTile {
  /** 'loop': any d_kv, loops over private arrays. 'unrolled': d_kv % 4 == 0, named vec4 registers. */
  family: 'loop' | 'unrolled';
  /** Query rows per workgroup (one invocation each) and keys per staged tile. */
  tq: number;
  tk: number;
}

export const DEFAULT_ATTENTION_TILE: AttentionTile = { family: 'unrolled', tq: 32, tk: 8 };

/** The tile to use when the chosen one cannot run this head size (unrolled needs d_kv % 4 == 0). */
export function attentionTileFor(dk: number, t: AttentionTile): AttentionTile {
  return t.family === 'unrolled' && dk % 4 !== 0 ? { ...t, family: 'loop' } : t;
}

export function attentionVariantName(dk: number, t: AttentionTile): string {
  return `attention_${t.family}_dk${dk}_tq${t.tq}_tk${t.tk}`;
}

export function attentionWgsl(dk: number, t: AttentionTile): string {
  if (t.family === 'loop') return fill(source, { DK: dk, TQ: t.tq, TK: t.tk, TK_DK: t.tk * dk });
  const dk4 = dk / 4;
  return unroll(fill(sourceUnrolled, { DK4: dk4, TQ: t.tq, TK: t.tk, TK_DK4: t.tk * dk4 }), { DK4: dk4, TK: t.tk });
}

export interface AttentionArgs {
  q: Tensor; // [B, L, H * DK] f32
  k: Tensor; // [B, L, H * DK] f32
  v: Tensor; // [B, L, H * DK] f32
  bias: Tensor; // [H, 2R + 1] f32: bias for relative position rel = key - query at column rel + R
  lengths: Tensor; // [B] u32: valid tokens per sequence (keys at or beyond are masked)
  out: Tensor; // [B, L, H * DK] f32
  heads: number;
  tile?: AttentionTile;
}

export async function attention(rt: Runtime, a: AttentionArgs): Promise<void> {
  const { q, k, v, bias, lengths, out, heads: H } = a;
  const tile = attentionTileFor(a.q.shape[2] / a.heads, a.tile ?? DEFAULT_ATTENTION_TILE);
  for (const t of [q, k, v, bias, out]) guardDtype('attention', t, ['f32']);
  guardDtype('attention', lengths, ['u32']);
  guard('attention', q.shape.length === 3, 'q must be [B, L, H*DK]', q);
  const [B, L, HD] = q.shape;
  guard('attention', HD % H === 0, `inner dim ${HD} must be a multiple of heads ${H}`, q);
  const DK = HD / H;
  for (const t of [k, v, out]) guard('attention', t.shape.join() === q.shape.join(), 'q, k, v and out must have one shape', q, t);
  guard('attention', bias.shape.length === 2 && bias.shape[0] === H && bias.shape[1] % 2 === 1, 'bias must be [H, 2R+1]', bias);
  guard('attention', lengths.numel === B, `lengths must be [${B}]`, lengths);
  const R = (bias.shape[1] - 1) / 2;
  const wgBytes = 2 * tile.tk * DK * 4;
  guard('attention', wgBytes <= rt.limits.maxComputeWorkgroupStorageSize, `tile needs ${wgBytes} B of workgroup memory, the device has ${rt.limits.maxComputeWorkgroupStorageSize}`, q);
  if (B * L === 0) return;
  const pipeline = await rt.pipeline(attentionVariantName(DK, tile), () => attentionWgsl(DK, tile));
  rt.dispatch(pipeline, packParams(tile.family === 'loop' ? source : sourceUnrolled, { B, L, H, R }), [q.buffer, k.buffer, v.buffer, bias.buffer, lengths.buffer, out.buffer], [
    Math.ceil(L / tile.tq),
    H,
    B,
  ]);
}

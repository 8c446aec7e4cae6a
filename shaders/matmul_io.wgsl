// What every matmul family shares, placed at the MATMUL_IO placeholder by kernels/matmul.ts: Params, the
// uniform and y bindings, and store() with the fused epilogue. Each family declares x (binding 1)
// and W (binding 2) itself, in its own vector width.
// EPILOGUE: EPILOGUE_NONE store; EPILOGUE_RELU ReLU, then store; EPILOGUE_ADD add into y (the
// residual stream: y += x · Wᵀ); EPILOGUE_GATE_GELU y = gelu_tanh(y) · (x · Wᵀ), with y holding
// the gate's matmul (T5 v1.1 / Ankh: gelu_new(wi_0 x) · wi_1 x, stored by the wi_1 matmul);
// EPILOGUE_BIAS + bias[n]; EPILOGUE_BIAS_GELU + bias[n], then erf GELU; EPILOGUE_BIAS_ADD +
// bias[n], added into y. The codes are generated from EPILOGUE_CODE in kernels/matmul.ts at the
// EPILOGUES placeholder; a new epilogue is a line there and a branch in store(). The bias
// (binding 4, f32 [N]) is bound for every epilogue; the wrapper binds W's buffer there when the
// epilogue has no bias (never read then).

struct Params {
  M: u32,         // rows of x and y
  N: u32,         // rows of W = columns of y
  K: u32,         // columns of x and of W (elements; a multiple of 4 for k4/k4dot, of 8 for k8dot)
  x_offset: u32,  // index of x[0, 0] in the x buffer (elements; a multiple of 4 for the vector families)
  w_offset: u32,  // index of W[0, 0] in the w buffer (elements; a multiple of 4 for the vector families)
  y_offset: u32,  // index of y[0, 0] in the y buffer (elements)
  // A batch of problems, one per workgroup z (heads of attention's gemm family): problem z reads
  // and writes from x_offset + z · x_batch, w_offset + z · w_batch, y_offset + z · y_batch
  // (elements; multiples of 4 like the offsets). One problem: z is 0 and these are unused.
  x_batch: u32,
  w_batch: u32,
  y_batch: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

{{EPILOGUES}}
override EPILOGUE: u32;

// Where this workgroup's problem starts in x, W and y (elements): set_batch(z) first thing in main.
var<private> x_base: u32;
var<private> w_base: u32;
var<private> y_base: u32;

fn set_batch(z: u32) {
  x_base = p.x_offset + z * p.x_batch;
  w_base = p.w_offset + z * p.w_batch;
  y_base = p.y_offset + z * p.y_batch;
}

// transformers' gelu_new: 0.5·g·(1 + tanh(sqrt(2/π)·(g + 0.044715·g³))). The argument is clamped
// to ±15 (tanh is ±1 in f32 from ±9.1 on), so no driver's tanh sees an overflowing exp.
fn gelu_tanh(g: f32) -> f32 {
  let u = 0.7978845608028654 * (g + 0.044715 * g * g * g);
  return 0.5 * g * (1.0 + tanh(clamp(u, -15.0, 15.0)));
}

// erf by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7): WGSL has no erf.
fn erf_as(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / fma(0.3275911, a, 1.0);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}

// GELU as transformers' "gelu": x · Φ(x) = 0.5 · x · (1 + erf(x / √2)).
fn gelu_erf(x: f32) -> f32 {
  return 0.5 * x * (1.0 + erf_as(x * 0.70710678118654752));
}

// y[m, n] = v with the epilogue; outputs past M or N (edge tiles) are dropped.
fn store(m: u32, n: u32, v: f32) {
  if (m >= p.M || n >= p.N) {
    return;
  }
  let i = y_base + m * p.N + n;
  if (EPILOGUE == EPILOGUE_RELU) {
    y[i] = max(v, 0.0);
  } else if (EPILOGUE == EPILOGUE_ADD) {
    y[i] = y[i] + v;
  } else if (EPILOGUE == EPILOGUE_GATE_GELU) {
    y[i] = gelu_tanh(y[i]) * v;
  } else if (EPILOGUE == EPILOGUE_BIAS) {
    y[i] = v + bias[n];
  } else if (EPILOGUE == EPILOGUE_BIAS_GELU) {
    y[i] = gelu_erf(v + bias[n]);
  } else if (EPILOGUE == EPILOGUE_BIAS_ADD) {
    y[i] = y[i] + (v + bias[n]);
  } else {
    y[i] = v;
  }
}

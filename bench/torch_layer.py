#!/usr/bin/env python3
"""The bench's PyTorch CPU peer: one T5 encoder layer (ProtT5's: RMS norm, self-attention with a
relative-position bias and no score scaling, ReLU feed-forward, residuals) in fp32 on every core,
written with torch ops (no transformers), on weights and a hidden state the bench wrote.

  python3 bench/torch_layer.py DIR [--reps N] [--threads N]

DIR holds meta.json ({"L", "d_model", "d_ff", "heads", "d_kv", "R", "eps", "tensors": {name: [shape]}})
and one little-endian float32 file per tensor, NAME.f32: h0 [L, d_model]; ln0, ln1 [d_model];
q, k, v [heads*d_kv, d_model]; o [d_model, heads*d_kv]; wi [d_ff, d_model]; wo [d_model, d_ff]
(Hugging Face layouts, y = x W^T); bias [heads, 2R+1], the bias of relative position j - i
(clamped to +-R) at column j - i + R. Writes DIR/out.f32 (the layer's output [L, d_model]) and
prints one JSON line: {"ms": median ms per layer, "reps", "threads", "torch", "blas"}, "blas" the
BLAS library the process loaded (Debian's torch goes through libblas.so.3, which is the slow
reference BLAS unless OpenBLAS is installed), null where it cannot tell.
"""
import json
import os
import sys
import time

import torch


def load(d, name, shape):
    with open(os.path.join(d, name + ".f32"), "rb") as f:
        data = bytearray(f.read())
    t = torch.frombuffer(data, dtype=torch.float32)
    assert t.numel() == int(torch.tensor(shape).prod().item()), f"{name}: {t.numel()} values for shape {shape}"
    return t.reshape(shape)


def rms_norm(x, g, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


def layer(w, h, bias, m):
    L, H, DK = m["L"], m["heads"], m["d_kv"]
    x = rms_norm(h, w["ln0"], m["eps"])
    q = (x @ w["q"].T).view(L, H, DK).transpose(0, 1)  # [H, L, DK]
    k = (x @ w["k"].T).view(L, H, DK).transpose(0, 1)
    v = (x @ w["v"].T).view(L, H, DK).transpose(0, 1)
    scores = q @ k.transpose(1, 2) + bias  # [H, L, L], T5: unscaled
    a = torch.softmax(scores, dim=-1) @ v  # [H, L, DK]
    h1 = h + a.transpose(0, 1).reshape(L, H * DK) @ w["o"].T
    x1 = rms_norm(h1, w["ln1"], m["eps"])
    return h1 + torch.relu(x1 @ w["wi"].T) @ w["wo"].T


def loaded_blas():
    """The BLAS shared library mapped into this process (its real path), from /proc/self/maps; None off Linux."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line and "blas" in os.path.basename(line.split()[-1]).lower()}
    except OSError:
        return None
    return sorted(paths)[0] if paths else None


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    d = args[0]
    opt = {args[i]: args[i + 1] for i in range(1, len(args) - 1, 2)}
    reps = int(opt.get("--reps", "3"))
    threads = int(opt.get("--threads", str(os.cpu_count() or 1)))
    torch.set_num_threads(threads)
    with open(os.path.join(d, "meta.json")) as f:
        m = json.load(f)
    w = {n: load(d, n, s) for n, s in m["tensors"].items()}
    L, R = m["L"], m["R"]
    i = torch.arange(L).view(L, 1)
    j = torch.arange(L).view(1, L)
    rel = (j - i).clamp(-R, R) + R  # [L, L]
    h = w.pop("h0")
    table = w.pop("bias")
    with torch.inference_mode():
        bias = table[:, rel]  # [H, L, L], gathered per call as an app would; timed below with the layer
        out = layer(w, h, bias, m)  # warm-up
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            bias = table[:, rel]
            out = layer(w, h, bias, m)
            times.append((time.perf_counter() - t0) * 1000)
    out.contiguous().numpy().astype("<f4").tofile(os.path.join(d, "out.f32"))
    times.sort()
    print(json.dumps({"ms": times[(len(times) - 1) // 2], "reps": reps, "threads": threads, "torch": torch.__version__, "blas": loaded_blas()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

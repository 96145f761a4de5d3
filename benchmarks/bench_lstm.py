"""Benchmark LSTM training throughput (forward + backward) on the CPU: NumPy, torch ops, torch.nn.LSTM.

    python benchmarks/bench_lstm.py [--reps 5] [--threads 2]

At B = 64, T = 100, n = d = 256 in float32, one training step of each implementation is timed (best of
``--reps`` after a warm-up): (a) the NumPy LSTM, ``lstm_forward`` + ``lstm_backward``; (b) ``ScratchLSTM`` (torch
ops, autograd); (c) ``torch.nn.LSTM``. All three compute the gradients of the weights and of the inputs x.
Prints tokens/second (B T per step), the ratio to nn.LSTM, and the GFLOP/s each achieves, counting only the
LSTM's matrix products: 2 B T 4n (n + d) forward and about 3 times that forward + backward. The machine's
matmul peak is the best GFLOP/s of a large float32 matrix product (torch and NumPy, the same threads),
measured before and after the LSTMs.
Targets: NumPy >= 0.5x nn.LSTM, torch ops >= 0.5x, nn.LSTM >= 60% of the matmul peak.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

_threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
os.environ["OPENBLAS_NUM_THREADS"] = _threads  # before NumPy loads OpenBLAS: NumPy gets torch's thread count

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lecture_code.models import ScratchLSTM  # noqa: E402
from lecture_code.numpy_lstm import init_lstm_params, lstm_backward, lstm_forward  # noqa: E402

B, T, N, D = 64, 100, 256, 256


def best_time(fn: Callable[[], object], reps: int) -> float:
    """The fastest of ``reps`` timed calls after one warm-up call, in seconds (the least disturbed by other load)."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def matmul_peak(reps: int, size: int = 2048) -> tuple[float, float]:
    """GFLOP/s of a (size x size) @ (size x size) float32 product, best of reps: (torch, NumPy)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    an, bn = a.numpy(), b.numpy()
    flops = 2 * size**3
    return flops / best_time(lambda: a @ b, reps) / 1e9, flops / best_time(lambda: an @ bn, reps) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions per implementation")
    parser.add_argument("--threads", type=int, default=2, help="torch and OpenBLAS threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)

    x = rng.standard_normal((B, T, D), dtype=np.float32)
    dH = rng.standard_normal((B, T, N), dtype=np.float32)
    zeros = np.zeros((B, N), np.float32)
    params = {k: v.astype(np.float32) for k, v in init_lstm_params(D, N, rng, forget_bias=1.0).items()}

    def numpy_step() -> None:
        _, _, caches = lstm_forward(x, zeros, zeros, params)
        lstm_backward(dH, caches)

    xt, dHt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(dH)
    h0 = torch.zeros(B, N)

    def torch_step(model: torch.nn.Module, state: object) -> Callable[[], None]:
        def step() -> None:
            xt.grad = None
            model.zero_grad(set_to_none=True)
            H, _ = model(xt, state)
            H.backward(dHt)
        return step

    peak_before = matmul_peak(args.reps)
    scratch = ScratchLSTM(D, N, forget_bias=1.0)
    lstm = torch.nn.LSTM(D, N, batch_first=True)
    rows = [
        ("NumPy lstm_forward + lstm_backward", best_time(numpy_step, args.reps)),
        ("ScratchLSTM (torch ops, autograd)", best_time(torch_step(scratch, (h0, h0)), args.reps)),
        ("torch.nn.LSTM", best_time(torch_step(lstm, (h0[None], h0[None])), args.reps)),
    ]
    peak_torch, peak_numpy = map(max, zip(peak_before, matmul_peak(args.reps), strict=True))  # before and after
    flops = 3 * 2 * B * T * 4 * N * (N + D)  # forward + backward ≈ 3 x forward, matrix products only

    print(f"B={B}, T={T}, n={N}, d={D}, float32; {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{args.threads} threads; torch {torch.__version__}, NumPy {np.__version__}, Python "
          f"{platform.python_version()}; best of {args.reps}")
    print(f"matmul peak (2048^3 float32): torch {peak_torch:.1f} GFLOP/s, NumPy {peak_numpy:.1f} GFLOP/s\n")
    print("| implementation | ms / step | tokens/s | vs nn.LSTM | GFLOP/s | % of torch matmul peak |")
    print("|---|---:|---:|---:|---:|---:|")
    ref = rows[-1][1]
    for name, sec in rows:
        gflops = flops / sec / 1e9
        print(f"| {name} | {1e3 * sec:.1f} | {B * T / sec:,.0f} | {ref / sec:.2f}x | {gflops:.1f} | "
              f"{100 * gflops / peak_torch:.0f}% |")
    print("\ntargets: NumPy >= 0.50x, ScratchLSTM >= 0.50x, nn.LSTM >= 60% of the matmul peak")


if __name__ == "__main__":
    main()

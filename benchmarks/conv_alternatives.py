"""Other ways to compute the paper's 64 -> 64 convolution (kernel 8), measured against the one
ramancam uses (issue 6: "whatever does not help is measured and dropped").

The second convolution is 87 % of a training step's arithmetic, and oneDNN's direct kernel
already runs it near the machine's matrix-multiply peak, so only an algorithm with fewer
multiplications could make the step much faster in fp32. Measured here, in one process,
alternating, on the layer's real shape (726 pooled points, NWC / channels-last):

- ``direct``: what ships: ``conv2d`` on the channels-last view, then the pool reads even and
  odd positions.
- ``fft``: FFT convolution: ``rfft`` of every channel, one complex product per frequency
  (a batched ``(bins, n, 64) @ (bins, 64, 64)`` matrix product, about 3.8x fewer real
  multiplications than the direct sum), ``irfft``.
- ``two stride-2``: the even and the odd outputs as two stride-2 convolutions, so the pool is a
  contiguous ``maximum`` (the trick that helps the first block).

Prints milliseconds per call (median of 9) for the forward pass (inference mode) and for
forward + backward, at batch 32 and 256, and the largest difference from ``direct``.

    .venv/bin/python benchmarks/conv_alternatives.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch.nn import functional as F

C, L, K = 64, 726, 8
LEFT, RIGHT = (K - 1) // 2, K - 1 - (K - 1) // 2
N_FFT = 768  # >= L + K - 1, a product of small primes


def direct(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(n, L, C) NWC -> (n, L, C): the shipped convolution, "same" padding."""
    w4 = w.unsqueeze(2).contiguous(memory_format=torch.channels_last)
    y = F.conv2d(h.transpose(1, 2).unsqueeze(2), w4, b, padding=(0, RIGHT))
    return y.squeeze(2).transpose(1, 2)[:, RIGHT - LEFT:RIGHT - LEFT + L]


def fft(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The same cross-correlation through the FFT (circular, long enough not to wrap)."""
    x = torch.fft.rfft(h, n=N_FFT, dim=1)                         # (n, bins, C)
    wf = torch.fft.rfft(w, n=N_FFT, dim=2).conj()                 # (F, C, bins)
    z = torch.bmm(x.permute(1, 0, 2).contiguous(),                # (bins, n, C)
                  wf.permute(2, 1, 0).contiguous())               # (bins, C, F)
    y = torch.fft.irfft(z.permute(1, 0, 2), n=N_FFT, dim=1)       # (n, N_FFT, F)
    # z[t] = sum_j w[j] h[t + j]; the "same" output at t is z[t - LEFT] (mod N_FFT)
    return torch.roll(y, LEFT, dims=1)[:, :L] + b


def two_stride2(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """The even and the odd outputs as two stride-2 convolutions (channels-last)."""
    w4 = w.unsqueeze(2).contiguous(memory_format=torch.channels_last)
    hp = F.pad(h.transpose(1, 2).unsqueeze(2), (LEFT, RIGHT))
    even = F.conv2d(hp, w4, b, stride=(1, 2))
    odd = F.conv2d(hp[..., 1:], w4, b, stride=(1, 2))
    return even, odd


def _timed(fn: Callable[[], object], reps: int = 9) -> float:
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def _measure(n: int) -> None:
    h = torch.randn(n, L, C)
    w = torch.randn(C, C, K) * 0.05
    b = torch.randn(C) * 0.1
    ref = direct(h, w, b)
    err = (fft(h, w, b) - ref).abs().max().item() / ref.abs().max().item()
    ev, od = two_stride2(h, w, b)
    half = L // 2
    err2 = max((ev.squeeze(2).transpose(1, 2)[:, :half] - ref[:, 0::2]).abs().max().item(),
               (od.squeeze(2).transpose(1, 2)[:, :half] - ref[:, 1::2]).abs().max().item()
               ) / ref.abs().max().item()
    fns: dict[str, Callable[..., object]] = {"direct": direct, "fft": fft,
                                               "two stride-2": two_stride2}
    fwd: dict[str, list[float]] = {k: [] for k in fns}
    both: dict[str, list[float]] = {k: [] for k in fns}
    hg, wg, bg = (t.clone().requires_grad_() for t in (h, w, b))

    def forward(f: Callable[..., object]) -> None:
        with torch.inference_mode():
            f(h, w, b)

    def fwd_bwd(f: Callable[..., object]) -> None:
        out = f(hg, wg, bg)
        parts = out if isinstance(out, tuple) else (out,)
        sum(o.sum() for o in parts).backward()  # type: ignore[union-attr]

    for _ in range(3):  # alternate the methods, several rounds
        for name, f in fns.items():
            fwd[name].append(_timed(lambda f=f: forward(f), 3))
            both[name].append(_timed(lambda f=f: fwd_bwd(f), 3))
    print(f"\nbatch {n}: max relative difference from direct: fft {err:.1e}, "
          f"two stride-2 {err2:.1e}")
    print(f"{'method':<14}{'forward (ms)':>14}{'fwd + bwd (ms)':>16}")
    for name in fns:
        print(f"{name:<14}{statistics.median(fwd[name]):>14.1f}"
              f"{statistics.median(both[name]):>16.1f}")


def main() -> None:
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"layer {C} -> {C} channels, kernel {K}, {L} points")
    for n in (32, 256):
        _measure(n)


if __name__ == "__main__":
    main()

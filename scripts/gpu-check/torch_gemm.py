"""torch.matmul on the grouped-GEMM shapes of GemmBench, on the same card: bf16 inputs, timed
with CUDA events (3 warm-ups, mean of 10). Per shape EXMxNxK: 'batched' is one torch.matmul of
(E, M, K) by (E, K, N); 'loop' is E torch.matmul calls of (M, K) by (K, N). Prints lines
    torch shape=E8xM512xN14336xK4096 mode=batched ms=1.2345 tflops=456.7
"""
import sys

import torch


def timed(fn, warmups=3, runs=10):
    for _ in range(warmups):
        fn()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(runs):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / runs


def main(shapes):
    if not torch.cuda.is_available():
        print("torch: skipped reason=torch sees no GPU")
        return 2
    print("torch: device=%s torch=%s" % (torch.cuda.get_device_name(0), torch.__version__))
    for s in shapes:
        e, m, n, k = (int(v) for v in s.lower().split("x"))
        x = torch.rand(e, m, k, device="cuda", dtype=torch.bfloat16) - 0.5
        w = (torch.rand(e, n, k, device="cuda", dtype=torch.bfloat16) - 0.5) * 0.05
        wt = w.transpose(1, 2)
        flops = 2.0 * e * m * n * k
        name = "E%dxM%dxN%dxK%d" % (e, m, n, k)
        for mode, fn in (("batched", lambda: torch.matmul(x, wt)),
                         ("loop", lambda: [torch.matmul(x[i], wt[i]) for i in range(e)])):
            ms = timed(fn)
            print("torch shape=%s mode=%s ms=%.4f tflops=%.1f" % (name, mode, ms,
                                                                  flops / (ms * 1e-3) / 1e12),
                  flush=True)
        del x, w, wt
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What subnormal floats cost this CPU in creg's kernels, at one thread.

Confident networks make them: a softmax output of exp(-90) or a sigmoid
unit at z = -90 is below float32's smallest normal (1.2e-38), and so are
the deltas they send back.  creg leaves the FPU's flush-to-zero off (its
results are those of IEEE arithmetic, as numpy's and PyTorch's are); some
CPUs take microcode assists on such operands.  This measures whether that
matters here:

- a 512-cube GEMM whose A is normal, then subnormal (creg and numpy);
- one epoch of a [784, 100, 10] sigmoid network whose hidden units sit at
  z = -5 (normal activations), then at z = -90 (subnormal activations,
  derivatives and first-layer deltas): the same FLOPs.

    python benchmarks/subnormals.py       # a markdown table, ~20 s
"""
import numpy as np

import creg
from peers import gemm_call, time_gemm


def gemm_seconds(scale, contender):
    """Seconds of a 512-cube float32 GEMM on one thread whose A holds
    values up to `scale`."""
    rng = np.random.default_rng(0)
    A = (rng.random((512, 512)) * scale).astype(np.float32)
    B = rng.random((512, 512)).astype(np.float32)
    C = np.empty((512, 512), np.float32)
    call = gemm_call(contender, C, A, B, 1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # numpy's BLAS on its own thread count
        return time_gemm(call)
    with threadpool_limits(1):
        return time_gemm(call)


def saturated(bias):
    """A [784, 100, 10] sigmoid network whose hidden units sit at about
    z = bias on inputs in [0, 1]."""
    net = creg.Network([784, 100, 10], **creg.NIELSEN, seed=0)
    net.weights[0][...] *= 1e-3
    net.biases[0][...] = bias
    return net


def epoch(bias, rows=5000):
    """A call that trains saturated(bias) one epoch on `rows` rows."""
    rng = np.random.default_rng(0)
    X = rng.random((rows, 784)).astype(np.float32)
    y = rng.integers(0, 10, rows)
    return lambda: saturated(bias).fit(X, y, epochs=1, lr=1e-3, n_threads=1)


def epoch_seconds(bias):
    return time_gemm(epoch(bias), min_seconds=0)  # the best of 3 epochs


def main():
    rows = []
    for what, normal, subnormal in [
            ("creg GEMM 512³", gemm_seconds(1.0, "creg"),
             gemm_seconds(1e-39, "creg")),
            ("numpy matmul 512³", gemm_seconds(1.0, "numpy"),
             gemm_seconds(1e-39, "numpy")),
            ("creg epoch [784,100,10], 5,000 rows", epoch_seconds(-5.0),
             epoch_seconds(-90.0))]:
        rows.append(f"| {what} | {normal * 1e3:.1f} | {subnormal * 1e3:.1f} "
                    f"| {subnormal / normal:.2f} |")
    print("| float32, 1 thread, best of 3 | normal ms | subnormal ms | "
          "subnormal ÷ normal |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

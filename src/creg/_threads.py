"""The single thread policy: how many OpenMP threads a call may use."""
import os


def effective_n_threads(n_threads):
    """0 lets OpenMP decide (OMP_NUM_THREADS, threadpoolctl, core count)."""
    return 0 if n_threads is None else int(n_threads)


def default_n_threads():
    """What OpenMP's default resolves to, for reports."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    first = env.split(",")[0].strip()
    if first.isdigit() and int(first) > 0:
        return int(first)
    return os.cpu_count() or 1

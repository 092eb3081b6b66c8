"""The figures of ``python -m creg demo --plot``: Nielsen's chapter-3
curves, train and test accuracy per epoch with one panel per regularizer,
and the output/cost comparison of ``--costs``.  The demo checks that
matplotlib is installed before it trains; it is imported only here."""
import io
import math
import os

import numpy as np

from creg._persist import write_atomically

_TRAIN = dict(color="tab:blue", label="train (running mean over the epoch)")
_TEST = dict(color="tab:orange", label="test")
_NIELSEN = dict(color="grey", linestyle="--", linewidth=1,
                label="Nielsen's test peak")


def _figure(**options):
    """A figure of its own, not pyplot's: no backend chosen or changed for
    the caller (the demo may run inside a notebook)."""
    from matplotlib.figure import Figure
    return Figure(**options)


def save(fig, path):
    """Writes the figure to `path` whole or not at all, as a model is saved
    (write_atomically): a failure (a full disk, a format that needs LaTeX,
    Ctrl-C) leaves an earlier figure there as it was, and the file's mode
    is the umask's (or the replaced file's)."""
    image = io.BytesIO()
    fig.savefig(image, dpi=100,
                format=os.path.splitext(path)[1][1:].lower())
    write_atomically(path, image.getbuffer())


def _mean_curve(runs, attribute):
    """(epochs, mean over the seeds) of one per-epoch curve."""
    curve = np.mean([getattr(r, attribute) for r in runs], axis=0)
    step = runs[0].epochs_per_point
    return step * np.arange(1, len(curve) + 1), curve


def regularizers(path, results):
    """One panel per regularizer: mean train and test accuracy (%) per
    epoch, the test peak in the title, Nielsen's where he gives one."""
    columns = 3
    rows = math.ceil(len(results) / columns)
    fig = _figure(figsize=(12, 3 * rows + 0.6))
    axes = fig.subplots(rows, columns, sharex=True, sharey=True,
                        squeeze=False)
    for ax, (row, runs) in zip(axes.flat, results.items()):
        epochs, train = _mean_curve(runs, "train_curve")
        _, test = _mean_curve(runs, "test_curve")
        ax.plot(epochs, 100 * train, **_TRAIN)
        ax.plot(epochs, 100 * test, **_TEST)
        if row.nielsen_peak:
            ax.axhline(float(row.nielsen_peak), **_NIELSEN)
        peak = 100 * np.mean([r.test_peak for r in runs])  # as the table
        ax.set_title(f"{row.name}: test peak {peak:.1f}%", fontsize=10)
        ax.set_ylim(70, 100.5)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(results):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy (%)")
    height = fig.get_figheight()  # inches: the header keeps its size
    fig.suptitle(f"MNIST, 1,000 training images, [784, 30, 10]: mean of "
                 f"{len(runs)} seeds", y=1 - 0.1 / height)
    handles = axes.flat[0].get_lines()
    fig.legend(handles, [h.get_label() for h in handles], loc="upper center",
               bbox_to_anchor=(0.5, 1 - 0.35 / height), ncol=3, frameon=False)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.5 / height,
                        top=1 - 0.95 / height, hspace=0.3, wspace=0.06)
    save(fig, path)


def costs(path, results):
    """Test accuracy (%) of every output/cost pair in one panel, then one
    panel of training cost per cost function (their units differ)."""
    from matplotlib import rcParams
    by_cost = {}
    for row in results:
        by_cost.setdefault(row.cost, []).append(row)
    fig = _figure(figsize=(4 * (1 + len(by_cost)), 4))
    axes = fig.subplots(1, 1 + len(by_cost))
    colors = dict(zip(results, rcParams["axes.prop_cycle"].by_key()[
        "color"]))
    for row, runs in results.items():
        label = f"{row.name}, lr {row.lr:g}"
        epochs, test = _mean_curve(runs, "test_curve")
        axes[0].plot(epochs, 100 * test, color=colors[row], label=label)
        ax = axes[1 + list(by_cost).index(row.cost)]
        ax.plot(epochs, _mean_curve(runs, "train_curve")[1],
                color=colors[row], label=f"lr {row.lr:g}")
        ax.set_title(f"{row.cost.replace('_', '-')} cost (train)",
                     fontsize=10)
    axes[0].set_title("test accuracy (%)", fontsize=10)
    axes[0].set_ylim(0, 100)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    for ax in axes[1:]:
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    handles = axes[0].get_lines()
    fig.legend(handles, [h.get_label() for h in handles],
               loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    save(fig, path)

"""History.plot: train and validation curves with matplotlib, which creg
does not require, so it is imported only here, when a plot is asked for."""
import math


def _matplotlib_pyplot(what="History.plot"):
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{what} needs matplotlib, an optional dependency of creg: "
            "pip install 'creg[plot]' (or pip install matplotlib)") from exc
    return plt


def _has_values(values):
    return any(not math.isnan(v) for v in values)


def plot_history(history):
    """Draw the cost panel and, where accuracies exist, the accuracy panel;
    returns (figure, list of axes)."""
    plt = _matplotlib_pyplot()
    panels = [("cost", history.train_cost, history.eval_cost)]
    if _has_values(history.train_accuracy + history.eval_accuracy):
        panels.append(("accuracy", history.train_accuracy,
                       history.eval_accuracy))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5),
                             squeeze=False)
    axes = list(axes[0])
    epochs = range(1, history.epochs + 1)
    for ax, (name, train, validation) in zip(axes, panels):
        if train:
            ax.plot(epochs, train, label="train")
        if validation:
            ax.plot(epochs, validation, label="validation")
        if history.best_epoch >= 0:
            ax.axvline(history.best_epoch + 1, color="grey", linestyle=":",
                       label="best epoch")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        if ax.get_legend_handles_labels()[0]:  # an empty history draws none
            ax.legend()
    fig.tight_layout()
    return fig, axes

"""RegularizationPath.plot: glmnet's picture of a path with matplotlib,
imported only here, when a plot is asked for."""
import numpy as np

from creg._history_plot import _matplotlib_pyplot


def plot_path(path):
    """Three panels against the strength (log axis): the validation score
    (or, without validation data, the training one), % of weights exactly
    zero, inputs used; returns (figure, list of axes)."""
    plt = _matplotlib_pyplot("RegularizationPath.plot")
    points = [p for p in path if p.strength > 0]
    strengths = [p.strength for p in points]
    linear = np.isnan([p.eval_accuracy for p in path]).all() and \
        np.isnan([p.train_accuracy for p in path]).all()
    validated = not np.isnan([p.eval_cost for p in path]).all()
    where = "validation" if validated else "training"
    name = f"{where} {'cost' if linear else 'accuracy'}"
    score = [getattr(p, f"{'eval' if validated else 'train'}_"
                        f"{'cost' if linear else 'accuracy'}")
             for p in points]
    fig, axes = plt.subplots(3, 1, figsize=(5.5, 6.5), sharex=True)
    panels = [(name, score), ("% weights zero",
                              [100 * p.zero_fraction for p in points]),
              ("inputs used", [p.inputs_used for p in points])]
    for ax, (label, values) in zip(axes, panels):
        ax.plot(strengths, values, marker="o", markersize=3)
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    axes[-1].set_xscale("log")
    axes[-1].set_xlabel(f"{path.penalty} strength (log scale)")
    left_out = len(path) - len(points)
    axes[0].set_title(f"{path.penalty} regularization path"
                      + (f" ({left_out} point at strength 0 not shown)"
                         if left_out else ""), fontsize="medium")
    fig.tight_layout()
    return fig, list(axes)

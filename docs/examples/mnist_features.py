"""An L1 path on 1,000 MNIST images as a feature selection (docs/paths.rst).

    python docs/examples/mnist_features.py

Prints the path, the best strength and its refit, and writes
docs/generated/mnist_path.png (glmnet's picture) and
docs/generated/mnist_importances.png (each pixel's importance, 28 x 28).
"""
import pathlib
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import creg  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "generated"

X, y = creg.datasets.load_mnist_sample()
train, val, test = slice(0, 1000), slice(1000, 3000), slice(3000, 5000)
with warnings.catch_warnings():
    # the strongest points barely learn: that is the top of the path
    warnings.simplefilter("ignore", creg.TrainingWarning)
    path = creg.regularization_path(
        X[train], y[train], [784, 10], l1=np.geomspace(100, 0.3, 12),
        validation_data=(X[val], y[val]), epochs=15, lr=0.1, batch_size=20,
        seed=0)
print("      l1  inputs used  weights == 0  validation acc")
for p in path:                      # from the largest strength down
    print(f"{p.strength:8.2f}  {p.inputs_used:11d}  "
          f"{100 * p.zero_fraction:11.1f}%  {p.eval_accuracy:14.4f}")

strength, net = path.best()
small = net.compress()
print(f"best: l1={strength:.2f}, test accuracy "
      f"{net.accuracy(X[test], y[test]):.4f}; compressed: "
      f"{small.sizes[0]} of 784 inputs, {small.params.size:,} of "
      f"{net.params.size:,} parameters, test accuracy "
      f"{small.accuracy(small.select(X[test]), y[test]):.4f}")
_, refit = path.best(refit=True)
print(f"refit on those {refit.sizes[0]} inputs without L1: test accuracy "
      f"{refit.accuracy(refit.select(X[test]), y[test]):.4f}")

fig, axes = path.plot()
fig.savefig(OUT / "mnist_path.png", dpi=72)
fig, ax = plt.subplots(figsize=(3.6, 3.2))
# log colours (the strengths are a geometric grid); never used: white
importance = np.ma.masked_equal(path.importances.reshape(28, 28), 0)
image = ax.imshow(importance, cmap="viridis", norm=matplotlib.colors.LogNorm(
    vmin=path[-1].strength, vmax=path[0].strength))
ax.set_title("importance: largest l1 still used", fontsize="small")
ax.set_xticks([])
ax.set_yticks([])
fig.colorbar(image, ax=ax, fraction=0.046)
fig.tight_layout()
fig.savefig(OUT / "mnist_importances.png", dpi=72)

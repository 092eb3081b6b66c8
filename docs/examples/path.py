"""An L1 regularization path on the bundled digits (docs/paths.rst).

    python docs/examples/path.py
"""
import numpy as np

import creg

X, y = creg.datasets.load_digits(dtype="float32")
order = np.random.default_rng(0).permutation(len(X))
train, test = order[500:], order[:500]
points = creg.regularization_path(
    X[train], y[train], [64, 100, 10], l1=[0.0, 0.5, 1, 2, 4, 8],
    validation_data=(X[test], y[test]),
    hidden="relu", output="softmax", cost="log_likelihood",
    init="normalized", seed=0,
    epochs=20, lr=0.1)
print("    l1  train acc  test acc  weights == 0")
for p in points:                      # from the largest strength down
    print(f"{p.strength:6.1f}  {p.train_accuracy:9.4f}  "
          f"{p.eval_accuracy:8.4f}  {100 * p.zero_fraction:11.1f}%")

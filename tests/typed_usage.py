"""The public API as the README and docs use it, checked by
``mypy --strict tests/typed_usage.py`` in .ci/run (never run by pytest):
a user's type checker must accept it without a cast or an Any."""
import sys

import numpy as np

import creg

X, y = creg.datasets.load_digits()
X_big, y_big = creg.expand(X, (8, 8), y=y)
X_shifted: np.ndarray = creg.expand(X, [8, 8], shifts=1)
X_rotated, y_rotated = creg.expand(X, (8, 8), 1, [-10.0, 10.0], y)
net = creg.Network([64, 30, 10], **creg.NIELSEN)
history = net.fit(X, y, epochs=1, l2=creg.convert_penalty(
    1e-4, "pytorch", "creg_n", n=len(X)))
last_cost: float = history.train_cost[-1]
record = history.to_dict()
again = creg.load(net.save("typed_usage.creg"))
zeros: float = net.sparsity().zero_fraction
path = creg.regularization_path(X, y, [64, 10], l2=[1.0, 0.1], epochs=1)
strength, best = path.best()
result = creg.sweep(X, y, [64, 30, 10], {"l2": [0.0, 1.0]}, epochs=1,
                    **creg.NIELSEN)
lrs: list[float] = [run.history.lr[-1] for run in result.runs]
config = creg.show_config(as_dict=len(sys.argv) > 1)

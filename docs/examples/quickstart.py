"""The quick start of docs/quickstart.rst (and README.md), as a script.

    python docs/examples/quickstart.py
"""
import numpy as np

import creg

X, y = creg.datasets.load_digits()            # 1,797 8x8 digits scaled to [0, 1]
order = np.random.default_rng(0).permutation(len(X))
train, test = order[500:], order[:500]
net = creg.Network([64, 100, 10], seed=0)     # relu -> softmax, float32
hist = net.fit(X[train], y[train], epochs=30, batch_size=10, lr=0.1, l2=1.0,
               validation_data=(X[test], y[test]), verbose=True)
print(hist.eval_accuracy[-1], net.predict(X[test][:5]))
path = net.save("digits.creg")                # JSON header + raw arrays, no pickle
assert np.array_equal(creg.load(path).params, net.params)

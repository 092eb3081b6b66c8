"""What a fit prints: the README's "What fit prints" section runs this."""
import numpy as np

import creg

X, y = creg.datasets.load_digits()
order = np.random.default_rng(0).permutation(len(X))
train, test = order[500:], order[:500]
net = creg.Network([64, 100, 10], seed=0)    # relu -> softmax
print(net)
hist = net.fit(X[train], y[train], epochs=3, lr=0.1, l1=1.0, max_norm=2.0,
               validation_data=(X[test], y[test]), verbose=True)

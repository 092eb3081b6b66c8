"""What L1's exact zeros leave unused, and the smaller network without it.

``sparsity(net)`` reports, per layer, the fraction of zero weights, the
neurons whose incoming weights are all zero (dead: a constant output
act(b)), the neurons whose outgoing weights are all zero (their output is
never read) and the inputs no neuron uses.  ``compress(net)`` removes all
of them and returns an equivalent smaller Network:

1. forward, layer by layer: each dead hidden neuron's constant output
   act(b_j) times its outgoing weights is added to the next layer's
   biases, and the neuron is removed (which can leave a neuron of the next
   layer dead in turn);
2. backward, from the last hidden layer: neurons whose outgoing weights
   are all zero are removed (which can leave a neuron of the layer before
   unread in turn);
3. the network inputs no first-layer neuron uses are dropped; the
   compressed network keeps the original column numbers in
   ``input_columns`` and takes ``net.select(X)``.

Every layer keeps at least one unit (a network needs a width >= 1): where
all of a layer's units could go, the first is kept as it was.  The outputs
are those of the original up to the rounding of a reordered sum.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_HIDDEN_CONSTANT = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
}


@dataclass(frozen=True)
class LayerSparsity:
    """The zeros of one layer's weights (n_out x n_in).

    Attributes
    ----------
    shape : (int, int)
        (n_out, n_in).
    zero_fraction : float
        Fraction of the weights exactly zero.
    dead : ndarray of int
        Neurons whose incoming weights are all zero: their output is the
        constant act(b).
    unread : ndarray of int
        Neurons whose outgoing weights (the next layer's column) are all
        zero; always empty for the output layer.
    unused_inputs : ndarray of int
        Inputs of the layer (columns) that no neuron uses.
    """

    shape: tuple
    zero_fraction: float
    dead: np.ndarray
    unread: np.ndarray
    unused_inputs: np.ndarray


class Sparsity:
    """Per-layer zeros of a network, as ``Network.sparsity()`` reports.

    Attributes
    ----------
    layers : list of LayerSparsity
    zero_fraction : float
        Fraction of all weights exactly zero (biases not counted).
    unused_inputs : ndarray of int
        The network inputs (columns of X) no first-layer neuron uses.
    """

    def __init__(self, layers):
        self.layers = layers
        zeros = sum(l.zero_fraction * l.shape[0] * l.shape[1] for l in layers)
        self.zero_fraction = zeros / sum(l.shape[0] * l.shape[1]
                                         for l in layers)
        self.unused_inputs = layers[0].unused_inputs

    def __repr__(self):
        rows = [("layer", "weights", "zeros", "dead", "unread",
                 "unused inputs")]
        for l, layer in enumerate(self.layers):
            n_out, n_in = layer.shape
            last = l == len(self.layers) - 1
            rows.append((f"{l + 1}", f"{n_out} x {n_in}",
                         f"{100 * layer.zero_fraction:.1f}%",
                         f"{layer.dead.size}",
                         "-" if last else f"{layer.unread.size}",
                         f"{layer.unused_inputs.size} of {n_in}"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.rjust(w) if i else c.ljust(w)
                           for i, (c, w) in enumerate(zip(r, widths)))
                 for r in rows]
        title = (f"Sparsity: {100 * self.zero_fraction:.1f}% of the weights "
                 "are zero; dead = all incoming weights zero, unread = all "
                 "outgoing weights zero")
        return "\n".join([title, *lines])


def sparsity(net):
    """The report of ``Network.sparsity()``."""
    weights = list(net.weights)
    layers = []
    for l, W in enumerate(weights):
        nonzero = W != 0
        if l + 1 < len(weights):
            unread = np.flatnonzero(~(weights[l + 1] != 0).any(axis=0))
        else:
            unread = np.empty(0, np.intp)
        layers.append(LayerSparsity(
            shape=W.shape,
            zero_fraction=float(1 - np.count_nonzero(nonzero) / W.size),
            dead=np.flatnonzero(~nonzero.any(axis=1)),
            unread=unread,
            unused_inputs=np.flatnonzero(~nonzero.any(axis=0))))
    return Sparsity(layers)


def compress(net):
    """The network of ``Network.compress()`` (see the module's notes)."""
    from creg.network import Network

    # what predict refuses is refused here too: settings changed to
    # unknown names after construction, non-finite parameters
    spec = net._spec
    net._check_finite_parameters()
    # float64 for the folded biases, then back to the network's dtype
    Ws = [np.array(W, np.float64) for W in net.weights]
    bs = [np.array(b, np.float64) for b in net.biases]
    _fold_dead(Ws, bs, _HIDDEN_CONSTANT[spec.hidden], net.dtype)
    _drop_unread(Ws, bs)
    used = (Ws[0] != 0).any(axis=0)
    if not used.any():
        used[0] = True
    Ws[0] = Ws[0][:, used]
    columns = np.flatnonzero(used)
    if net.input_columns is not None:
        columns = net.input_columns[columns]
    sizes = [Ws[0].shape[1]] + [W.shape[0] for W in Ws]
    small = Network._for_given_weights(
        sizes, hidden=spec.hidden, output=spec.output, cost=spec.cost,
        dtype=net.dtype, init=net.init, seed=net.seed)
    for l, (W, b) in enumerate(zip(Ws, bs)):
        small.weights[l][...] = W
        small.biases[l][...] = b
    small.epochs_trained = net.epochs_trained
    small._set_input_columns(columns, net.input_width)
    return small


def _fold_dead(Ws, bs, constant, dtype):
    """Step 1: hidden neurons with all-zero incoming weights go, their
    constant output folded into the next layer's biases, which must stay
    finite in `dtype`."""
    for l in range(len(Ws) - 1):
        dead = ~(Ws[l] != 0).any(axis=1)
        if dead.all():
            dead[0] = False
        if not dead.any():
            continue
        # an overflow (sigmoid's exp included) is checked just below
        with np.errstate(over="ignore", invalid="ignore"):
            bs[l + 1] = bs[l + 1] + Ws[l + 1][:, dead] @ constant(bs[l][dead])
            folded = bs[l + 1].astype(dtype)
        if not np.isfinite(folded).all():
            raise ValueError(
                f"cannot compress: folding the constant outputs of layer "
                f"{l}'s dead neurons into net.biases[{l + 1}] gives values "
                f"beyond the range of {dtype}")
        Ws[l], bs[l] = Ws[l][~dead], bs[l][~dead]
        Ws[l + 1] = Ws[l + 1][:, ~dead]


def _drop_unread(Ws, bs):
    """Step 2: hidden neurons with all-zero outgoing weights go."""
    for l in range(len(Ws) - 2, -1, -1):
        read = (Ws[l + 1] != 0).any(axis=0)
        if not read.any():
            read[0] = True
        Ws[l], bs[l] = Ws[l][read], bs[l][read]
        Ws[l + 1] = Ws[l + 1][:, read]

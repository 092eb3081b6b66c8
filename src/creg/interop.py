"""Move a trained network to and from other frameworks: an ONNX file,
a PyTorch ``nn.Sequential``, Keras ``Dense`` weights.

Every format holds the same inference network: layer l computes
``Z = A_prev @ W.T + b`` and ``A = f(Z)``, with one activation for all
hidden layers and one for the output (creg's model).  Layouts:

- ONNX ``Gemm`` and PyTorch ``nn.Linear.weight`` store W as creg does,
  (n_out, n_in), so weights are copied as they are;
- a Keras ``Dense`` kernel is (n_in, n_out) and computes
  ``x @ kernel + bias``, so kernel = W.T.

Weights are always copied: an exported model never shares memory with
the network, and a network built from a model never shares memory with it.
onnx and torch are imported only by the functions that need them, so
``import creg`` works without them.
"""
from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from typing import Any, Optional, Sequence, Union

import numpy as np

from creg import _validation as check
from creg._persist import write_atomically

__all__ = ["to_onnx", "to_torch", "from_torch", "to_keras_weights",
           "from_keras_weights", "ONNX_OPSET"]

# Opset 13 is the oldest in which every operator used here (Gemm, Sigmoid,
# Tanh, Relu, Softmax) has its current definition (Softmax became
# per-axis at 13); nothing newer changes them for float32/float64, so the
# oldest opset keeps the file loadable by the most runtimes.
ONNX_OPSET = 13
_ONNX_OPS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu",
             "softmax": "Softmax"}


def _require(module, extra, what):
    """Import an optional dependency or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"{what} needs the {module!r} package, which is not installed: "
            f"pip install {extra}") from e


# --------------------------------------------------------------------- ONNX
def to_onnx(net, path: Union[str, os.PathLike[str]], *,
            output_activation: bool = True) -> str:
    """Write `net` as an ONNX model; see Network.to_onnx."""
    # _spec refuses settings changed to unknown names after construction
    spec = net._spec
    net._check_finite_parameters()  # as save and predict do
    output_activation = check.boolean("output_activation", output_activation)
    onnx = _require("onnx", 'onnx (the "creg[onnx]" extra)',
                    "Network.to_onnx")
    from onnx import helper, numpy_helper

    elem = helper.np_dtype_to_tensor_dtype(net.dtype)
    n_layers = len(net.weights)
    nodes, inits, x = [], [], "input"
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        last = l == n_layers - 1
        act = spec.output if last else spec.hidden
        if last and not output_activation:
            act = "linear"
        inits += [numpy_helper.from_array(W, f"W{l}"),
                  numpy_helper.from_array(b, f"b{l}")]
        z = "output" if last and act == "linear" else f"Z{l}"
        # Gemm(transB=1) computes x @ W.T + b with W in creg's layout
        nodes.append(helper.make_node("Gemm", [x, f"W{l}", f"b{l}"], [z],
                                      name=f"dense{l}", transB=1))
        if act == "linear":
            x = z
            continue
        x = "output" if last else f"A{l}"
        attrs: dict[str, Any] = {"axis": -1} if act == "softmax" else {}
        nodes.append(helper.make_node(_ONNX_OPS[act], [z], [x],
                                      name=f"{act}{l}", **attrs))
    graph = helper.make_graph(
        nodes, "creg_network", [helper.make_tensor_value_info(
            "input", elem, ["batch", net.sizes[0]])],
        [helper.make_tensor_value_info(
            "output", elem, ["batch", net.sizes[-1]])], initializer=inits)
    opsets = [helper.make_opsetid("", ONNX_OPSET)]
    # the IR version that goes with the opset, not onnx's newest: runtimes
    # older than the onnx package refuse IR versions they do not know
    model = helper.make_model(
        graph, opset_imports=opsets, producer_name="creg",
        ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(model, full_check=True)
    return write_atomically(path, model.SerializeToString())


# ------------------------------------------------------------------ PyTorch
def to_torch(net):
    """An nn.Sequential equal to `net`; see Network.to_torch."""
    # _spec refuses settings changed to unknown names after construction
    spec = net._spec
    net._check_finite_parameters()
    torch = _require("torch", "torch", "Network.to_torch")
    nn = torch.nn
    acts = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
    dtype = {"float32": torch.float32, "float64": torch.float64}[
        net.dtype.name]
    modules = []
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        # skip_init: no random initialization, so torch's global RNG is
        # left as it was
        linear = nn.utils.skip_init(nn.Linear, W.shape[1], W.shape[0],
                                    dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if l < len(net.weights) - 1:
            modules.append(acts[spec.hidden]())
        elif spec.output == "sigmoid":
            modules.append(nn.Sigmoid())
        elif spec.output == "softmax":
            modules.append(nn.Softmax(dim=-1))
    return nn.Sequential(*modules)


def _forward_changed(m: Any, base: Any) -> Optional[str]:
    """Why m's output may not be base's forward of its parameters (a
    subclass's own forward, a forward hook), or None."""
    if type(m).forward is not base.forward:
        return (f"{type(m).__name__} has its own forward (it subclasses "
                f"{base.__name__})")
    if m._forward_hooks or m._forward_pre_hooks:
        return "it has forward hooks"
    return None


def _torch_layers(module: Any, nn: Any) -> list[list[Any]]:
    """[(Linear, activation name or None)] of an nn.Sequential, or a
    TypeError/ValueError naming the first module creg cannot represent."""
    if not isinstance(module, nn.Sequential):
        raise TypeError("from_torch needs an nn.Sequential of Linear layers "
                        f"and activations; got {type(module).__name__}")
    hooks = nn.modules.module
    if hooks._global_forward_hooks or hooks._global_forward_pre_hooks:
        raise TypeError("from_torch: global forward hooks are registered "
                        "(nn.modules.module.register_module_forward_hook): "
                        "creg cannot tell what they change")
    why = _forward_changed(module, nn.Sequential)
    if why:
        raise TypeError(f"from_torch: the model's forward may not be its "
                        f"modules in order: {why}")
    names = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu",
             nn.Softmax: "softmax"}
    layers: list[list[Any]] = []
    for i, m in enumerate(module):
        where = f"module {i} ({m!r})"
        if isinstance(m, nn.modules.lazy.LazyModuleMixin):
            raise ValueError(f"from_torch: {where} is not initialized yet: "
                             "run one forward pass first")
        why = _forward_changed(m, nn.Linear if isinstance(m, nn.Linear)
                               else type(m))
        if why:
            raise TypeError(f"from_torch: {where} may compute something "
                            f"other than its parameters say: {why}")
        if isinstance(m, nn.Linear):
            if min(m.in_features, m.out_features) < 1:
                raise ValueError(f"from_torch: {where} has no inputs or no "
                                 "outputs")
            layers.append([m, None])
            continue
        if type(m) not in names:
            # Dropout is refused rather than skipped: creg's dropout is a
            # fit() argument, and dropping it silently would change training
            hint = (" (creg's dropout is fit(dropout=r): remove the module)"
                    if isinstance(m, nn.Dropout) else "")
            raise TypeError(f"from_torch: {where} is not supported; creg "
                            "takes Linear, Sigmoid, Tanh, ReLU and a final "
                            f"Softmax(dim=-1){hint}")
        if not layers or layers[-1][1] is not None:
            raise ValueError(f"from_torch: {where} must follow a Linear "
                             "layer (one activation per layer)")
        if isinstance(m, nn.Softmax) and m.dim not in (-1, 1):
            raise ValueError(f"from_torch: {where} must take the softmax "
                             "over the features, dim=-1 or dim=1")
        layers[-1][1] = names[type(m)]
    if not layers:
        raise ValueError("from_torch: the nn.Sequential has no Linear layer")
    return layers


def _torch_activations(layers):
    """(hidden, output) names for [(Linear, activation)], checked against
    creg's model: one hidden activation, an output creg has."""
    hidden = {act for _, act in layers[:-1]}
    if None in hidden:
        i = [act for _, act in layers[:-1]].index(None)
        raise ValueError(f"from_torch: Linear layer {i} has no activation; "
                         "creg's hidden layers take sigmoid, tanh or relu")
    if len(hidden) > 1:
        raise ValueError("from_torch: creg uses one activation for every "
                         "hidden layer; this model mixes "
                         f"{', '.join(act for _, act in layers[:-1])}")
    # no hidden layer: the hidden activation is never applied
    hidden_name = hidden.pop() if hidden else "sigmoid"
    if hidden_name not in check.HIDDEN:
        raise ValueError(f"from_torch: a hidden {hidden_name} is not "
                         f"supported; creg's hidden layers take "
                         f"{', '.join(check.HIDDEN)}")
    output = layers[-1][1] or "linear"
    if output not in check.OUTPUT:
        raise ValueError(f"from_torch: the last layer's {output} is not an "
                         f"output creg has ({', '.join(check.OUTPUT)})")
    return hidden_name, output


def from_torch(cls, module, *, cost: Optional[str] = None, seed: int = 0):
    """A Network equal to an nn.Sequential; see Network.from_torch."""
    torch = _require("torch", "torch", "Network.from_torch")
    layers = _torch_layers(module, torch.nn)
    hidden, output = _torch_activations(layers)
    dtypes = {p.dtype for lin, _ in layers for p in lin.parameters()}
    if not dtypes <= {torch.float32, torch.float64} or len(dtypes) != 1:
        raise TypeError("from_torch: every Linear layer's parameters must "
                        "be all float32 or all float64; got "
                        f"{sorted(map(str, dtypes))}")
    sizes = [layers[0][0].in_features]
    for i, (lin, _) in enumerate(layers):
        if any(p.is_meta for p in lin.parameters()):
            raise ValueError(f"from_torch: Linear layer {i}'s parameters "
                             "are on the meta device and hold no values; "
                             "load them first (to_empty, then "
                             "load_state_dict)")
        if lin.in_features != sizes[-1]:
            raise ValueError(f"from_torch: Linear layer {i} takes "
                             f"{lin.in_features} inputs but the layer "
                             f"before it gives {sizes[-1]}")
        for name, p in lin.named_parameters():
            if not torch.isfinite(p).all():
                raise ValueError(f"from_torch: Linear layer {i}'s {name} "
                                 "contains NaN or infinity")
        sizes.append(lin.out_features)
    net = cls._for_given_weights(
        sizes, hidden=hidden, output=output,
        cost=cost,
        dtype=str(dtypes.pop()).removeprefix("torch."), seed=seed)
    for l, (lin, _) in enumerate(layers):
        net.weights[l] = lin.weight.detach().cpu().numpy()
        # Linear(bias=False) adds nothing: a zero bias does the same
        net.biases[l] = (np.zeros(lin.out_features) if lin.bias is None
                         else lin.bias.detach().cpu().numpy())
    return net


# -------------------------------------------------------------------- Keras
def to_keras_weights(net) -> list[np.ndarray]:
    """[kernel_0, bias_0, ...] for Keras Dense layers; see
    Network.to_keras_weights."""
    net._check_finite_parameters()
    out: list[np.ndarray] = []
    for W, b in zip(net.weights, net.biases):
        out += [np.ascontiguousarray(W.T), b.copy()]
    return out


def _check_keras_array(i: int, a: np.ndarray, dtype: np.dtype) -> None:
    """Refuses weights[i] of from_keras_weights where the network's dtype
    would change its values (TypeError) or where it is not finite."""
    kind = a.dtype.kind
    with np.errstate(invalid="ignore", over="ignore"):  # 2**63 - 1 and back
        rounded = a.dtype != dtype and (
            kind == "f" and not np.array_equal(a.astype(dtype), a,
                                               equal_nan=True)
            or kind in "iu" and not np.array_equal(
                a.astype(dtype).astype(a.dtype), a))
    if rounded:
        raise TypeError(f"from_keras_weights: weights[{i}] is {a.dtype} "
                        f"and would be rounded to kernel_0's {dtype}; "
                        "pass every array in one dtype")
    if kind == "f" and not np.isfinite(a).all():
        raise ValueError(f"from_keras_weights: weights[{i}] contains NaN "
                         "or infinity")


def from_keras_weights(cls, weights: Sequence[Any], *, hidden: str,
                       output: str, cost: Optional[str] = None,
                       seed: int = 0):
    """A Network from Keras Dense weights; see Network.from_keras_weights."""
    output = check.choice("output", output, check.OUTPUT)
    if isinstance(weights, (str, bytes)) or not isinstance(weights,
                                                           Iterable):
        raise TypeError("weights must be Keras' get_weights() list "
                        f"[kernel_0, bias_0, ...]; got {weights!r}")
    arrays = [check.converted(f"weights[{i}]", w)
              for i, w in enumerate(weights)]
    if not arrays or len(arrays) % 2:
        raise ValueError("from_keras_weights needs [kernel_0, bias_0, ...] "
                         f"pairs; got {len(arrays)} arrays")
    kernels = arrays[::2]
    if any(k.ndim != 2 for k in kernels):
        raise ValueError("from_keras_weights: every kernel must be 2-D "
                         "(n_in, n_out); got shapes "
                         f"{[k.shape for k in kernels]}")
    # the network takes the first kernel's dtype, in any byte order
    dtype = kernels[0].dtype
    if dtype.kind != "f" or dtype.name not in check.DTYPES:
        raise TypeError("from_keras_weights: weights[0] (kernel_0) must be "
                        f"float32 or float64, as Keras stores it; got {dtype}")
    for i, a in enumerate(arrays):
        _check_keras_array(i, a, dtype)
    # creg's own (n_out, n_in) weights given as kernels: every shape fits
    # once each kernel is transposed
    flipped = [k.T for k in kernels]
    if all(bias.shape == (k.shape[1],) for k, bias in
           zip(flipped, arrays[1::2])) and all(
               a.shape[1] == b.shape[0] for a, b in zip(flipped, flipped[1:])
           ) and any(k.shape[0] != k.shape[1] for k in kernels):
        raise ValueError(
            "from_keras_weights: the kernels look transposed: Keras' kernels "
            "are (n_in, n_out), creg's weights (n_out, n_in); give each "
            "kernel as W.T")
    for j in range(len(kernels)):
        # in Keras' layout: a kernel is (n_in, n_out), a bias (n_out,)
        kernel, bias = kernels[j], arrays[2 * j + 1]
        if j and kernel.shape[0] != kernels[j - 1].shape[1]:
            raise ValueError(
                f"from_keras_weights: weights[{2 * j}] (kernel_{j}) must "
                f"take kernel_{j - 1}'s {kernels[j - 1].shape[1]} outputs, "
                f"shape ({kernels[j - 1].shape[1]}, n_out); got "
                f"{kernel.shape}")
        if bias.shape != (kernel.shape[1],):
            raise ValueError(
                f"from_keras_weights: weights[{2 * j + 1}] (bias_{j}) must "
                f"have shape ({kernel.shape[1]},); got {bias.shape}")
    sizes = [kernels[0].shape[0]] + [k.shape[1] for k in kernels]
    net = cls._for_given_weights(
        sizes, hidden=hidden, output=output,
        cost=cost, dtype=dtype.name,
        seed=seed)
    net.weights[:] = [k.T for k in kernels]
    net.biases[:] = arrays[1::2]
    return net

"""Interop: ONNX export, PyTorch both ways, Keras Dense weights.

The oracles are the other runtimes themselves (onnxruntime, torch) and
numpy forwards written in each framework's own convention from
net.weights; tests needing onnx, onnxruntime or torch skip without them.
Layers are not square, so a transposed weight breaks a shape, and the
square hidden layers of the deeper nets break the values.
"""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import COST_OUTPUT, DTYPES, HIDDEN, assert_close

import creg
import reference

OUTPUTS = ["sigmoid", "softmax", "linear"]
COST_OF = {"sigmoid": "cross_entropy", "softmax": "log_likelihood",
           "linear": "quadratic"}
WIDTHS = [6, 9, 9, 7, 4]  # layers 1-4 take the first n_layers + 1
# Across frameworks the sums run in another order: float32 differs in the
# last bits, float64 in the last few.
TOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}


@pytest.fixture
def ort():
    pytest.importorskip("onnx")
    return pytest.importorskip("onnxruntime")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def make_net(dtype, hidden="tanh", output="softmax", n_layers=2, seed=0):
    return creg.Network(WIDTHS[:n_layers + 1], hidden=hidden, output=output,
                        cost=COST_OF[output], dtype=dtype, seed=seed,
                        init="normalized")


def inputs(net, rows, seed=1):
    X = np.random.default_rng(seed).normal(size=(rows, net.sizes[0]))
    return X.astype(net.dtype)


def session(ort, path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # the test machine's cores are shared
    return ort.InferenceSession(path, options,
                                providers=["CPUExecutionProvider"])


# --------------------------------------------------------------------- ONNX
@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("dtype", DTYPES)
def test_onnx_outputs_equal_predict_proba(ort, tmp_path, dtype, hidden,
                                          output, n_layers):
    net = make_net(dtype, hidden, output, n_layers)
    X = inputs(net, 1000)
    expected = net.predict_proba(X)
    s = session(ort, net.to_onnx(tmp_path / "net.onnx"))
    for rows in (1, 1000):  # one file, both batch sizes: batch is dynamic
        got, = s.run(["output"], {"input": X[:rows]})
        assert got.dtype == net.dtype
        assert_close(got, expected[:rows], TOL[np.dtype(dtype)],
                     f"onnxruntime outputs, batch {rows}")

    # logits: the last layer's Z from a float64 numpy forward
    s = session(ort, net.to_onnx(tmp_path / "logits.onnx",
                                 output_activation=False))
    Ws = [W.astype(np.float64) for W in net.weights]
    bs = [b.astype(np.float64) for b in net.biases]
    Z = reference.forward(Ws, bs, X, hidden, output)[0][-1]
    got, = s.run(["output"], {"input": X})
    assert_close(got, Z, TOL[np.dtype(dtype)], "onnxruntime logits")
    if output != "linear":
        assert not np.allclose(got, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_onnx_graph_names_types_and_dynamic_batch(ort, tmp_path, dtype):
    import onnx
    net = make_net(dtype, "relu", "sigmoid", n_layers=3)
    path = net.to_onnx(tmp_path / "net.onnx")
    onnx.checker.check_model(path, full_check=True)
    model = onnx.load(path)
    assert [o.version for o in model.opset_import] == [13]
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    for value, width in ((model.graph.input[0], 6),
                         (model.graph.output[0], 7)):
        tensor = value.type.tensor_type
        assert tensor.elem_type == elem
        assert [d.dim_param or d.dim_value for d in tensor.shape.dim] == \
            ["batch", width]
    assert [n.op_type for n in model.graph.node] == \
        ["Gemm", "Relu", "Gemm", "Relu", "Gemm", "Sigmoid"]
    # the initializers are copies of creg's (n_out, n_in) weights
    inits = {t.name: onnx.numpy_helper.to_array(t)
             for t in model.graph.initializer}
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        assert np.array_equal(inits[f"W{l}"], W)
        assert np.array_equal(inits[f"b{l}"], b)


@pytest.mark.parametrize("package, call, extra", [
    ("onnx", lambda net, tmp: net.to_onnx(tmp / "x.onnx"), "creg[onnx]"),
    ("torch", lambda net, tmp: net.to_torch(), "pip install torch"),
    ("torch", lambda net, tmp: creg.Network.from_torch(None),
     "pip install torch"),
])
def test_missing_package_says_what_to_install(monkeypatch, tmp_path,
                                              package, call, extra):
    monkeypatch.setitem(sys.modules, package, None)  # import fails
    with pytest.raises(ImportError, match=extra.replace("[", r"\[")):
        call(make_net("float32"), tmp_path)
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize("attr, value", [
    ("hidden", "bogus"), ("hidden", "softmax"), ("output", "tanh")])
@pytest.mark.parametrize("export", [
    lambda net, tmp: net.to_onnx(tmp / "x.onnx"),
    lambda net, tmp: net.to_torch(),
], ids=["to_onnx", "to_torch"])
def test_exporters_refuse_settings_changed_after_construction(
        tmp_path, export, attr, value):
    # the ValueError predict gives, not a KeyError or a different network;
    # checked before the optional package is imported
    net = make_net("float32", output="sigmoid")
    setattr(net, attr, value)
    with pytest.raises(ValueError, match=f"{attr} must be one of.*{value}"):
        net.predict_proba(inputs(net, 1))
    with pytest.raises(ValueError, match=f"{attr} must be one of.*{value}"):
        export(net, tmp_path)
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize("export", [
    lambda net, tmp: net.to_onnx(tmp / "x.onnx"),
    lambda net, tmp: net.to_torch(),
    lambda net, tmp: net.to_keras_weights(),
], ids=["to_onnx", "to_torch", "to_keras_weights"])
def test_exporters_refuse_weights_that_are_not_finite(tmp_path, export):
    # as predict and save do: the model would output NaN, and the round
    # trip back into creg would fail
    net = make_net("float32", output="sigmoid")
    net.weights[-1][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"weights\[1\] contains NaN"):
        export(net, tmp_path)
    assert not (tmp_path / "x.onnx").exists()


def test_from_torch_names_a_parameter_that_is_not_finite(torch):
    module = make_net("float64", output="sigmoid").to_torch()
    with torch.no_grad():
        module[2].bias[1] = float("inf")
    with pytest.raises(ValueError, match="from_torch: Linear layer 1's bias "
                       "contains NaN or infinity"):
        creg.Network.from_torch(module)


@pytest.mark.parametrize("value", ["False", "no", None, 0.5, 1])
def test_onnx_output_activation_must_be_a_bool(tmp_path, value):
    net = make_net("float32")
    with pytest.raises(TypeError, match="output_activation must be True "
                       "or False"):
        net.to_onnx(tmp_path / "x.onnx", output_activation=value)
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize("name", ["x.onnx" + os.sep,
                                  "m" * 250 + ".onnx"])
def test_onnx_path_names_are_those_open_takes(ort, tmp_path, name):
    # a trailing separator names a directory; a 255-byte name is legal
    net = make_net("float32")
    path = os.path.join(tmp_path, name)  # a Path would drop the separator
    if name.endswith(os.sep):
        with pytest.raises(IsADirectoryError, match="x.onnx"):
            net.to_onnx(path)
        assert os.listdir(tmp_path) == []
    else:
        assert net.to_onnx(path) == path
        assert os.listdir(tmp_path) == [name]


def test_import_creg_imports_no_peer():
    code = ("import sys, creg; "
            "print(sorted({'onnx', 'onnxruntime', 'torch'} & "
            "set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------ PyTorch
@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
@pytest.mark.parametrize("cost, output", COST_OUTPUT)
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_round_trip(torch, dtype, hidden, cost, output, n_layers):
    net = creg.Network(WIDTHS[:n_layers + 1], hidden=hidden, output=output,
                       cost=cost, dtype=dtype, seed=2, init="normalized")
    model = net.to_torch()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    for lin, W, b in zip(linears, net.weights, net.biases):
        # nn.Linear.weight has creg's (n_out, n_in) layout, as a copy
        assert np.array_equal(lin.weight.detach().numpy(), W)
        assert np.array_equal(lin.bias.detach().numpy(), b)
        assert not np.shares_memory(lin.weight.detach().numpy(), net.params)
    X = inputs(net, 50)
    with torch.no_grad():
        got = model(torch.from_numpy(X)).numpy()
    assert got.dtype == net.dtype
    assert_close(got, net.predict_proba(X), TOL[np.dtype(dtype)],
                 "torch outputs")

    back = creg.Network.from_torch(model, cost=cost)
    assert back.params.tobytes() == net.params.tobytes()
    assert (back.sizes, back.output, back.cost_name, back.dtype) == \
        (net.sizes, output, cost, net.dtype)
    if n_layers > 1:
        assert back.hidden == hidden
    assert creg.Network.from_torch(model).cost_name == COST_OF[output]


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_trained_then_fine_tuned_in_creg(torch, dtype):
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(6, 9, dtype=tdtype), torch.nn.Tanh(),
        torch.nn.Linear(9, 9, dtype=tdtype), torch.nn.Tanh(),
        torch.nn.Linear(9, 4, dtype=tdtype), torch.nn.Softmax(dim=1))
    rng = np.random.default_rng(3)
    X = rng.normal(size=(64, 6)).astype(dtype)
    y = rng.integers(0, 4, size=64)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(5):  # logits into CrossEntropyLoss: leave out Softmax
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(
            model[:-1](torch.from_numpy(X)), torch.from_numpy(y))
        loss.backward()
        opt.step()
    state = [p.detach().numpy().copy() for p in model.parameters()]

    imported = creg.Network.from_torch(model, seed=5)
    by_hand = creg.Network([6, 9, 9, 4], hidden="tanh", output="softmax",
                           cost="log_likelihood", dtype=dtype, seed=5,
                           init="normalized")
    by_hand.weights[:] = state[::2]
    by_hand.biases[:] = state[1::2]
    assert imported.params.tobytes() == by_hand.params.tobytes()
    for net in (imported, by_hand):
        net.fit(X, y, epochs=3, batch_size=8, lr=0.2, l2=0.5)
    assert imported.params.tobytes() == by_hand.params.tobytes()
    assert not np.array_equal(imported.weights[0], state[0])


def test_from_torch_linear_without_bias_gets_zero_biases(torch):
    model = torch.nn.Sequential(
        torch.nn.Linear(6, 9, bias=False), torch.nn.ReLU(),
        torch.nn.Linear(9, 3, bias=False))
    net = creg.Network.from_torch(model)
    assert (net.hidden, net.output, net.cost_name) == \
        ("relu", "linear", "quadratic")
    assert all(not b.any() for b in net.biases)
    X = inputs(net, 20)
    with torch.no_grad():
        expected = model(torch.from_numpy(X)).numpy()
    assert_close(net.predict_proba(X), expected, 1e-6, "outputs")


def _refused(nn):
    """(model, exception, message pattern) creg must refuse."""
    L = nn.Linear

    class Custom(nn.Module):
        def forward(self, x):
            return x

    class Scaled(nn.Linear):
        def forward(self, x):
            return 2 * super().forward(x)

    class Residual(nn.Sequential):
        def forward(self, x):
            return x[:, :2] + super().forward(x)

    hooked = L(5, 2)
    hooked.register_forward_hook(lambda module, inputs, out: out * 2)
    pre_hooked = nn.Tanh()
    pre_hooked.register_forward_pre_hook(lambda module, inputs: inputs)
    return [
        (nn.Sequential(Scaled(4, 5), nn.ReLU(), L(5, 2)), TypeError,
         r"module 0 \(Scaled.*has its own forward \(it subclasses Linear"),
        (Residual(L(4, 5), nn.Tanh(), L(5, 2)), TypeError,
         "model's forward.*Residual has its own forward"),
        (nn.Sequential(L(4, 5), nn.ReLU(), hooked), TypeError,
         r"module 2 \(Linear.*forward hooks"),
        (nn.Sequential(L(4, 5), pre_hooked, L(5, 2)), TypeError,
         r"module 1 \(Tanh.*forward hooks"),
        (nn.Sequential(nn.LazyLinear(5), nn.ReLU(), L(5, 2)), ValueError,
         r"module 0 \(LazyLinear.*not initialized yet"),
        (nn.Sequential(L(4, 5), nn.ReLU(), L(5, 0)), ValueError,
         r"module 2 \(Linear.*no inputs or no outputs"),
        (nn.Sequential(L(4, 5), nn.Conv1d(1, 1, 3)), TypeError,
         r"module 1 \(Conv1d"),
        (nn.Sequential(L(4, 5), nn.LayerNorm(5), nn.ReLU(), L(5, 2)),
         TypeError, r"module 1 \(LayerNorm"),
        (nn.Sequential(L(4, 5), nn.ReLU(), nn.Dropout(0.5), L(5, 2)),
         TypeError, r"module 2 \(Dropout.*fit\(dropout=r\)"),
        (nn.Sequential(L(4, 5), nn.Tanh(), L(5, 5), nn.ReLU(), L(5, 2)),
         ValueError, "mixes tanh, relu"),
        (Custom(), TypeError, "nn.Sequential.*got Custom"),
        (L(4, 2), TypeError, "got Linear"),
        (nn.Sequential(L(4, 5), nn.ReLU(), nn.ReLU(), L(5, 2)), ValueError,
         r"module 2 \(ReLU.*must follow a Linear"),
        (nn.Sequential(L(4, 5), L(5, 2)), ValueError,
         "Linear layer 0 has no activation"),
        (nn.Sequential(L(4, 5), nn.Softmax(dim=-1), L(5, 2)), ValueError,
         "hidden softmax"),
        (nn.Sequential(L(4, 5), nn.ReLU(), L(5, 2), nn.Tanh()), ValueError,
         "last layer's tanh"),
        (nn.Sequential(L(4, 2), nn.Softmax(dim=0)), ValueError,
         r"module 1 \(Softmax\(dim=0\).*dim=-1 or dim=1"),
        (nn.Sequential(L(4, 5), nn.ReLU(), L(6, 2)), ValueError,
         "Linear layer 1 takes 6 inputs.*gives 5"),
        (nn.Sequential(L(4, 2, dtype=nn.Linear(1, 1).weight.dtype).half()),
         TypeError, "float32 or all float64.*float16"),
        (nn.Sequential(), ValueError, "no Linear layer"),
        (nn.Sequential(L(4, 3), nn.Sigmoid(), L(3, 2, device="meta")),
         ValueError, "Linear layer 1's parameters are on the meta device"),
    ]


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
@pytest.mark.filterwarnings("ignore:Lazy modules are a new feature")
def test_from_torch_refuses_what_creg_cannot_represent(torch):
    for model, error, pattern in _refused(torch.nn):
        with pytest.raises(error, match=pattern):
            creg.Network.from_torch(model)


def test_from_torch_refuses_while_a_global_forward_hook_is_set(torch):
    model = torch.nn.Sequential(torch.nn.Linear(4, 2))
    handle = torch.nn.modules.module.register_module_forward_hook(
        lambda module, inputs, out: out)
    try:
        with pytest.raises(TypeError, match="global forward hooks"):
            creg.Network.from_torch(model)
    finally:
        handle.remove()
    assert creg.Network.from_torch(model).sizes == (4, 2)


def test_from_torch_takes_a_parametrized_linear(torch):
    """A parametrization changes the weight, not forward: creg reads the
    weight forward uses."""
    from torch.nn.utils import parametrize

    class Doubled(torch.nn.Module):
        def forward(self, W):
            return 2 * W
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(),
                                torch.nn.Linear(3, 2))
    parametrize.register_parametrization(model[2], "weight", Doubled())
    net = creg.Network.from_torch(model)
    X = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(X)).numpy()
    assert_close(net.predict_proba(X), expected, 1e-6, "outputs")


# -------------------------------------------------------------------- Keras
def keras_forward(weights, X, hidden, output):
    """Dense layers as Keras runs them: A = f(A_prev @ kernel + bias),
    in float64."""
    A = X.astype(np.float64)
    for i in range(0, len(weights), 2):
        last = i == len(weights) - 2
        f = reference.ACTIVATIONS[output if last else hidden][0]
        A = f(A @ weights[i].astype(np.float64) + weights[i + 1])
    return A


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("dtype", DTYPES)
def test_keras_weights_layout_and_forward(dtype, hidden, output):
    net = make_net(dtype, hidden, output, n_layers=3)
    weights = net.to_keras_weights()
    assert len(weights) == 6
    for kernel, bias, W, b in zip(weights[::2], weights[1::2], net.weights,
                                  net.biases):
        assert kernel.shape == W.shape[::-1] and kernel.dtype == net.dtype
        assert np.array_equal(kernel, W.T) and kernel.flags.c_contiguous
        assert np.array_equal(bias, b)
        assert not np.shares_memory(kernel, net.params)
        assert not np.shares_memory(bias, net.params)
    X = inputs(net, 100)
    assert_close(net.predict_proba(X), keras_forward(weights, X, hidden,
                                                     output),
                 TOL[np.dtype(dtype)], "Keras-convention forward")

    back = creg.Network.from_keras_weights(weights, hidden=hidden,
                                           output=output)
    assert back.params.tobytes() == net.params.tobytes()
    assert (back.cost_name, back.dtype) == (COST_OF[output], net.dtype)


@pytest.mark.parametrize("weights", [None, 3, "kernel"])
def test_from_keras_weights_names_weights_that_are_no_list(weights):
    with pytest.raises(TypeError, match="weights must be Keras' "
                       r"get_weights\(\) list"):
        creg.Network.from_keras_weights(weights, hidden="relu",
                                        output="linear")


@pytest.mark.parametrize("weights, pattern", [
    ([np.zeros((3, 2))], "pairs; got 1 arrays"),
    ([], "pairs; got 0 arrays"),
    ([np.zeros(3), np.zeros(3)], "must be 2-D"),
    # named by the list's index, in Keras' (n_in, n_out) layout
    ([np.zeros((3, 2)), np.zeros(2), np.zeros((3, 4)), np.zeros(4)],
     r"weights\[2\] \(kernel_1\) must take kernel_0's 2 outputs, shape "
     r"\(2, n_out\); got \(3, 4\)"),
    ([np.zeros((3, 2)), np.zeros(4)],
     r"weights\[1\] \(bias_0\) must have shape \(2,\); got \(4,\)"),
    # creg's (n_out, n_in) weights as kernels: said so, not "bias_0 must
    # have shape (16,)"
    ([np.zeros((16, 64)), np.zeros(16), np.zeros((10, 16)), np.zeros(10)],
     r"the kernels look transposed: Keras' kernels are \(n_in, n_out\), "
     r"creg's weights \(n_out, n_in\); give each kernel as W.T"),
    ([np.zeros((3, 2)), np.zeros(3)], "the kernels look transposed"),
    ([np.zeros((3, 2)), np.array([0.0, np.inf])],
     r"weights\[1\] contains NaN or infinity"),
    ([np.full((3, 2), np.nan), np.zeros(2)],
     r"weights\[0\] contains NaN or infinity"),
])
def test_from_keras_weights_refuses_broken_lists(weights, pattern):
    with pytest.raises(ValueError, match=pattern):
        creg.Network.from_keras_weights(weights, hidden="relu",
                                        output="linear")


def _ragged_object_array():
    """What numpy before 1.24 made of [[1.0, 2.0], [3.0]], with a warning."""
    array = np.empty(2, dtype=object)
    array[0], array[1] = [1.0, 2.0], [3.0]
    return array


@pytest.mark.parametrize("ragged", [[[1.0, 2.0], [3.0]],
                                    _ragged_object_array()])
def test_from_keras_weights_names_a_ragged_entry(ragged):
    with pytest.raises(ValueError, match=r"weights\[0\] could not be "
                       "converted"):
        creg.Network.from_keras_weights([ragged, [0.0, 0.0]],
                                        hidden="relu", output="linear")


@pytest.mark.parametrize("kernel", [np.ones((3, 2), int),
                                    np.ones((3, 2), np.float16),
                                    np.ones((3, 2), complex)])
def test_from_keras_weights_names_a_kernel_of_the_wrong_dtype(kernel):
    # the user passed no dtype=: the message names the kernel
    with pytest.raises(TypeError, match=r"weights\[0\] \(kernel_0\) must "
                       "be float32 or float64"):
        creg.Network.from_keras_weights([kernel, np.zeros(2)],
                                        hidden="relu", output="linear")


def test_from_keras_weights_refuses_to_round_a_wider_array():
    kernel = np.ones((3, 2), np.float32)
    with pytest.raises(TypeError, match=r"weights\[1\] is float64 and "
                       "would be rounded to kernel_0's float32"):
        creg.Network.from_keras_weights([kernel, np.full(2, 0.1)],
                                        hidden="relu", output="linear")
    # so is an integer array float32 would round (past int64 on its way
    # back: numpy's RuntimeWarning came first)
    for big in (2**24 + 1, 2**63 - 1):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(TypeError, match=r"weights\[1\] is int64 "
                               "and would be rounded to kernel_0's float32"):
                creg.Network.from_keras_weights(
                    [kernel, np.array([big, 0], np.int64)], hidden="relu",
                    output="linear")
    # values that float32 holds exactly are taken
    for exact in (np.full(2, 0.5), np.array([2**24, -3], np.int64)):
        net = creg.Network.from_keras_weights([kernel, exact],
                                              hidden="relu", output="linear")
        assert net.dtype == np.float32 and (net.biases[0] == exact).all()


def test_from_keras_weights_takes_big_endian_kernels():
    kernel = np.arange(6.0).reshape(3, 2).astype(">f4")
    net = creg.Network.from_keras_weights([kernel, np.zeros(2, ">f4")],
                                          hidden="relu", output="linear")
    assert net.dtype == np.float32
    assert np.array_equal(net.weights[0], kernel.T)

"""convert_penalty: lambda between creg, Nielsen, CS231n, PyTorch, Keras and
scikit-learn conventions.

The behavioural oracle writes each framework's penalty term out as that
framework documents it (e.g. Keras: loss + l2 * sum w^2), differentiates
it by central differences, and takes one plain gradient step in numpy; a
creg step with the converted strength must land on the same weights.
"""
import itertools
import math

import numpy as np
import pytest

import creg
from creg.penalties import CONVENTIONS, convert_penalty

N, BATCH = 50_000, 10
PAIRS = list(itertools.permutations(CONVENTIONS, 2))
L1_CONVENTIONS = [c for c in CONVENTIONS if c != "sklearn"]


def convert(value, frm, to, kind="l2"):
    return convert_penalty(value, frm, to, n=N, batch_size=BATCH, kind=kind)


# --------------------------------------------------------- known values


@pytest.mark.parametrize("to, expected", [
    ("creg_n", 5.0), ("creg_none", 1e-4), ("pytorch", 1e-4),
    ("cs231n", 1e-4), ("keras", 5e-5), ("sklearn", 1e-3),
])
def test_nielsen_lambda_5_on_50000_images(to, expected):
    # Nielsen: cost + 5/(2*50000) sum w^2, so each step adds 1e-4 * w.
    got = convert_penalty(5.0, "creg_n", to, n=50_000, batch_size=10)
    assert got == pytest.approx(expected, rel=1e-15, abs=0)


def test_other_known_values():
    # Keras L2(1e-3) adds 1e-3 sum w^2 -> gradient 2e-3 w.
    assert convert_penalty(1e-3, "keras", "pytorch") == pytest.approx(2e-3)
    # sklearn's default alpha 1e-4 with batch_size 200 on 60,000 images.
    assert convert_penalty(1e-4, "sklearn", "creg_n", n=60_000,
                           batch_size=200) == pytest.approx(0.03, rel=1e-14)
    # CS231n reg = weight_decay; L1: Keras L1(l1) has no factor 2.
    assert convert_penalty(0.25, "cs231n", "pytorch") == 0.25
    assert convert_penalty(1e-4, "keras", "pytorch", kind="l1") == 1e-4
    assert convert_penalty(5.0, "creg_n", "keras", n=50_000,
                           kind="l1") == pytest.approx(1e-4, rel=1e-15)
    assert convert_penalty(0.0, "keras", "creg_n", n=10) == 0.0


# ------------------------------------------------------------ round trips


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_a_convention_into_itself_is_the_value(convention):
    for value in (0.1, 3.3, 1e-8, 123.0):
        for n in (3, 7, 60_000):
            assert convert_penalty(value, convention, convention, n=n,
                                   batch_size=7) == value


@pytest.mark.parametrize("value", [0.0, 1e-8, 0.37, 5.0, 123.0])
@pytest.mark.parametrize("frm, to", PAIRS)
def test_round_trip_l2(frm, to, value):
    back = convert(convert(value, frm, to), to, frm)
    assert back == pytest.approx(value, rel=1e-15, abs=0)


@pytest.mark.parametrize("frm, to", list(itertools.permutations(
    L1_CONVENTIONS, 2)))
def test_round_trip_l1(frm, to):
    back = convert(convert(0.37, frm, to, "l1"), to, frm, "l1")
    assert back == pytest.approx(0.37, rel=1e-15, abs=0)


@pytest.mark.parametrize("a, b, c", list(itertools.permutations(
    CONVENTIONS, 3)))
def test_conversions_compose(a, b, c):
    assert convert(convert(0.8, a, b), b, c) == pytest.approx(
        convert(0.8, a, c), rel=1e-15)


def test_keras_is_the_only_l1_difference():
    for frm, to in itertools.permutations(L1_CONVENTIONS, 2):
        l1, l2 = convert(0.5, frm, to, "l1"), convert(0.5, frm, to, "l2")
        factor = {"keras": 2.0}.get(frm, 1.0) / {"keras": 2.0}.get(to, 1.0)
        assert l2 == pytest.approx(l1 * factor, rel=1e-15), (frm, to)


# --------------------------------------------------------------- errors


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(frm="torch"), ValueError, "frm must be one of"),
    (dict(to="Keras"), ValueError, "to must be one of"),
    (dict(frm="creg_n", n=None), ValueError, "needs n="),
    (dict(to="creg_n", n=None), ValueError, "needs n="),
    (dict(frm="sklearn", batch_size=None), ValueError, "needs batch_size="),
    (dict(to="sklearn", batch_size=None), ValueError, "needs batch_size="),
    (dict(frm="creg_n", n=0), ValueError, "n must be >= 1"),
    (dict(frm="creg_n", n=2.5), TypeError, "n must be an int"),
    (dict(to="sklearn", batch_size=True), TypeError, "batch_size"),
    # beyond the float range: not an OverflowError from the arithmetic
    (dict(frm="creg_n", n=10**400), ValueError, "n must fit in a float"),
    (dict(to="sklearn", batch_size=10**400), ValueError,
     "batch_size must fit in a float"),
    (dict(value=-1.0), ValueError, "value"),
    (dict(value=float("nan")), ValueError, "value"),
    (dict(value="5"), TypeError, "value"),
    (dict(kind="l3"), ValueError, "kind"),
    # the wrong kind of argument is a TypeError, as elsewhere in creg
    (dict(kind=2), TypeError, "kind must be a str"),
    (dict(frm=3), TypeError, "frm must be a str, one of"),
    # given but not needed (keras to pytorch): still checked
    (dict(n=-3), ValueError, "n must be >= 1"),
    (dict(batch_size="ten"), TypeError, "batch_size must be an int"),
    (dict(to="sklearn", kind="l1"), ValueError, "no L1"),
])
def test_bad_arguments(kwargs, error, match):
    args = dict(value=1.0, frm="keras", to="pytorch", n=100, batch_size=10)
    args.update(kwargs)
    value, frm, to = args.pop("value"), args.pop("frm"), args.pop("to")
    with pytest.raises(error, match=match) as info:
        convert_penalty(value, frm, to, **args)
    if "must be one of" in match:
        for name in CONVENTIONS:
            assert repr(name) in str(info.value)


def test_n_and_batch_size_are_needed_only_when_used():
    assert convert_penalty(2.0, "keras", "cs231n") == 4.0


def test_minus_zero_is_zero():
    value = convert_penalty(-0.0, "pytorch", "keras")
    assert value == 0.0 and not math.copysign(1.0, value) < 0


# ------------------------------------------------------------ behaviour

ROWS = 12


def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((ROWS, 4))
    y = np.arange(ROWS) % 3
    return X, y


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_creg_n_and_converted_creg_none_train_bitwise_alike(kind):
    X, y = problem()
    nets = [creg.Network([4, 5, 3], dtype="float64", seed=7, **creg.NIELSEN)
            for _ in range(2)]
    # 5.0 / 12 and 5.0 * (1 / 12) differ in the last bit: the conversion
    # must give the lambda' creg itself computes, not a neighbour.
    value = 5.0
    assert value / ROWS != value * (1.0 / ROWS)
    common = dict(epochs=2, batch_size=5, lr=0.5, shuffle=False)
    nets[0].fit(X, y, penalty_scale="n", **{kind: value}, **common)
    converted = convert_penalty(value, "creg_n", "creg_none", n=ROWS,
                                kind=kind)
    nets[1].fit(X, y, penalty_scale="none", **{kind: converted}, **common)
    assert np.array_equal(nets[0].params, nets[1].params)


# Each convention's penalty as a function of one weight w and its strength
# v, exactly as the framework documents its loss term.  The data loss is
# the batch mean in all of them.
L2_TERMS = {
    "creg_n": lambda w, v: v / (2 * ROWS) * w ** 2,       # Nielsen, n=ROWS
    "creg_none": lambda w, v: 0.5 * v * w ** 2,           # CS231n form
    "pytorch": lambda w, v: 0.5 * v * w ** 2,             # grad += wd * w
    "cs231n": lambda w, v: 0.5 * v * w ** 2,
    "keras": lambda w, v: v * w ** 2,                     # L2(l2)
    "sklearn": lambda w, v: v / (2 * ROWS) * w ** 2,      # alpha/(2m), m=ROWS
}
L1_TERMS = {
    "creg_n": lambda w, v: v / ROWS * np.abs(w),
    "creg_none": lambda w, v: v * np.abs(w),
    "pytorch": lambda w, v: v * np.abs(w),
    "cs231n": lambda w, v: v * np.abs(w),
    "keras": lambda w, v: v * np.abs(w),                  # L1(l1)
}


def central_difference(term, W, v, h=1e-5):
    return (term(W + h, v) - term(W - h, v)) / (2 * h)


@pytest.mark.parametrize("kind, conv", [("l2", c) for c in L2_TERMS]
                         + [("l1", c) for c in L1_TERMS])
def test_one_step_matches_the_framework_penalty(kind, conv):
    X, y = problem()
    value, lr = 0.4, 0.5
    net = creg.Network([4, 5, 3], dtype="float64", seed=11, **creg.NIELSEN)
    W0 = [np.array(w) for w in net.weights]
    b0 = [np.array(b) for b in net.biases]
    dW, db = net.gradient(X, y)
    terms = L2_TERMS if kind == "l2" else L1_TERMS
    expected_W = [w - lr * (g + central_difference(terms[conv], w, value))
                  for w, g in zip(W0, dW)]
    expected_b = [b - lr * g for b, g in zip(b0, db)]

    creg_value = convert_penalty(value, conv, "creg_none", n=ROWS,
                                 batch_size=ROWS, kind=kind)
    net.fit(X, y, epochs=1, batch_size=ROWS, lr=lr, shuffle=False,
            penalty_scale="none", l1_method="subgradient",
            **{kind: creg_value})

    for l in range(2):
        np.testing.assert_allclose(net.weights[l], expected_W[l], rtol=1e-8,
                                   atol=1e-10)
        np.testing.assert_allclose(net.biases[l], expected_b[l], rtol=1e-12,
                                   atol=1e-14)


# ------------------------------------------- PyTorch's SGD, as documented


def _torch_sgd_fit(torch, net, X, y, wd, lr, batch, epochs, decay_biases):
    """net's weights after PyTorch's SGD with weight_decay=wd, the biases
    in a group of their own (docs/regularizers.rst) or decayed too."""
    model = net.to_torch()
    named = list(model.named_parameters())
    weights = [p for name, p in named if name.endswith("weight")]
    biases = [p for name, p in named if not name.endswith("weight")]
    opt = torch.optim.SGD(
        [{"params": weights, "weight_decay": wd},
         {"params": biases, "weight_decay": wd if decay_biases else 0.0}],
        lr=lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(epochs):
        for i in range(0, len(X), batch):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(
                model[:-1](Xt[i:i + batch]), yt[i:i + batch])
            loss.backward()
            opt.step()
    return creg.Network.from_torch(model).params


def test_pytorch_weight_decay_converts_with_undecayed_biases():
    torch = pytest.importorskip("torch")
    X, y = creg.datasets.load_digits(dtype="float64")
    X, y = X[:300], y[:300]
    wd, lr, batch = 1e-2, 0.1, 30
    net = creg.Network([64, 20, 10], output="softmax", dtype="float64",
                       seed=0)
    start = net.params.copy()
    grouped = _torch_sgd_fit(torch, net, X, y, wd, lr, batch, 3, False)
    decayed = _torch_sgd_fit(torch, net, X, y, wd, lr, batch, 3, True)
    assert net.params.tobytes() == start.tobytes()
    net.fit(X, y, epochs=3, batch_size=batch, lr=lr, shuffle=False,
            l2=convert_penalty(wd, "pytorch", "creg_n", n=len(X)))
    np.testing.assert_allclose(net.params, grouped, rtol=0, atol=1e-13)
    assert np.abs(net.params - decayed).max() > 1e-6

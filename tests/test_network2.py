"""Nielsen's network2.py JSON files: load_network2 and save_network2.

The files here are written the way network2.py's ``Network.save`` writes
them (json.dump of sizes, weights, biases and the cost class's __name__,
biases as column vectors), and the oracle is network2's ``feedforward``
written out in numpy with column vectors. Nothing here uses creg to make
an expected value.
"""
import json
import os

import numpy as np
import pytest

import creg
from creg import ModelFileError
from creg._core import MAX_LAYERS
from creg.network2 import load_network2, save_network2


class CrossEntropyCost:  # stand-ins for network2's cost classes: only
    pass                 # their __name__ goes into the file


class QuadraticCost:
    pass


def network2_init(sizes, seed=0):
    """network2's default_weight_initializer: W ~ N(0, 1/n_in), b ~ N(0, 1),
    biases as column vectors."""
    rng = np.random.default_rng(seed)
    biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
    weights = [rng.standard_normal((y, x)) / np.sqrt(x)
               for x, y in zip(sizes[:-1], sizes[1:])]
    return weights, biases


def network2_save(filename, sizes, weights, biases, cost):
    """network2.Network.save, verbatim apart from taking its fields."""
    data = {"sizes": sizes,
            "weights": [w.tolist() for w in weights],
            "biases": [b.tolist() for b in biases],
            "cost": str(cost.__name__)}
    f = open(filename, "w")
    json.dump(data, f)
    f.close()


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def network2_feedforward(weights, biases, a):
    """network2.Network.feedforward on a column (or a matrix of columns)."""
    for b, w in zip(biases, weights):
        a = sigmoid(np.dot(w, a) + b)
    return a


def network2_dict(sizes=(4, 3, 2), cost=CrossEntropyCost, seed=0):
    weights, biases = network2_init(list(sizes), seed)
    return {"sizes": list(sizes), "weights": [w.tolist() for w in weights],
            "biases": [b.tolist() for b in biases], "cost": cost.__name__}


def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)
    return str(path)


# ------------------------------------------------------------------- load


@pytest.mark.parametrize("cost, creg_cost", [(CrossEntropyCost,
                                              "cross_entropy"),
                                             (QuadraticCost, "quadratic")])
@pytest.mark.parametrize("sizes", [[784, 30, 10], [5, 1], [6, 7, 4, 3]])
def test_load_predicts_like_network2_feedforward(tmp_path, sizes, cost,
                                                 creg_cost):
    weights, biases = network2_init(sizes, seed=len(sizes))
    path = str(tmp_path / "net.json")
    network2_save(path, sizes, weights, biases, cost)

    net = load_network2(path)

    assert isinstance(net, creg.Network)
    assert net.sizes == tuple(sizes)
    assert (net.hidden, net.output, net.cost_name) == ("sigmoid", "sigmoid",
                                                      creg_cost)
    assert net.dtype == np.float64
    for l in range(len(sizes) - 1):
        assert np.array_equal(net.weights[l], weights[l])
        assert np.array_equal(net.biases[l], biases[l][:, 0])
    X = np.random.default_rng(1).random((25, sizes[0]))
    expected = network2_feedforward(weights, biases, X.T).T
    np.testing.assert_allclose(net.predict_proba(X), expected, rtol=1e-12,
                               atol=0)
    if sizes[-1] > 1:  # network2.evaluate: argmax of the output column
        np.testing.assert_array_equal(net.predict(X),
                                      np.argmax(expected, axis=1))


def test_load_as_float32(tmp_path):
    sizes = [6, 5, 3]
    weights, biases = network2_init(sizes)
    path = str(tmp_path / "net.json")
    network2_save(path, sizes, weights, biases, CrossEntropyCost)
    net = load_network2(path, dtype="float32")
    assert net.dtype == np.float32
    for l in range(2):
        assert np.array_equal(net.weights[l], weights[l].astype(np.float32))
        assert np.array_equal(net.biases[l],
                              biases[l][:, 0].astype(np.float32))


def test_load_accepts_integers_and_other_json_spacing(tmp_path):
    data = {"cost": "QuadraticCost", "biases": [[[1], [0]]],
            "weights": [[[1, -2, 0.5], [0, 3, -1]]], "sizes": [3, 2]}
    path = write_text(tmp_path / "n.json", json.dumps(data, indent=2))
    net = load_network2(path)
    np.testing.assert_array_equal(net.weights[0], [[1, -2, 0.5], [0, 3, -1]])
    np.testing.assert_array_equal(net.biases[0], [1, 0])


def test_loaded_network_trains(tmp_path):
    X, y = creg.datasets.load_digits()
    path = str(tmp_path / "net.json")
    network2_save(path, [64, 10, 10], *network2_init([64, 10, 10]),
                  CrossEntropyCost)
    net = load_network2(path)
    before = net.accuracy(X, y)
    net.fit(X, y, epochs=3, batch_size=10, lr=0.5, l2=5.0)
    assert net.accuracy(X, y) > max(before, 0.5)


# ------------------------------------------------------------------- save


CONFIGS = [([4, 3, 2], "cross_entropy"), ([7, 1], "quadratic"),
           ([5, 6, 4, 3], "cross_entropy")]


@pytest.mark.parametrize("sizes, cost", CONFIGS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_is_bitwise(tmp_path, sizes, cost, dtype):
    net = creg.Network(sizes, cost=cost, dtype=dtype, seed=3,
                       hidden="sigmoid", output="sigmoid", init="normalized")
    path = tmp_path / "net.json"
    assert save_network2(net, path) == str(path)
    back = load_network2(path, dtype=dtype)
    assert (back.sizes, back.cost_name, back.hidden, back.output) == (
        net.sizes, net.cost_name, "sigmoid", "sigmoid")
    assert back.params.dtype == net.params.dtype
    assert np.array_equal(back.params, net.params)


def test_an_l1_sparse_network_round_trips(tmp_path):
    """network2 writes each zero as "0.0, ": 5 bytes of text for up to 45
    of parsed objects.  A network of zero weights 1.6 MB long loads."""
    net = creg.Network([784, 400, 10], dtype="float64", seed=0,
                       **creg.NIELSEN)
    for W in net.weights:
        W[...] = 0.0
    path = save_network2(net, tmp_path / "sparse.json")
    assert os.path.getsize(path) > 1_500_000
    assert np.array_equal(load_network2(path).params, net.params)


def test_the_densest_text_save_writes_loads(tmp_path):
    """Each zero in a list of its own, "[0.0], ": a one-input first layer's
    rows and every bias.  Its parse bound is 22 bytes a byte, and 1.7 MB of
    it were refused as a parse bomb (the limit was 10)."""
    net = creg.Network([1, 50000, 1], dtype="float64", **creg.NIELSEN)
    for W in net.weights:
        W[...] = 0.0
    path = save_network2(net, tmp_path / "zeros.json")
    assert os.path.getsize(path) > 1_700_000
    assert np.array_equal(load_network2(path).params, net.params)


def test_saved_text_is_what_network2_save_writes(tmp_path):
    net = creg.Network([5, 4, 3], cost="quadratic", dtype="float64", seed=1,
                       hidden="sigmoid", output="sigmoid", init="normalized")
    X, y = np.random.default_rng(0).random((20, 5)), np.arange(20) % 3
    net.fit(X, y, epochs=2, lr=0.1)
    path = tmp_path / "mine.json"
    save_network2(net, path)
    # network2's save, fed the same arrays in network2's shapes.
    weights = [np.array(w) for w in net.weights]
    biases = [np.array(b).reshape(-1, 1) for b in net.biases]
    theirs = tmp_path / "theirs.json"
    network2_save(str(theirs), [5, 4, 3], weights, biases, QuadraticCost)
    assert path.read_text() == theirs.read_text()
    # And network2's load reads it: biases come back as columns.
    data = json.loads(path.read_text())
    assert [np.array(b).shape for b in data["biases"]] == [(4, 1), (3, 1)]
    assert [np.array(w).shape for w in data["weights"]] == [(4, 5), (3, 4)]
    assert data["cost"] == "QuadraticCost"


def test_save_replaces_an_existing_file(tmp_path):
    path = write_text(tmp_path / "net.json", "old contents")
    net = creg.Network([3, 2], dtype="float64", **creg.NIELSEN)
    save_network2(net, path)
    assert np.array_equal(load_network2(path).params, net.params)
    assert os.listdir(tmp_path) == ["net.json"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(hidden="tanh"), "hidden='tanh'"),
    (dict(hidden="relu"), "hidden='relu'"),
    (dict(output="softmax", cost="log_likelihood"), "output='softmax'"),
    (dict(output="linear", cost="quadratic"), "output='linear'"),
])
def test_save_refuses_what_network2_cannot_represent(tmp_path, kwargs, match):
    net = creg.Network([3, 4, 2], **{**creg.NIELSEN, **kwargs})
    with pytest.raises(ValueError, match=match) as info:
        save_network2(net, tmp_path / "net.json")
    assert "sigmoid" in str(info.value)
    assert os.listdir(tmp_path) == []


def test_one_layer_saves_whatever_its_unused_hidden_setting(tmp_path):
    net = creg.Network([3, 2], hidden="relu", output="sigmoid",
                       dtype="float64", seed=1)
    back = load_network2(save_network2(net, tmp_path / "net.json"))
    assert np.array_equal(back.params, net.params)
    X = np.random.default_rng(0).normal(size=(5, 3))
    assert np.array_equal(back.predict_proba(X), net.predict_proba(X))


@pytest.mark.parametrize("suffix", [os.sep, os.sep + os.curdir])
def test_save_refuses_a_path_naming_a_directory(tmp_path, suffix):
    path = str(tmp_path / "net.json") + suffix
    net = creg.Network([3, 2], dtype="float64", **creg.NIELSEN)
    with pytest.raises(IsADirectoryError, match="net.json"):
        save_network2(net, path)
    assert os.listdir(tmp_path) == []


def test_max_bytes_is_checked(tmp_path):
    path = write_text(tmp_path / "net.json", json.dumps(network2_dict()))
    with pytest.raises(TypeError, match="max_bytes"):
        load_network2(path, max_bytes="1000")


def test_a_compressed_network_is_written_for_the_whole_x(tmp_path):
    # network2 has no field for input_columns: the file reads the X the
    # network was compressed from, with zero weights for unread columns
    net = creg.Network([6, 4, 2], dtype="float64", seed=1, **creg.NIELSEN)
    net.weights[0][:, [1, 4]] = 0
    small = net.compress()
    X = np.random.default_rng(2).random((50, 6))
    back = load_network2(save_network2(small, tmp_path / "net.json"))
    assert back.sizes == (6, 4, 2) and back.input_columns is None
    assert np.array_equal(back.weights[0], net.weights[0])
    np.testing.assert_allclose(back.predict_proba(X),
                               small.predict_proba(small.select(X)),
                               rtol=1e-14, atol=0)


def test_save_refuses_non_finite_weights(tmp_path):
    net = creg.Network([3, 2], dtype="float64", **creg.NIELSEN)
    net.weights[0][1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        save_network2(net, tmp_path / "net.json")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------- bad files


def _mutated(change):
    data = network2_dict()
    change(data)
    return json.dumps(data)


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


BAD_CONTENT = [
    ("missing sizes", lambda d: d.pop("sizes"), "missing key"),
    ("missing weights", lambda d: d.pop("weights"), "missing key"),
    ("missing biases", lambda d: d.pop("biases"), "missing key"),
    ("missing cost", lambda d: d.pop("cost"), "missing key"),
    ("extra key", _set(["epochs"], 3), "unknown key"),
    ("unknown cost", _set(["cost"], "LogLikelihoodCost"), "cost"),
    ("cost not a string", _set(["cost"], 1), "cost"),
    ("sizes not a list", _set(["sizes"], "4,3,2"), "sizes"),
    ("one size", _set(["sizes"], [4]), "sizes"),
    ("zero size", _set(["sizes"], [4, 0, 2]), r"sizes\[1\]"),
    ("float size", _set(["sizes"], [4, 3.0, 2]), r"sizes\[1\]"),
    ("bool size", _set(["sizes"], [4, True, 2]), r"sizes\[1\]"),
    ("sizes disagree", _set(["sizes"], [4, 3, 3]), r"weights\[1\]"),
    ("one weight matrix", lambda d: d["weights"].pop(), "weights must"),
    ("weights transposed",
     lambda d: d["weights"].__setitem__(0, np.zeros((4, 3)).tolist()),
     r"weights\[0\]"),
    ("ragged weights", lambda d: d["weights"][0][1].pop(),
     r"weights\[0\]\[1\]"),
    ("string number", _set(["weights", 0, 1, 2], "0.5"),
     r"weights\[0\]\[1\]\[2\]"),
    ("bool number", _set(["weights", 1, 0, 0], False),
     r"weights\[1\]\[0\]\[0\]"),
    ("null number", _set(["weights", 1, 0, 0], None), "number"),
    ("nested number", _set(["weights", 1, 0, 0], [1.0]), "number"),
    ("flat biases", lambda d: d["biases"].__setitem__(0, [0.0, 1.0, 2.0]),
     "column vector"),
    ("short biases", lambda d: d["biases"][1].pop(), r"biases\[1\]"),
    ("NaN weight", _set(["weights", 0, 2, 1], float("nan")), "non-finite"),
    ("infinite bias", _set(["biases", 1, 0, 0], float("-inf")),
     "non-finite"),
    ("huge integer", _set(["weights", 0, 0, 0], 10 ** 400), "too large"),
    ("too many layers", lambda d: d.update(network2_dict(
        [2] * (MAX_LAYERS + 2))), "cannot build"),
]


@pytest.mark.parametrize("change, match", [c[1:] for c in BAD_CONTENT],
                         ids=[c[0] for c in BAD_CONTENT])
def test_malformed_content_is_a_model_file_error(tmp_path, change, match):
    path = write_text(tmp_path / "bad.json", _mutated(change))
    with pytest.raises(ModelFileError, match=match) as info:
        load_network2(path)
    assert "bad.json" in str(info.value)


@pytest.mark.parametrize("text, match", [
    ("", "JSON"),
    ("{not json", "JSON"),
    ("[1, 2, 3]", "list"),
    ('{"sizes": [2, 1], "sizes": [2, 1]}', "duplicate"),
    ('{"sizes": [2, 1], "weights": [[[1e400, 0]]], "biases": [[[0]]], '
     '"cost": "QuadraticCost"}', "non-finite"),
])
def test_not_network2_json(tmp_path, text, match):
    path = write_text(tmp_path / "bad.json", text)
    with pytest.raises(ModelFileError, match=match):
        load_network2(path)


def test_binary_garbage(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ModelFileError, match="JSON"):
        load_network2(path)


def test_float32_overflow_is_refused_but_float64_loads(tmp_path):
    path = write_text(tmp_path / "big.json", _mutated(
        _set(["weights", 0, 0, 0], 1e39)))
    with pytest.raises(ModelFileError, match="float32"):
        load_network2(path, dtype="float32")
    assert load_network2(path).weights[0][0, 0] == 1e39


def test_bad_dtype_argument_is_a_plain_value_error(tmp_path):
    path = write_text(tmp_path / "net.json", json.dumps(network2_dict()))
    with pytest.raises(ValueError, match="dtype") as info:
        load_network2(path, dtype="float16")
    assert not isinstance(info.value, ModelFileError)


def test_missing_file_and_oversized_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_network2(tmp_path / "absent.json")
    path = write_text(tmp_path / "net.json", json.dumps(network2_dict()))
    with pytest.raises(ModelFileError, match="limit"):
        load_network2(path, max_bytes=10)

"""Read and write the JSON files of Nielsen's ``network2.py``.

network2's ``Network.save(filename)`` writes ``json.dump`` of::

    {"sizes":   [n_0, n_1, ..., n_L],
     "weights": [w.tolist() for w in weights],   # w: (n_{l+1}, n_l)
     "biases":  [b.tolist() for b in biases],    # b: (n_{l+1}, 1), a column
     "cost":    "CrossEntropyCost" or "QuadraticCost"}

and its network applies a sigmoid in every layer, the output included.
So a file maps to ``Network(sizes, hidden="sigmoid", output="sigmoid",
cost="cross_entropy" or "quadratic")`` with the same weights (network2's
row j of ``w`` is neuron j's incoming weights, as in creg) and the biases
flattened from columns.

What this module promises:

- ``load_network2`` checks the whole file before it builds a network: its
  size, that it is ASCII (as ``json.dump`` writes) and that parsing it
  cannot take more than ``_PARSE_BYTES_PER_BYTE`` times its size in
  memory (counted from the bytes that open lists, objects and values,
  before any parsing), then the JSON, exactly the four keys, the cost
  name against a fixed list (never ``getattr`` as network2's own
  ``load`` does), every size, every weight and bias shape, every
  number's type and finiteness.  Every problem with
  the file's contents is a ``creg.ModelFileError`` naming the file and
  quoting at most a few dozen characters of it; errors opening it are the
  usual ``OSError`` subclasses.
- ``save_network2`` writes exactly what network2's ``save`` writes (same
  keys in the same order, ``json.dump``'s default separators, floats
  printed by ``repr`` so float64 weights come back bitwise), atomically
  like ``Network.save``.  It refuses networks network2 cannot represent,
  and non-finite weights (network2 would write ``NaN``, which is not
  JSON), with a ``ValueError`` before the file system is touched.

What it does not do: keep creg's settings that network2 has no field for
(init, seed, dtype, epochs_trained); a loaded network gets the defaults.
A compressed network (``input_columns``) is written at the width of the
X it was compressed from, with zero weights for the columns it does not
read: the file takes the whole X, as network2 does.
"""
import json
import os
from typing import TYPE_CHECKING, Union

import numpy as np
import numpy.typing as npt

from creg import _validation as check
from creg._errors import ModelFileError
from creg._persist import (_is_int, _quote, _read_file,
                           _reject_duplicate_keys, write_atomically)

if TYPE_CHECKING:  # creg.network imports this module
    from creg.network import Network

__all__ = ["load_network2", "save_network2", "COST_NAMES"]

# network2's cost class names <-> creg's cost names.  network2 has no
# softmax layer, so log_likelihood has no counterpart.
COST_NAMES = {"CrossEntropyCost": "cross_entropy",
              "QuadraticCost": "quadratic"}
_KEYS = ("sizes", "weights", "biases", "cost")  # network2's order
# Why: JSON costs ~20 bytes a number in the file and far more once parsed;
# 1 GiB is ~50 million weights, beyond anything network2 trains.
DEFAULT_MAX_FILE_BYTES = 1 << 30
# Why: json.loads builds an object for every list and number, so 3 bytes
# of "[]," become a 64-byte list (8 MiB of them, 200 MiB).  network2's
# lists of 17-digit floats take about 2 bytes per byte of text; its
# densest text is a zero in a list of its own, "[0.0], " (every bias, and
# every row of a one-input layer), bounded by 152 bytes for 7 (17 taken
# in fact).  A file whose bound (_parse_cost) is above this many per
# byte, plus the slack small files need, is refused before parsing: none
# that save_network2 writes.
_PARSE_BYTES_PER_BYTE = 24
_PARSE_SLACK_BYTES = 1 << 20


# ------------------------------------------------------------------- load


def load_network2(path: Union[str, "os.PathLike[str]"], *,
                  dtype: npt.DTypeLike = "float64",
                  max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> "Network":
    """Load a network saved by Nielsen's network2.py (``Network.save``).

    Parameters
    ----------
    path : str or os.PathLike
        The JSON file.
    dtype : {"float64", "float32"}, default="float64"
        dtype of the returned network.  float64 keeps network2's weights
        exactly.
    max_bytes : int >= 1, default 1 GiB
        Files larger than this are refused before being read.

    Returns
    -------
    creg.Network
        ``Network(sizes, hidden="sigmoid", output="sigmoid", cost=...)``
        with cost "cross_entropy" for CrossEntropyCost and "quadratic" for
        QuadraticCost, holding the file's weights and biases.

    Raises
    ------
    creg.ModelFileError
        If the file is not network2 JSON: invalid JSON, missing or extra
        keys, an unknown cost, a size, weight or bias of the wrong shape
        or type, a non-finite number, or (with dtype="float32") a weight
        too large for float32.
    ValueError
        If dtype is not "float32" or "float64".
    TypeError, ValueError
        If max_bytes is not an int >= 1.
    FileNotFoundError, PermissionError
        If the file cannot be opened.  A path that names a directory or
        anything but a regular file is a ModelFileError.

    Examples
    --------
    A round trip through network2's format:

    >>> import os, tempfile
    >>> import numpy as np
    >>> import creg
    >>> net = creg.Network([4, 3, 2], dtype="float64", seed=0,
    ...                    **creg.NIELSEN)
    >>> path = net.save_network2(os.path.join(tempfile.mkdtemp(), "n2.json"))
    >>> back = creg.load_network2(path)
    >>> back.sizes, np.array_equal(back.params, net.params)
    ((4, 3, 2), True)
    """
    from creg.network import Network

    dtype = _dtype_name(dtype)
    fspath = os.fsdecode(os.fspath(path))
    where = repr(fspath)

    def fail(problem):
        raise ModelFileError(f"cannot load network2 file {where}: {problem}")

    data = _read_file(fspath, max_bytes)
    if not data.isascii():
        fail("not network2 JSON: it holds non-ASCII bytes, and network2's "
             "json.dump writes ASCII only")
    cost = _parse_cost(data)
    limit = _PARSE_BYTES_PER_BYTE * len(data) + _PARSE_SLACK_BYTES
    if cost > limit:
        fail(f"not network2 JSON: parsing its {len(data)} bytes could take "
             f"{cost} bytes of memory, over the {limit} allowed (network2 "
             "writes long lists of numbers; this file is mostly brackets, "
             "braces, short values or strings)")
    text = data.decode("ascii")
    del data  # the text alone is needed from here on
    try:
        content = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except (ValueError, RecursionError) as exc:
        fail(f"not valid JSON ({str(exc)[:200]})")
    problem, parsed = _check_content(content)
    if problem is not None:
        fail(problem)
    sizes, cost, weights, biases = parsed
    for what, arrays in (("weights", weights), ("biases", biases)):
        for l, array in enumerate(arrays):
            if not np.isfinite(array).all():
                index = tuple(int(i) for i in
                              np.argwhere(~np.isfinite(array))[0])
                fail(f"{what}[{l}] holds a non-finite number "
                     f"({array[index]!r} at index {list(index)})")
            if dtype == "float32" and np.abs(array).max(initial=0.0) > \
                    np.finfo(np.float32).max:
                fail(f"{what}[{l}] holds a number too large for float32; "
                     "load with dtype='float64'")
    try:
        net = Network._for_given_weights(sizes, hidden="sigmoid",
                                         output="sigmoid", cost=cost,
                                         dtype=dtype)
    except (ValueError, TypeError) as exc:
        fail(f"creg cannot build this network ({exc})")
    for l, (w, b) in enumerate(zip(weights, biases)):
        net.weights[l][...] = w
        net.biases[l][...] = b[:, 0]
    return net


def _parse_cost(data):
    """An upper bound on the bytes of Python objects that json.loads
    builds from the ASCII JSON ``data``, from counts of single bytes.

    Every value follows a "[", "," or ":" (or is the whole text); a list
    costs at most 72 bytes, an object 200, a key-value pair 120, a value's
    slot and number 40, a string 128 (two quotes: twice its real cost, as
    network2's files hold a few and lists of strings are no model), and
    long numbers and strings at most one byte per byte of text on top.
    Bytes inside strings are counted too, which only overestimates.
    """
    lists, objects, pairs, quotes = (data.count(c)
                                     for c in (b"[", b"{", b":", b'"'))
    values = lists + data.count(b",") + pairs + 1
    return (72 * lists + 200 * objects + 120 * pairs + 40 * values
            + 64 * quotes + len(data))


def _dtype_name(dtype):
    if isinstance(dtype, (np.dtype, type)):
        dtype = np.dtype(dtype).name
    return check.choice("dtype", dtype, check.DTYPES)



def _check_content(content):
    """Validate the decoded JSON; return (problem, None) or
    (None, (sizes, creg cost name, [W float64], [b float64 columns]))."""
    if not isinstance(content, dict):
        return (f"the file holds a JSON {type(content).__name__}, not "
                "network2's object", None)
    missing = [k for k in _KEYS if k not in content]
    if missing:
        return f"missing key(s) {missing}; network2 writes {list(_KEYS)}", None
    extra = sorted(set(content) - set(_KEYS))
    if extra:
        return (f"unknown key(s) {_quote(extra)}; network2 writes "
                f"{list(_KEYS)}", None)
    cost = content["cost"]
    if not isinstance(cost, str) or cost not in COST_NAMES:
        return (f"cost is {_quote(cost)}; expected one of "
                f"{', '.join(map(repr, COST_NAMES))}", None)
    sizes = content["sizes"]
    if not isinstance(sizes, list) or len(sizes) < 2:
        return ("sizes must be a list of at least two layer widths; got "
                f"{_quote(sizes)}", None)
    for i, s in enumerate(sizes):
        # Why the upper bound: shapes are printed below, and Python refuses
        # to print an int of over 4300 digits.
        if not _is_int(s) or not 1 <= s < 2**63:
            return (f"sizes[{i}] must be a positive int below 2**63; got "
                    f"{_quote(s)}", None)
    n_layers = len(sizes) - 1
    weights, biases = [], []
    for what, arrays in (("weights", weights), ("biases", biases)):
        values = content[what]
        if not isinstance(values, list) or len(values) != n_layers:
            return (f"{what} must be a list of {n_layers} arrays (one per "
                    f"layer of sizes {_quote(sizes)})", None)
        for l, value in enumerate(values):
            cols = sizes[l] if what == "weights" else 1
            problem, array = _matrix(value, sizes[l + 1], cols,
                                     f"{what}[{l}]")
            if problem is not None:
                return problem, None
            arrays.append(array)
    return None, (sizes, COST_NAMES[cost], weights, biases)


def _matrix(value, rows, cols, what):
    """A nested list of `rows` lists of `cols` JSON numbers -> float64."""
    shape = f"({rows}, {cols})"
    if cols == 1:
        shape += ", a column vector as network2 stores biases"
    if not isinstance(value, list) or len(value) != rows:
        return f"{what} must have shape {shape}; got {_describe(value)}", None
    for i, row in enumerate(value):
        if not isinstance(row, list) or len(row) != cols:
            return (f"{what}[{i}] must be a list of {cols} numbers (shape "
                    f"{shape}); got {_describe(row)}", None)
        for j, x in enumerate(row):
            if type(x) not in (int, float):  # json gives exactly these
                return (f"{what}[{i}][{j}] must be a number; got "
                        f"{_quote(x)}", None)
    try:
        return None, np.array(value, dtype=np.float64)
    except OverflowError:
        return f"{what} holds an integer too large for a float", None


def _describe(value):
    if isinstance(value, list):
        return f"a list of length {len(value)}"
    return f"a JSON {type(value).__name__}"


# ------------------------------------------------------------------- save


def save_network2(net, path):
    """Write ``net`` in network2.py's JSON format; return the path written.

    The file is what network2's ``Network.save`` writes, so network2's
    ``load`` (and ``load_network2``) reads it back.  Only networks that
    network2 can represent are accepted: sigmoid hidden and output layers
    with cost "cross_entropy" (CrossEntropyCost) or "quadratic"
    (QuadraticCost).  The write is atomic: an existing file is replaced
    only once the new one is complete.

    Raises
    ------
    ValueError
        If network2 cannot represent the network (a tanh/relu hidden layer,
        a softmax or linear output, the log_likelihood cost) or its
        weights hold NaN or infinity.  Nothing on disk is touched.
    OSError
        If writing fails; any previous file at ``path`` is left intact.
    """
    return write_atomically(path, _encode(net).encode("ascii"))


def _encode(net):
    """network2's JSON text for ``net``; refuses what network2 cannot hold."""
    why = []
    if net.hidden != "sigmoid" and len(net.sizes) > 2:  # else never applied
        why.append(f"hidden={net.hidden!r}")
    if net.output != "sigmoid":
        why.append(f"output={net.output!r}")
    if net.cost_name not in COST_NAMES.values():
        why.append(f"cost={net.cost_name!r}")
    if why:
        raise ValueError(
            f"network2.py cannot represent this network ({', '.join(why)}): "
            "it applies a sigmoid in every layer, the output included, and "
            "knows only the costs CrossEntropyCost (creg 'cross_entropy') "
            "and QuadraticCost (creg 'quadratic')")
    if not np.isfinite(net.params).all():
        raise ValueError("refusing to save: the network's parameters contain "
                         "NaN or infinity, which network2's JSON cannot hold")
    cost = {v: k for k, v in COST_NAMES.items()}[net.cost_name]
    weights = [np.asarray(w, np.float64) for w in net.weights]
    sizes = [int(s) for s in net.sizes]
    if net.input_columns is not None:
        # network2 has no field for the columns a compressed network
        # reads: its file reads the whole X, with zero weights for the rest
        whole = np.zeros((sizes[1], net.input_width))
        whole[:, net.input_columns] = weights[0]
        weights[0], sizes[0] = whole, net.input_width
    data = {"sizes": sizes,
            "weights": [w.tolist() for w in weights],
            "biases": [np.asarray(b, np.float64).reshape(-1, 1).tolist()
                       for b in net.biases],
            "cost": cost}
    return json.dumps(data, allow_nan=False)

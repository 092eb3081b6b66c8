"""Mutated and hostile files for every loader: creg.load, load_network2
and load_mnist (issue 15, RELIABILITY.md section H).

A creg model file ends with the SHA-256 of everything before it, so every
changed, added or removed byte must be refused with ModelFileError; only a
mutation that leaves the bytes as they were may load, and then bitwise
the same network. network2's JSON has no checksum, so a mutated file may
load, but only as exactly the network its text describes. Every case is
bounded in memory (tracemalloc peak) and time, and bombs (files that
cost far more to parse or decompress than they weigh on disk) are refused
before they are expanded.
"""
import gzip
import hashlib
import json
import os
import struct
import time
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import creg
from creg import ModelFileError
from creg.datasets import load_mnist
from creg.network2 import load_network2, save_network2

DTYPES = ["float32", "float64"]
CONFIG_ATTRS = ("sizes", "hidden", "output", "cost_name", "init", "dtype",
                "seed", "epochs_trained")
MiB = 1 << 20
SECONDS_PER_CASE = 5.0  # a hang detector, far above the ~1 ms a case takes
FUZZ = settings(max_examples=150, deadline=None, database=None,
                derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def make_net(sizes, dtype, hidden="sigmoid"):
    net = creg.Network(sizes, hidden=hidden, dtype=dtype, seed=12345,
                       output="sigmoid", init="normalized")
    net.params[...] = np.random.default_rng(7).normal(size=net.params.size)
    net.epochs_trained = 5
    return net


def model_bytes(tmp_path, net):
    path = net.save(tmp_path / "original.creg")
    with open(path, "rb") as f:
        return f.read()


def split(data):
    """(header dict, header length, payload) of a format-2 file."""
    (hlen,) = struct.unpack_from("<I", data, 8)
    return json.loads(data[12:12 + hlen]), hlen, data[12 + hlen:-32]


def with_header(data, header, *, fresh_digest):
    """``data`` with its header replaced; the trailer is the original one
    (a hand edit) or the SHA-256 of the new bytes (a deliberate rewrite)."""
    text = json.dumps(header, sort_keys=True).encode()
    text += b" " * (-(12 + len(text)) % 8)
    body = data[:8] + struct.pack("<I", len(text)) + text + split(data)[2]
    return body + (hashlib.sha256(body).digest() if fresh_digest
                   else data[-32:])


class Bounded:
    """Runs one load at a time under tracemalloc and a clock, and checks
    each stays under 4x the file's size + 1 MiB and SECONDS_PER_CASE."""

    def __init__(self, path):
        self.path = path
        self.cases = 0

    def __enter__(self):
        tracemalloc.start()
        return self

    def __exit__(self, *exc):
        tracemalloc.stop()

    def load(self, loader, data, **kwargs):
        """Write ``data`` and load it; return the network or the
        ModelFileError (any other exception propagates)."""
        # Overwritten in place: write_bytes's O_TRUNC makes ext4 flush the
        # file on close (auto_da_alloc), 3 ms a case instead of 10 us.
        with open(self.path, "r+b" if self.path.exists() else "wb") as f:
            f.write(data)
            f.truncate()
        self.cases += 1
        tracemalloc.reset_peak()
        # Earlier cases' garbage (an error's traceback holds its frames)
        # may still be alive; only what this load adds counts.
        before = tracemalloc.get_traced_memory()[0]
        start = time.perf_counter()
        try:
            result = loader(self.path, **kwargs)
        except ModelFileError as exc:
            assert str(self.path) in str(exc)
            result = exc
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] - before
        assert peak < 4 * len(data) + MiB, (peak, len(data))
        assert elapsed < SECONDS_PER_CASE
        return result


def assert_same_network(a, b):
    for attr in CONFIG_ATTRS:
        assert getattr(a, attr) == getattr(b, attr), attr
    assert a.params.tobytes() == b.params.tobytes()


def check_creg(bounded, net, original, mutated):
    """A mutated creg file is refused, unless it is the original bytes."""
    result = bounded.load(creg.load, bytes(mutated))
    if bytes(mutated) == original:
        assert_same_network(net, result)
    else:
        assert isinstance(result, ModelFileError), "a changed file loaded"


# ------------------------------------------------------ creg model files


@pytest.fixture(params=DTYPES)
def small(request, tmp_path):
    """(net, file bytes) of a small network: the whole file is ~400 bytes,
    so every bit of it can be flipped."""
    net = make_net([3, 4, 2], request.param)
    return net, model_bytes(tmp_path, net)


@pytest.fixture(params=DTYPES)
def medium(request, tmp_path):
    net = make_net([30, 40, 10], request.param, hidden="relu")
    return net, model_bytes(tmp_path, net)


def test_every_bit_flip_of_a_small_file_is_refused(tmp_path, small):
    net, data = small
    with Bounded(tmp_path / "m.creg") as bounded:
        check_creg(bounded, net, data, data)
        for index in range(len(data)):
            for bit in range(8):
                mutated = bytearray(data)
                mutated[index] ^= 1 << bit
                check_creg(bounded, net, data, mutated)
    assert bounded.cases == 1 + 8 * len(data)


def test_flips_cuts_and_appends_of_a_larger_file_are_refused(tmp_path,
                                                            medium):
    net, data = medium
    rng = np.random.default_rng(0)
    hlen = split(data)[1]
    # Every header byte, and 400 random positions over the whole file.
    positions = list(range(12 + hlen)) + list(rng.integers(0, len(data), 400))
    cuts = {len(data) * k // 64 for k in range(64)}
    cuts |= set(range(12 + hlen + 2)) | {len(data) - 32, len(data) - 1}
    tails = [b"\x00", b" ", b"\x00" * 7, data[-32:], data, os.urandom(4096)]
    with Bounded(tmp_path / "m.creg") as bounded:
        for index in positions:
            mutated = bytearray(data)
            mutated[index] ^= 1 << int(rng.integers(8))
            check_creg(bounded, net, data, mutated)
        for cut in sorted(cuts):
            check_creg(bounded, net, data, data[:cut])
        for tail in tails:
            check_creg(bounded, net, data, data + tail)
            # Inserted before the trailer, as if the payload had grown.
            check_creg(bounded, net, data, data[:-32] + tail + data[-32:])


def _edits(header):
    """(name, edited header) pairs: each of the first ones is still a valid
    header, so only the digest can tell the file was changed; the last
    ones change sizes, counts and the dtype."""
    def edit(**changes):
        return {**header, **changes}
    seed = str(header["seed"])
    flipped_seed = int(seed[:-1] + str((int(seed[-1]) + 1) % 10))
    for hidden in ("sigmoid", "tanh", "relu"):
        if hidden != header["hidden"]:
            yield f"hidden {header['hidden']}->{hidden}", edit(hidden=hidden)
    yield "seed digit", edit(seed=flipped_seed)
    yield "seed zero", edit(seed=0)
    yield "epochs_trained +1", edit(epochs_trained=header["epochs_trained"] + 1)
    yield "epochs_trained 0", edit(epochs_trained=0)
    yield "init", edit(init="he" if header["init"] != "he" else "glorot")
    yield "cost", edit(cost="quadratic")
    yield "creg_version", edit(creg_version="0.0.1")
    # Another architecture with the same parameter count:
    # 41 * (29 + 1) + 10 * (41 + 1) = 40 * (30 + 1) + 10 * (40 + 1).
    assert header["sizes"] == [30, 40, 10]
    yield "sizes, same n_params", edit(sizes=[29, 41, 10])
    yield "n_params", edit(n_params=header["n_params"] - 1)
    yield "payload_bytes -8", edit(payload_bytes=header["payload_bytes"] - 8)
    yield "payload_bytes +32", edit(payload_bytes=header["payload_bytes"] + 32)
    yield "sizes, a layer fewer", edit(sizes=header["sizes"][:-1])
    yield "sizes, huge", edit(sizes=[10**6, 10**6, 10])
    yield "dtype", edit(dtype={"float32": "float64",
                               "float64": "float32"}[header["dtype"]])


def test_header_edits_are_refused(tmp_path, medium):
    net, data = medium
    header, hlen, _ = split(data)
    with Bounded(tmp_path / "m.creg") as bounded:
        for name, edited in _edits(header):
            result = bounded.load(creg.load, with_header(data, edited,
                                                         fresh_digest=False))
            assert isinstance(result, ModelFileError), name
        # The header length field one byte short of or past the header, or
        # pointing at the end of the file.
        for length in (hlen - 1, hlen + 1, hlen + 8, len(data) - 12):
            mutated = data[:8] + struct.pack("<I", length) + data[12:]
            check_creg(bounded, net, data, mutated)


@pytest.mark.parametrize("epochs", [2**63, 2**64, 2**64 + 1, 10**30])
def test_epochs_trained_out_of_range_is_refused_even_with_a_valid_digest(
        tmp_path, medium, epochs):
    _, data = medium
    edited = dict(split(data)[0], epochs_trained=epochs)
    with Bounded(tmp_path / "m.creg") as bounded:
        result = bounded.load(creg.load, with_header(data, edited,
                                                     fresh_digest=True))
    assert isinstance(result, ModelFileError)
    assert "'epochs_trained'" in str(result) and "2**63" in str(result)


# Replacement bytes that often keep a header valid: digits, letters of
# the allowed names, JSON punctuation, and any byte at all.
_PLAUSIBLE = st.one_of(st.sampled_from(b"0123456789 aeghilmnorstw\",:[]"),
                       st.integers(0, 255))
# New values for header fields, many of them valid for the field.
_VALUES = st.one_of(
    st.integers(0, 2**64), st.sampled_from(
        ["sigmoid", "tanh", "relu", "softmax", "linear", "quadratic",
         "cross_entropy", "log_likelihood", "normalized", "he", "glorot",
         "large", "float32", "float64", "little", "0.1.1"]),
    st.lists(st.integers(1, 50), min_size=2, max_size=4))


def _byte_mutation(draw, data):
    """Bytes set anywhere (half the time in the header), then maybe a cut
    and appended bytes."""
    header_end = 12 + split(data)[1]
    position = st.one_of(st.integers(0, header_end - 1),
                         st.integers(0, len(data) - 1))
    mutated = bytearray(data)
    for index, value in draw(st.lists(st.tuples(position, _PLAUSIBLE),
                                      min_size=1, max_size=4)):
        mutated[index] = value
    if draw(st.booleans()):
        del mutated[draw(st.integers(0, len(data))):]
    return mutated + draw(st.binary(max_size=40))


def _header_edit(draw, data):
    """One header field set to a new value, the digest left as it was."""
    header = split(data)[0]
    key = draw(st.sampled_from(sorted(header)))
    header[key] = draw(_VALUES)
    return with_header(data, header, fresh_digest=False)


@FUZZ
@given(draw=st.data(), how=st.sampled_from([_byte_mutation, _header_edit]))
def test_random_mutations_are_refused(tmp_path, medium, draw, how):
    net, data = medium
    mutated = how(draw.draw, data)
    with Bounded(tmp_path / "m.creg") as bounded:
        check_creg(bounded, net, data, mutated)


def test_version_1_file_is_refused_with_the_reason(tmp_path, medium):
    """A file in the old layout (payload digest in the header, no trailer)
    is refused, saying the header is not covered, even when intact."""
    _, data = medium
    header, _, payload = split(data)
    header.update(format_version=1,
                  sha256=hashlib.sha256(payload).hexdigest())
    text = json.dumps(header).encode()
    old = data[:8] + struct.pack("<I", len(text)) + text + payload
    with Bounded(tmp_path / "m.creg") as bounded:
        result = bounded.load(creg.load, old)
    assert isinstance(result, ModelFileError)
    assert "format_version 1" in str(result)
    assert "does not cover the header" in str(result)


# ----------------------------------------------- reads bounded before checks


def refusal_peak(load, path, error=ModelFileError, match=None):
    """(the error `load(path)` raises, tracemalloc's peak meanwhile)."""
    tracemalloc.start()
    try:
        with pytest.raises(error, match=match) as info:
            load(path)
        return info.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_big_file_with_a_bad_magic_is_not_read(tmp_path):
    path = tmp_path / "zeros.creg"
    with open(path, "wb") as f:
        f.truncate(64 * MiB)  # sparse: 64 MiB of zeros, instantly
    assert refusal_peak(creg.load, path, match="bad magic")[1] < MiB


def test_big_trailing_data_is_refused_unread(tmp_path, medium):
    _, data = medium
    path = tmp_path / "m.creg"
    with open(path, "wb") as f:
        f.write(data)
        f.truncate(64 * MiB)
    assert refusal_peak(creg.load, path, match="trailing data")[1] < MiB


# ------------------------------------------------- quoting file content


def test_creg_error_quotes_at_most_80_chars_of_a_huge_field(tmp_path, small):
    _, data = small
    for edited in (dict(split(data)[0], hidden="x" * 60000),
                   dict(split(data)[0], **{"y" * 60000: 1}),
                   dict(split(data)[0], seed="9" * 60000)):
        path = tmp_path / "m.creg"
        path.write_bytes(with_header(data, edited, fresh_digest=True))
        with pytest.raises(ModelFileError) as info:
            creg.load(path)
        assert len(str(info.value)) < len(str(path)) + 250, str(info.value)


def test_creg_sizes_too_long_to_print_are_a_model_file_error(tmp_path, small):
    """Sizes of 4000 digits make a parameter count Python refuses to print
    (a plain ValueError escaped from building the message)."""
    _, data = small
    edited = dict(split(data)[0], sizes=[10**4000, 10**4000])
    path = tmp_path / "m.creg"
    path.write_bytes(with_header(data, edited, fresh_digest=True))
    with pytest.raises(ModelFileError, match=r"'sizes'\[0\]") as info:
        creg.load(path)
    assert len(str(info.value)) < len(str(path)) + 250


def test_network2_error_quotes_at_most_80_chars(tmp_path):
    base = {"sizes": [2, 1], "weights": [[[0.5, 0.25]]], "biases": [[[0.0]]],
            "cost": "QuadraticCost"}
    for bad in ({**base, "k" * 60000: 1}, {**base, "cost": "c" * 60000},
                {**base, "sizes": [10**4000, 1]},
                {**base, "weights": [[[0.5, "w" * 60000]]]}):
        path = tmp_path / "n2.json"
        path.write_text(json.dumps(bad))
        with pytest.raises(ModelFileError) as info:
            load_network2(path)
        assert len(str(info.value)) < len(str(path)) + 250, str(info.value)


# ------------------------------------------------------ network2 JSON


def network2_bytes(tmp_path, dtype):
    net = make_net([6, 5, 3], dtype)
    path = save_network2(net, tmp_path / "original.json")
    with open(path, "rb") as f:
        return f.read()


def check_network2(bounded, mutated, dtype):
    """A mutated network2 file is refused, or loads as exactly the network
    its text describes."""
    result = bounded.load(load_network2, bytes(mutated), dtype=dtype)
    if isinstance(result, ModelFileError):
        return False
    content = json.loads(bytes(mutated))
    assert list(result.sizes) == content["sizes"]
    assert result.cost_name == {"CrossEntropyCost": "cross_entropy",
                                "QuadraticCost": "quadratic"}[content["cost"]]
    for layer, (w, b) in enumerate(zip(content["weights"], content["biases"])):
        assert np.array_equal(result.weights[layer], np.array(w, dtype))
        assert np.array_equal(result.biases[layer], np.array(b, dtype)[:, 0])
    return True


@pytest.mark.parametrize("dtype", DTYPES)
def test_network2_mutations_are_refused_or_load_as_written(tmp_path, dtype):
    data = network2_bytes(tmp_path, dtype)
    rng = np.random.default_rng(1)
    loaded = 0
    with Bounded(tmp_path / "n2.json") as bounded:
        assert check_network2(bounded, data, dtype)
        for index in rng.integers(0, len(data), 600):
            mutated = bytearray(data)
            mutated[index] ^= 1 << int(rng.integers(8))
            loaded += check_network2(bounded, mutated, dtype)
        for k in range(64):
            assert not check_network2(bounded, data[:len(data) * k // 64],
                                      dtype)
        for tail in (b" ", b"\n", b"x", b"{}", b"[]" * 1000):
            check_network2(bounded, data + tail, dtype)
        # Runs of cheap-to-write, costly-to-parse values inserted after a
        # "[" of the weights (a few MiB of Python objects from 1 MiB).
        at = data.index(b"[[") + 1
        for run in (b"[],", b"[0],", b'{"a":0},', b'"ab",'):
            inserted = data[:at] + run * (MiB // len(run)) + data[at:]
            assert not check_network2(bounded, inserted, dtype)
        for old, new in ((b"CrossEntropyCost", b"QuadraticCost"),
                         (b"[6, 5, 3]", b"[6, 5, 4]"),
                         (b"[6, 5, 3]", b"[5, 6, 3]")):
            check_network2(bounded, data.replace(old, new), dtype)
    # Flipped digits of the weights load as other weights: the format has
    # no checksum, so this is what the check above is for.
    assert loaded > 0


# (a list of bare numbers, "0.5,", is network2's own text: about 8 bytes
# parsed a byte, and taken)
@pytest.mark.parametrize("unit", [b"[],", b"[0],", b"[[]],", b'{"a":0},',
                                  b'"ab",', b"{},", b"[0.5],"])
def test_network2_parse_bombs_are_refused_unparsed(tmp_path, unit):
    path = tmp_path / "bomb.json"
    path.write_bytes(b"[" + unit * ((8 * MiB) // len(unit)) + b"1]")
    size = os.path.getsize(path)
    peak = refusal_peak(load_network2, path, match="could take")[1]
    assert peak < 1.1 * size  # the file itself, nothing parsed


def test_network2_non_ascii_is_refused(tmp_path):
    path = tmp_path / "n2.json"
    path.write_text('{"sizes": [1, 1], "weights": [[[0.5]]], '
                    '"biases": [[[0.0]]], "cost": "\U0001F600"}',
                    encoding="utf-8")
    with pytest.raises(ModelFileError, match="non-ASCII"):
        load_network2(path)


# ----------------------------------------------------------- load_mnist


def idx(magic, shape, body=b""):
    return (struct.pack(">I", magic)
            + b"".join(struct.pack(">I", s) for s in shape) + body)


@pytest.fixture
def mnist_dir(tmp_path):
    """A directory of four tiny valid IDX files (train: 6, t10k: 4)."""
    for prefix, n in (("train", 6), ("t10k", 4)):
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(
            idx(0x801, (n,), bytes(range(n))))
        (tmp_path / f"{prefix}-images-idx3-ubyte").write_bytes(
            idx(0x803, (n, 28, 28), bytes(n * 784)))
    return tmp_path


def gzip_to(path, head, zeros):
    """Write ``head`` then ``zeros`` zero bytes, gzipped, a MiB at a time
    (the file stays small: zeros compress a thousandfold)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    block = bytes(MiB)
    with open(path, "wb") as f:
        f.write(compressor.compress(head))
        for _ in range(zeros // MiB):
            f.write(compressor.compress(block))
        f.write(compressor.compress(bytes(zeros % MiB)))
        f.write(compressor.flush())


def load_mnist_peak(directory):
    return refusal_peak(load_mnist, directory, error=ValueError)


def test_mnist_gzip_bomb_is_refused_without_decompressing_it(mnist_dir):
    os.remove(mnist_dir / "train-images-idx3-ubyte")
    path = mnist_dir / "train-images-idx3-ubyte.gz"
    gzip_to(path, idx(0x803, (6, 28, 28), bytes(6 * 784)), 64 * MiB)
    assert os.path.getsize(path) < 100 * 1024
    error, peak = load_mnist_peak(mnist_dir)
    assert "trailing data" in str(error) and str(path) in str(error)
    assert peak < 4 * MiB


def test_mnist_gzip_declared_size_is_checked_before_and_after(mnist_dir):
    os.remove(mnist_dir / "train-images-idx3-ubyte")
    path = mnist_dir / "train-images-idx3-ubyte.gz"
    gzip_to(path, idx(0x803, (2**31, 28, 28)), 2 * MiB)
    error, peak = load_mnist_peak(mnist_dir)
    assert "decompress it yourself" in str(error) and str(path) in str(error)
    assert peak < MiB
    path.write_bytes(gzip.compress(idx(0x803, (6, 28, 28), bytes(100))))
    error, _ = load_mnist_peak(mnist_dir)
    assert "truncated" in str(error) and "but 100 bytes follow" in str(error)


def test_mnist_corrupt_deflate_data_is_a_value_error(mnist_dir):
    os.remove(mnist_dir / "train-images-idx3-ubyte")
    path = mnist_dir / "train-images-idx3-ubyte.gz"
    data = bytearray(gzip.compress(
        idx(0x803, (6, 28, 28), bytes(range(256)) * 18 + bytes(96))))
    data[12:20] = b"\xff" * 8  # the first deflate block, after the header
    path.write_bytes(bytes(data))
    error, _ = load_mnist_peak(mnist_dir)
    assert "not a valid gzip file" in str(error) and str(path) in str(error)

"""Model files: bitwise round trips, atomic saves, and hostile files.

Every corrupted or foreign file must raise creg.ModelFileError naming the
file; nothing else may escape load (RELIABILITY.md section H).
"""
import hashlib
import json
import os
import pickle
import re
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc

import numpy as np
import pytest

import creg
import creg.network
from creg import ModelFileError
from creg import _persist
from creg._persist import MAGIC, load_network, save_network

CONFIGS = [
    # sizes, hidden, output, cost, init
    ([4, 1], "sigmoid", "sigmoid", "cross_entropy", "normalized"),
    ([5, 8, 3], "relu", "softmax", "log_likelihood", "he"),
    ([2, 6, 4, 1], "tanh", "linear", "quadratic", "glorot"),
    ([3, 7, 2], "sigmoid", "sigmoid", "quadratic", "large"),
    ([6, 5, 4, 3, 2], "relu", "sigmoid", "cross_entropy", "normalized"),
]
DTYPES = ["float32", "float64"]
CONFIG_ATTRS = ("sizes", "hidden", "output", "cost_name", "init", "dtype",
                "seed", "epochs_trained")


def make_net(config=CONFIGS[1], dtype="float64", seed=3):
    sizes, hidden, output, cost, init = config
    net = creg.Network(sizes, hidden=hidden, output=output, cost=cost,
                       init=init, dtype=dtype, seed=seed)
    # Parameters that the seed cannot reproduce, so a load that re-initialises
    # from the seed instead of reading the payload fails; plus -0.0 and a
    # subnormal, which only a bitwise copy keeps.
    values = np.random.default_rng(1234).normal(size=net.params.size) * 3
    net.params[...] = values
    net.params[0] = -0.0
    net.params[-1] = np.finfo(net.dtype).smallest_subnormal
    net.epochs_trained = 5
    return net


def assert_same_network(a, b):
    for attr in CONFIG_ATTRS:
        assert getattr(a, attr) == getattr(b, attr), attr
    assert b.params.dtype == a.params.dtype
    assert b.params.shape == a.params.shape
    assert a.params.tobytes() == b.params.tobytes()
    assert np.array_equal(a.params, b.params)
    for wa, wb in zip(a.weights, b.weights):
        assert np.array_equal(wa, wb)
    for ba, bb in zip(a.biases, b.biases):
        assert np.array_equal(ba, bb)


def split(data):
    """(header dict, header length, payload) of a valid file's bytes."""
    (hlen,) = struct.unpack_from("<I", data, 8)
    return json.loads(data[12:12 + hlen]), hlen, data[12 + hlen:-32]


def build(header, payload, magic=MAGIC):
    """A file with a valid SHA-256 trailer, so only what the test changed
    in the header or payload is wrong."""
    text = json.dumps(header).encode()
    body = magic + struct.pack("<I", len(text)) + text + payload
    return body + hashlib.sha256(body).digest()


@pytest.fixture
def saved(tmp_path):
    """A valid model file: (net, path, bytes)."""
    net = make_net()
    path = save_network(net, tmp_path / "model.creg")
    with open(path, "rb") as f:
        return net, path, f.read()


def expect_bad(tmp_path, data, match, name="bad.creg"):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ModelFileError, match=match) as info:
        load_network(path)
    assert str(path) in str(info.value)
    return info.value


# ------------------------------------------------------------ round trips


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", CONFIGS,
                         ids=lambda c: "-".join(map(str, c[0])) + c[1])
def test_round_trip_is_bitwise(tmp_path, config, dtype):
    net = make_net(config, dtype, seed=11)
    path = save_network(net, tmp_path / "m.creg")
    loaded = load_network(path)
    assert isinstance(loaded, creg.Network)
    assert_same_network(net, loaded)
    assert loaded.dtype == np.dtype(dtype)
    X = np.random.default_rng(5).normal(size=(17, config[0][0])).astype(dtype)
    assert np.array_equal(net.predict_proba(X), loaded.predict_proba(X))
    assert np.array_equal(net.predict(X), loaded.predict(X))


@pytest.mark.parametrize("dtype", DTYPES)
def test_trained_network_resumes_identically(tmp_path, dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5)).astype(dtype)
    y = rng.integers(0, 3, 40)
    net = creg.Network([5, 8, 3], hidden="relu", output="softmax",
                       cost="log_likelihood", dtype=dtype, seed=9,
                       init="normalized")
    net.fit(X, y, epochs=2, batch_size=8, lr=0.1)
    loaded = load_network(save_network(net, tmp_path / "m.creg"))
    assert loaded.epochs_trained == 2
    assert_same_network(net, loaded)
    # epochs_trained keys the shuffle, so one more epoch matches bitwise.
    net.fit(X, y, epochs=1, batch_size=8, lr=0.1)
    loaded.fit(X, y, epochs=1, batch_size=8, lr=0.1)
    assert np.array_equal(net.params, loaded.params)


def test_save_returns_path_as_str_and_accepts_pathlike(tmp_path):
    net = make_net()
    target = tmp_path / "a.creg"
    out = save_network(net, target)
    assert isinstance(out, str) and out == str(target)
    assert save_network(net, str(target)) == str(target)
    assert_same_network(net, load_network(out))
    assert_same_network(net, load_network(target))


def test_network_save_and_creg_load_use_this_format(tmp_path):
    net = make_net()
    path = net.save(tmp_path / "n.creg")
    with open(path, "rb") as f:
        assert f.read(8) == MAGIC
    assert_same_network(net, creg.load(path))


@pytest.mark.parametrize("dtype", DTYPES)
def test_file_layout(tmp_path, dtype):
    net = make_net(dtype=dtype)
    with open(save_network(net, tmp_path / "m.creg"), "rb") as f:
        data = f.read()
    assert data[:8] == b"CREG\x00MDL"
    header, hlen, payload = split(data)
    assert (12 + hlen) % 8 == 0
    assert payload == net.params.astype(np.dtype(dtype).newbyteorder("<")).tobytes()
    assert data[-32:] == hashlib.sha256(data[:-32]).digest()
    assert header == {
        "format_version": 2,
        "creg_version": creg.__version__,
        "sizes": [5, 8, 3],
        "hidden": "relu",
        "output": "softmax",
        "cost": "log_likelihood",
        "init": "he",
        "dtype": dtype,
        "byte_order": "little",
        "seed": 3,
        "epochs_trained": 5,
        "n_params": net.params.size,
        "payload_bytes": len(payload),
    }


def test_load_never_touches_pickle(saved, monkeypatch):
    net, path, _ = saved

    def forbidden(*args, **kwargs):
        raise AssertionError("load used pickle")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(np, "load", forbidden)
    assert_same_network(net, load_network(path))


# ------------------------------------------------------------ atomic saves


def test_save_replaces_existing_file(tmp_path):
    path = tmp_path / "m.creg"
    first, second = make_net(seed=1), make_net(CONFIGS[2], "float32", seed=2)
    save_network(first, path)
    save_network(second, path)
    assert_same_network(second, load_network(path))
    assert os.listdir(tmp_path) == ["m.creg"]


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt",
                    reason="POSIX symlinks")
def test_save_through_a_symlink_replaces_its_file_and_keeps_the_link(
        tmp_path):
    real, link = tmp_path / "real.creg", tmp_path / "link.creg"
    save_network(make_net(seed=1), real)
    link.symlink_to(real)
    second = make_net(CONFIGS[2], "float32", seed=2)
    assert save_network(second, link) == str(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert_same_network(second, load_network(real))
    assert sorted(os.listdir(tmp_path)) == ["link.creg", "real.creg"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_save_keeps_the_replaced_files_permission_bits(tmp_path):
    path = tmp_path / "m.creg"
    save_network(make_net(seed=1), path)
    os.chmod(path, 0o440)
    save_network(make_net(seed=2), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o440
    assert_same_network(make_net(seed=2), load_network(path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_save_refuses_a_fifo_and_leaves_it_alone(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="is a FIFO, not a regular file"):
        save_network(make_net(), fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe"]


def test_save_refuses_a_device_behind_a_symlink(tmp_path):
    if not os.path.exists(os.devnull) or os.name == "nt":
        pytest.skip("no POSIX null device")
    link = tmp_path / "null.creg"
    link.symlink_to(os.devnull)
    with pytest.raises(ValueError, match="character device"):
        save_network(make_net(), link)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def _fail(*args, **kwargs):
    raise OSError(28, "No space left on device (simulated)")


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("patch", [
    ("replace", _fail, OSError),
    ("fsync", _fail, OSError),
    ("fsync", _interrupt, KeyboardInterrupt),
])
def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch, patch):
    name, fake, exc = patch
    path = tmp_path / "m.creg"
    old = make_net(seed=1)
    save_network(old, path)
    before = path.read_bytes()
    monkeypatch.setattr(os, name, fake)
    with pytest.raises(exc):
        save_network(make_net(CONFIGS[3], seed=2), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.creg"]
    assert_same_network(old, load_network(path))


def test_failed_write_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.creg"
    save_network(make_net(seed=1), path)
    before = path.read_bytes()
    real_write = os.write

    def full_disk(fd, data):
        real_write(fd, memoryview(data)[: len(data) // 2])
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(OSError, match="simulated"):
        save_network(make_net(seed=2), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.creg"]


@pytest.mark.parametrize("call", ["open", "fchmod", "write", "fsync",
                                  "close", "replace"])
def test_ctrl_c_as_any_step_of_save_returns_leaves_nothing(
        tmp_path, monkeypatch, call):
    """Ctrl-C lands as one of the save's calls returns, its work done: the
    save raises KeyboardInterrupt, the old file stays whole (or the new
    one, once replaced), no temporary is left and no descriptor is closed
    twice."""
    path = tmp_path / "m.creg"
    old, new = make_net(seed=1), make_net(CONFIGS[3], seed=2)
    save_network(old, path)
    real, real_close = getattr(os, call), os.close
    closed, opened = [], []

    def late(*args, **kwargs):
        result = real(*args, **kwargs)
        if call == "open" and str(args[0]).startswith(str(tmp_path)):
            opened.append(result)  # the descriptor Ctrl-C made it drop
        elif call == "open":
            return result  # not the save's file
        raise KeyboardInterrupt

    def counted_close(fd):
        closed.append(fd)
        (late if call == "close" else real_close)(fd)

    monkeypatch.setattr(os, call, late)
    monkeypatch.setattr(os, "close", counted_close)
    with pytest.raises(KeyboardInterrupt):
        save_network(new, path)
    monkeypatch.undo()
    for fd in opened:
        os.close(fd)
    assert len(closed) == len(set(closed))
    assert os.listdir(tmp_path) == ["m.creg"]
    assert_same_network(new if call == "replace" else old, load_network(path))


def test_a_real_ctrl_c_as_save_opens_its_file_loses_no_descriptor(
        tmp_path, monkeypatch, python_s_sigint_handler):
    """SIGINT as os.open returned was raised before its descriptor was
    stored: the temporary file was deleted, its space held until exit."""
    path = tmp_path / "m.creg"
    real_open, real_close = os.open, os.close
    got, closed = [], []

    def open_then_sigint(name, *args, **kwargs):
        fd = real_open(name, *args, **kwargs)
        if str(name) != str(tmp_path):  # the temporary file, not the folder
            got.append(fd)
            os.kill(os.getpid(), signal.SIGINT)
        return fd

    def counted_close(fd):
        closed.append(fd)
        real_close(fd)
    monkeypatch.setattr(os, "open", open_then_sigint)
    monkeypatch.setattr(os, "close", counted_close)
    with pytest.raises(KeyboardInterrupt):
        save_network(make_net(seed=1), path)
    monkeypatch.undo()
    assert got and set(got) <= set(closed)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_save_refuses_non_finite_params(tmp_path, bad):
    path = tmp_path / "m.creg"
    save_network(make_net(seed=1), path)
    before = path.read_bytes()
    net = make_net(seed=2)
    net.params[3] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        save_network(net, path)
    with pytest.raises(ValueError, match="NaN or infinite"):
        save_network(net, tmp_path / "new.creg")
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.creg"]


def test_save_refuses_settings_load_would_reject(tmp_path):
    net = make_net()
    net.hidden = "softplus"
    with pytest.raises(ValueError, match="hidden"):
        save_network(net, tmp_path / "m.creg")
    assert os.listdir(tmp_path) == []


def test_save_refuses_a_softmax_of_one_unit_set_since(tmp_path):
    """save wrote it over a good file, and load refused what it wrote."""
    net = creg.Network([3, 4, 1], output="sigmoid", seed=0)
    path = tmp_path / "m.creg"
    save_network(net, path)
    before = path.read_bytes()
    net.output, net.cost_name = "softmax", "log_likelihood"
    with pytest.raises(ValueError, match="softmax output needs at least 2"):
        save_network(net, path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("seed, error", [(1.5, TypeError), (True, TypeError),
                                         ("3", TypeError), (-1, ValueError)])
def test_save_refuses_a_seed_fit_would_refuse(tmp_path, seed, error):
    """The seed is an attribute: one set since is refused, not rounded."""
    net = make_net()
    net.seed = seed
    with pytest.raises(error, match=r"seed must be .*got " + re.escape(
            repr(seed))):
        save_network(net, tmp_path / "m.creg")
    assert os.listdir(tmp_path) == []


def test_save_into_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        save_network(make_net(), tmp_path / "nope" / "m.creg")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("suffix", [os.sep, os.sep + os.curdir])
def test_save_refuses_a_path_naming_a_directory(tmp_path, suffix):
    # realpath drops the separator: "m.creg/" must not write "m.creg"
    path = str(tmp_path / "m.creg") + suffix
    with pytest.raises(IsADirectoryError, match=re.escape(repr(path))):
        save_network(make_net(), path)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("length", [237, 238, 255])
def test_save_takes_every_name_length_open_takes(tmp_path, length):
    # the temporary name is 18 bytes longer than the target's; "é" is
    # two bytes, so the cut falls inside a character too
    name = "é" * (length // 2) + "m" * (length % 2)
    assert len(os.fsencode(name)) == length
    net = make_net()
    path = save_network(net, tmp_path / name)
    assert_same_network(net, load_network(path))
    assert os.listdir(tmp_path) == [name]


_SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    import creg
    from creg._persist import save_network
    nets = [creg.Network([20, 300, 10], seed=s, **creg.NIELSEN)
            for s in (1, 2)]
    print("ready", flush=True)
    i = 0
    while True:
        save_network(nets[i % 2], sys.argv[1])
        i += 1
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX only")
def test_kill_during_save_leaves_a_loadable_file(tmp_path):
    path = tmp_path / "m.creg"
    originals = [creg.Network([20, 300, 10], seed=s,
                              **creg.NIELSEN).params for s in (1, 2)]
    rng = np.random.default_rng(0)
    for trial in range(8):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)],
                                stdout=subprocess.PIPE)
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(0.02 + 0.1 * rng.random())
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        if not path.exists():  # killed before the first rename
            continue
        params = load_network(path).params
        assert any(np.array_equal(params, p) for p in originals), trial
    # SIGKILL cannot be cleaned up after; what it leaves is only hidden,
    # recognisable temporaries, never a damaged target.
    for name in os.listdir(tmp_path):
        assert name == "m.creg" or re.fullmatch(r"\.m\.creg\.[0-9a-f]{12}\.tmp", name)


# ------------------------------------------------------------ bad files


def test_model_file_error_is_value_error():
    assert issubclass(ModelFileError, ValueError)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_network(tmp_path / "absent.creg")


def test_directory_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match="not a regular file"):
        load_network(tmp_path)


def test_empty_file(tmp_path):
    expect_bad(tmp_path, b"", "empty")


@pytest.mark.parametrize("cut", [1, 4, 7])
def test_truncated_inside_magic(tmp_path, saved, cut):
    expect_bad(tmp_path, saved[2][:cut], "truncated inside the magic")


@pytest.mark.parametrize("cut", [8, 9, 11])
def test_truncated_inside_header_length(tmp_path, saved, cut):
    expect_bad(tmp_path, saved[2][:cut], "truncated inside the header length")


@pytest.mark.parametrize("where", ["start", "middle", "last"])
def test_truncated_inside_header(tmp_path, saved, where):
    hlen = split(saved[2])[1]
    cut = {"start": 12, "middle": 12 + hlen // 2, "last": 12 + hlen - 1}[where]
    expect_bad(tmp_path, saved[2][:cut], "truncated inside the header")


@pytest.mark.parametrize("where", ["no_payload", "one_byte", "middle", "last"])
def test_truncated_payload(tmp_path, saved, where):
    data = saved[2]
    start = 12 + split(data)[1]
    cut = {"no_payload": start, "one_byte": start + 1,
           "middle": (start + len(data)) // 2, "last": len(data) - 1}[where]
    expect_bad(tmp_path, data[:cut], "truncated payload")


def test_truncated_at_every_64th(tmp_path, saved):
    data = saved[2]
    for k in range(64):
        expect_bad(tmp_path, data[: len(data) * k // 64], ".")


@pytest.mark.parametrize("extra", [b"\x00", b"garbage", b"\x00" * 8])
def test_trailing_bytes(tmp_path, saved, extra):
    expect_bad(tmp_path, saved[2] + extra, "trailing data")


@pytest.mark.parametrize("position", [0, 1, 0.5, -1])
def test_flipped_payload_byte(tmp_path, saved, position):
    data = bytearray(saved[2])
    start = 12 + split(bytes(data))[1]
    size = len(data) - start
    index = start + (int(position * size) if isinstance(position, float)
                     else position % size)
    data[index] ^= 0x10
    expect_bad(tmp_path, bytes(data), "SHA-256")


def test_every_header_byte_flip_is_caught(tmp_path, saved):
    """The SHA-256 covers the header, so even a flip that leaves a valid
    header (a digit of the seed, "sigmoid" <-> "tanh") is refused."""
    _, _, data = saved
    hlen = split(data)[1]
    path = tmp_path / "flip.creg"
    for index in range(12 + hlen):
        for mask in (0x01, 0x20, 0x80):
            mutated = bytearray(data)
            mutated[index] ^= mask
            path.write_bytes(bytes(mutated))
            with pytest.raises(ModelFileError) as info:
                load_network(path)
            assert str(path) in str(info.value)


def _rewrite(data, **changes):
    header, _, payload = split(data)
    for key, value in changes.items():
        if value is _DROP:
            del header[key]
        else:
            header[key] = value
    return build(header, payload)


class _Dropped:
    """A field left out of the header (a repr the same in every process,
    so the test ids are)."""

    def __repr__(self):
        return "<dropped>"


_DROP = _Dropped()

HEADER_CASES = [
    # changes, expected message fragment
    ({"dtype": "float16"}, "'dtype' is 'float16'"),
    ({"dtype": "<f8"}, "'dtype'"),
    ({"dtype": "float32"}, "payload_bytes"),
    ({"byte_order": "big"}, "byte_order"),
    ({"sizes": [5, -8, 3]}, r"'sizes'\[1\] must be a positive int"),
    ({"sizes": [5, 0, 3]}, r"'sizes'\[1\]"),
    ({"sizes": [5, 8.0, 3]}, r"'sizes'\[1\]"),
    ({"sizes": [5, True, 3]}, r"'sizes'\[1\]"),
    ({"sizes": [5]}, "'sizes'"),
    ({"sizes": []}, "'sizes'"),
    ({"sizes": "5,8,3"}, "'sizes'"),
    ({"sizes": [1] * 100}, "'sizes'"),
    ({"sizes": [8, 5, 3]}, "n_params"),
    ({"n_params": 62}, "'n_params' is 62"),
    ({"n_params": "63"}, "n_params"),
    ({"payload_bytes": 10**12}, "payload_bytes"),
    ({"format_version": 3}, "unsupported format_version 3"),
    ({"format_version": 0}, "unsupported format_version 0"),
    ({"format_version": 1}, "format_version 1 .* does not cover the header"),
    ({"format_version": "1"}, "format_version"),
    ({"format_version": 1.0}, "format_version"),
    ({"format_version": True}, "format_version"),
    ({"format_version": _DROP}, "format_version"),
    ({"hidden": "softplus"}, "'hidden' is 'softplus'"),
    ({"hidden": None}, "'hidden'"),
    ({"output": "softmax2"}, "'output'"),
    ({"cost": "__import__('os').system"}, "'cost'"),
    ({"cost": "cross_entropy"}, "cannot be used with output"),
    ({"init": "zeros"}, "'init'"),
    ({"seed": -1}, "'seed'"),
    ({"seed": 2**63}, "'seed'"),
    ({"seed": "0"}, "'seed'"),
    ({"seed": None}, "'seed'"),
    ({"epochs_trained": -1}, "epochs_trained"),
    ({"epochs_trained": 1.5}, "epochs_trained"),
    ({"epochs_trained": 2**63}, r"'epochs_trained' is 9223372036854775808, "
                                r"outside \[0, 2\*\*63\)"),
    ({"epochs_trained": 2**64}, "epochs_trained"),
    ({"creg_version": 1}, "creg_version"),
    ({"sha256": "0" * 64}, r"unknown field\(s\) \['sha256'\]"),
    ({"extra_field": 1}, r"unknown field\(s\) \['extra_field'\]"),
    ({"init": _DROP}, r"missing field\(s\) \['init'\]"),
]


@pytest.mark.parametrize("changes, match", HEADER_CASES,
                         ids=[str(c) for c, _ in HEADER_CASES])
def test_altered_header(tmp_path, saved, changes, match):
    expect_bad(tmp_path, _rewrite(saved[2], **changes), match)


def test_newer_version_message_names_both_versions(tmp_path, saved):
    data = _rewrite(saved[2], format_version=7, creg_version="9.9")
    err = expect_bad(tmp_path, data, "format_version 7")
    assert "creg 9.9" in str(err) and creg.__version__ in str(err)


def test_header_length_field(tmp_path, saved):
    data = saved[2]
    expect_bad(tmp_path, data[:8] + struct.pack("<I", 0) + data[12:], "header length 0")
    expect_bad(tmp_path, data[:8] + struct.pack("<I", 0xFFFFFFFF) + data[12:],
               "header length")
    expect_bad(tmp_path, data[:8] + struct.pack("<I", len(data)) + data[12:],
               "truncated inside the header")


@pytest.mark.parametrize("text, match", [
    (b"\xff\xfe{}", "UTF-8 JSON"),
    (b"{not json}", "UTF-8 JSON"),
    (b"[1, 2, 3]", "JSON list"),
    (b'"a string"', "JSON str"),
    (b'{"a": NaN}', "UTF-8 JSON"),
    (b'{"format_version": 1, "format_version": 1}', "duplicate key"),
    (b"[" * 30000 + b"]" * 30000, "UTF-8 JSON"),
    (b'{"seed": ' + b"9" * 5000 + b"}", "."),
    (b'{"format_version": 1}' + b"\x00", "UTF-8 JSON"),
])
def test_malformed_header_json(tmp_path, text, match):
    data = MAGIC + struct.pack("<I", len(text)) + text
    expect_bad(tmp_path, data, match)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_payload_with_matching_digest(tmp_path, saved, bad):
    header, _, payload = split(saved[2])
    values = np.frombuffer(payload, "<f8").copy()
    values[4] = bad
    payload = values.tobytes()
    expect_bad(tmp_path, build(header, payload),
               r"NaN or infinite \(first at index 4\)")


def test_size_bomb_is_refused_without_allocating(tmp_path, saved):
    header, _, _ = split(saved[2])
    sizes = [100000, 100000, 10]
    n = 100000 * 100001 + 10 * 100001
    header.update(sizes=sizes, n_params=n, payload_bytes=8 * n)
    path = tmp_path / "bomb.creg"
    path.write_bytes(build(header, b"\x00" * 64))
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="truncated payload"):
            load_network(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


@pytest.mark.parametrize("obj", ["net", {"sizes": [1, 2]}, [1, 2, 3]])
def test_pickle_file_is_not_a_model(tmp_path, obj):
    value = make_net() if obj == "net" else obj
    expect_bad(tmp_path, pickle.dumps(value), r"not a creg model file \(bad magic\)")


def test_network2_style_json_file(tmp_path):
    data = json.dumps({"sizes": [2, 1], "weights": [[[0.0, 0.0]]],
                       "biases": [[0.0]], "cost": "CrossEntropyCost"}).encode()
    expect_bad(tmp_path, data, "bad magic")


def test_npz_file(tmp_path):
    np.savez(tmp_path / "w.npz", w=np.ones(3))
    with pytest.raises(ModelFileError, match="bad magic"):
        load_network(tmp_path / "w.npz")


@pytest.mark.parametrize("length", [1, 7, 8, 12, 100, 4096])
def test_random_bytes(tmp_path, length):
    rng = np.random.default_rng(length)
    for _ in range(20):
        expect_bad(tmp_path, rng.bytes(length), ".")


@pytest.mark.parametrize("length", [0, 1, 50, 1000])
def test_random_bytes_after_magic(tmp_path, length):
    rng = np.random.default_rng(length)
    for _ in range(50):
        expect_bad(tmp_path, MAGIC + rng.bytes(length), ".")
        hlen = struct.pack("<I", length)
        expect_bad(tmp_path, MAGIC + hlen + rng.bytes(length), ".")


def test_oversized_file_is_refused_before_reading(tmp_path, saved, monkeypatch):
    _, path, data = saved

    def no_open(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(_persist, "open", no_open, raising=False)
    with pytest.raises(ModelFileError, match="limit"):
        load_network(path, max_bytes=len(data) - 1)
    monkeypatch.undo()
    load_network(path, max_bytes=len(data))


def test_the_limit_the_message_names_is_creg_loads_max_bytes(saved):
    net, path, data = saved
    with pytest.raises(ModelFileError, match=f"over the max_bytes="
                       f"{len(data) - 1} limit"):
        creg.load(path, max_bytes=len(data) - 1)
    assert np.array_equal(creg.load(path, max_bytes=len(data)).params,
                          net.params)


@pytest.mark.parametrize("bad, error", [("1000", TypeError),
                                        (1e9, TypeError), (True, TypeError),
                                        (0, ValueError), (-1, ValueError)])
def test_max_bytes_is_checked(saved, bad, error):
    with pytest.raises(error, match="max_bytes"):
        creg.load(saved[1], max_bytes=bad)


def test_bad_file_never_builds_a_network(tmp_path, saved, monkeypatch):
    calls = []
    real = creg.network.Network._for_given_weights

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(creg.network.Network, "_for_given_weights", spy)
    data = bytearray(saved[2])
    data[-1] ^= 1
    expect_bad(tmp_path, bytes(data), "SHA-256")
    expect_bad(tmp_path, saved[2] + b"x", "trailing")
    assert calls == []
    load_network(saved[1])
    assert len(calls) == 1

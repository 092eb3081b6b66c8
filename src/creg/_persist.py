"""Data-only model files: ``save_network`` and ``load_network``.

File layout (all integers little-endian)::

    offset 0    8 bytes   magic b"CREG\\x00MDL"
    offset 8    4 bytes   uint32 H = length of the JSON header in bytes
    offset 12   H bytes   UTF-8 JSON object (space-padded so the payload
                          starts at a multiple of 8)
    offset 12+H P bytes   the flat parameter vector ``net.params`` as raw
                          little-endian float32 or float64, in the layout
                          W_0 (row-major), b_0, W_1, b_1, ...

The header is a JSON object with exactly these keys: ``format_version``
(int, 1), ``creg_version`` (str), ``sizes`` (list of ints >= 1, at least
two), ``hidden``, ``output``, ``cost``, ``init``, ``dtype`` (allow-listed
names), ``byte_order`` ("little"), ``seed`` (int), ``epochs_trained``
(int >= 0), ``n_params`` (int), ``payload_bytes`` (int) and ``sha256``
(hex digest of the payload).

What this module promises:

- The load path never unpickles, evaluates or ``getattr``-resolves
  anything from the file. Names are checked against fixed allow-lists.
- ``load_network`` checks the whole file (magic, header size cap, JSON,
  every field's type and range, parameter count against ``sizes``, payload
  length against the file's real length, SHA-256, finiteness) before it
  builds a network, and turns every problem with the file's contents into
  ``ModelFileError`` naming the file. The declared sizes are compared with
  the actual file size before anything proportional to them is allocated.
  Errors opening the file (missing, permission, a directory) are the usual
  ``OSError`` subclasses.
- ``save_network`` writes to a temporary file in the target directory,
  fsyncs it and ``os.replace``-s it over the target, so a failed or
  interrupted save leaves any previous file untouched and no temporary
  file behind. It refuses (``ValueError``) to write a network whose
  parameters contain NaN or infinity, since such a file could not be
  loaded; this check runs before the file system is touched. Only a
  process killed outright (SIGKILL, power loss) can leave a temporary
  behind; it is named ``.<target name>.<12 hex digits>.tmp`` and the
  target itself is always the old or the new complete file.

What it deliberately does not do: store optimizer state or training
history (momentum restarts at zero on every ``fit`` anyway), migrate other
format versions, or follow symlinks at the target path (``os.replace``
replaces the link itself).
"""

import hashlib
import json
import os
import secrets
import stat
import struct

import numpy as np

from creg._core import MAX_LAYERS as _MAX_LAYERS
from creg._errors import ModelFileError
from creg._validation import COST_OUTPUTS, COSTS, HIDDEN, INITS, OUTPUT

__all__ = ["save_network", "load_network", "FORMAT_VERSION", "MAGIC"]

MAGIC = b"CREG\x00MDL"
FORMAT_VERSION = 1
# Why: the header is tiny (a few hundred bytes for any real network); a cap
# keeps a hostile length field from making us read or parse megabytes.
MAX_HEADER_BYTES = 1 << 20
# Why: refuse absurd files from their size alone, before reading them.
DEFAULT_MAX_FILE_BYTES = 1 << 34  # 16 GiB

_PREFIX = struct.Struct("<8sI")  # magic, header length
_DTYPES = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}
_KEYS = frozenset(
    (
        "format_version", "creg_version", "sizes", "hidden", "output",
        "cost", "init", "dtype", "byte_order", "seed", "epochs_trained",
        "n_params", "payload_bytes", "sha256",
    )
)
_MAX_VERSION_CHARS = 200


# ---------------------------------------------------------------- helpers


def _creg_version():
    """Return this creg's version string, or "unknown"."""
    try:
        import creg

        version = getattr(creg, "__version__", None)
        if isinstance(version, str):
            return version
    except ImportError:
        pass
    try:
        from importlib.metadata import version as dist_version

        return dist_version("creg")
    except Exception:  # noqa: BLE001 - metadata may be absent in a source tree
        return "unknown"


def _n_params(sizes):
    """Number of parameters of a network: sum of n_out * (n_in + 1)."""
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def _is_int(value):
    # bool is an int subclass; a flag is never a valid size or count.
    return isinstance(value, int) and not isinstance(value, bool)


def _reject_duplicate_keys(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def _check_header(header):
    """Validate a decoded header dict; return an error message or None.

    Used by both load (on the file's header) and save (on the header about
    to be written), so save can never write a file that load refuses.
    """
    if not isinstance(header, dict):
        return f"header is a JSON {type(header).__name__}, expected an object"
    version = header.get("format_version")
    if not _is_int(version):
        return f"header field 'format_version' must be an int, got {version!r}"
    if version != FORMAT_VERSION:
        written_by = header.get("creg_version")
        if not isinstance(written_by, str):
            written_by = "an unknown creg"
        else:
            written_by = "creg " + written_by[:_MAX_VERSION_CHARS]
        return (
            f"unsupported format_version {version} (written by {written_by}); "
            f"this is creg {_creg_version()}, which reads format_version "
            f"{FORMAT_VERSION}"
        )
    missing = sorted(_KEYS - header.keys())
    if missing:
        return f"header is missing field(s) {missing}"
    extra = sorted(header.keys() - _KEYS)
    if extra:
        return f"header has unknown field(s) {extra}"

    creg_version = header["creg_version"]
    if not isinstance(creg_version, str) or len(creg_version) > _MAX_VERSION_CHARS:
        return "header field 'creg_version' must be a short string"
    for key, allowed in (
        ("hidden", HIDDEN),
        ("output", OUTPUT),
        ("cost", COSTS),
        ("init", INITS),
        ("dtype", tuple(_DTYPES)),
        ("byte_order", ("little",)),
    ):
        value = header[key]
        if not isinstance(value, str) or value not in allowed:
            return (
                f"header field {key!r} is {value!r}; expected one of "
                f"{', '.join(allowed)}"
            )
    if header["output"] not in COST_OUTPUTS[header["cost"]]:
        return (
            f"cost {header['cost']!r} cannot be used with output "
            f"{header['output']!r}"
        )

    sizes = header["sizes"]
    if not isinstance(sizes, list) or not 2 <= len(sizes) <= _MAX_LAYERS + 1:
        return (
            f"header field 'sizes' must be a list of 2 to {_MAX_LAYERS + 1} "
            f"layer sizes, got {sizes!r}"[:300]
        )
    for i, n in enumerate(sizes):
        if not _is_int(n) or n < 1:
            return f"header field 'sizes'[{i}] must be a positive int, got {n!r}"
    for key in ("seed", "epochs_trained", "n_params", "payload_bytes"):
        if not _is_int(header[key]):
            return f"header field {key!r} must be an int, got {header[key]!r}"
    if not 0 <= header["seed"] < 2**63:
        return f"header field 'seed' is {header['seed']}, outside [0, 2**63)"
    if header["epochs_trained"] < 0:
        return f"header field 'epochs_trained' is negative ({header['epochs_trained']})"

    expected = _n_params(sizes)
    if header["n_params"] != expected:
        return (
            f"header field 'n_params' is {header['n_params']} but sizes "
            f"{sizes} need {expected} parameters"
        )
    itemsize = _DTYPES[header["dtype"]].itemsize
    if header["payload_bytes"] != expected * itemsize:
        return (
            f"header field 'payload_bytes' is {header['payload_bytes']} but "
            f"{expected} {header['dtype']} parameters take {expected * itemsize}"
        )
    digest = header["sha256"]
    if (
        not isinstance(digest, str)
        or len(digest) != 64
        or any(c not in "0123456789abcdef" for c in digest)
    ):
        return "header field 'sha256' must be 64 lowercase hex digits"
    return None


# ------------------------------------------------------------------- save


def _encode(net):
    """Build (header bytes, payload bytes) for ``net``; touch no files."""
    dtype = np.dtype(net.dtype)
    if dtype.name not in _DTYPES:
        raise ValueError(f"cannot save a network with dtype {dtype}")
    params = np.asarray(net.params)
    if params.ndim != 1:
        raise ValueError(f"net.params must be 1-D, got shape {params.shape}")
    # A private little-endian copy: the digest, the finiteness check and the
    # bytes written all see the same values even if net.params changes.
    payload = params.astype(_DTYPES[dtype.name], order="C", copy=True).tobytes()
    values = np.frombuffer(payload, dtype=_DTYPES[dtype.name])
    if not np.isfinite(values).all():
        bad = int(values.size - np.count_nonzero(np.isfinite(values)))
        raise ValueError(
            f"refusing to save: {bad} of the network's {values.size} "
            f"parameters are NaN or infinite (such a file could not be loaded)"
        )
    header = {
        "format_version": FORMAT_VERSION,
        "creg_version": _creg_version(),
        "sizes": [int(n) for n in net.sizes],
        "hidden": net.hidden,
        "output": net.output,
        "cost": net.cost_name,
        "init": net.init,
        "dtype": dtype.name,
        "byte_order": "little",
        "seed": int(net.seed),
        "epochs_trained": int(net.epochs_trained),
        "n_params": int(values.size),
        "payload_bytes": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    problem = _check_header(header)
    if problem is not None:
        raise ValueError(f"cannot save this network: {problem}")
    text = json.dumps(header, sort_keys=True, allow_nan=False).encode("ascii")
    # Why pad: an 8-byte-aligned payload can be memory-mapped as float64.
    text += b" " * (-(_PREFIX.size + len(text)) % 8)
    if len(text) > MAX_HEADER_BYTES:
        raise ValueError(f"cannot save this network: header of {len(text)} bytes")
    return _PREFIX.pack(MAGIC, len(text)) + text, payload


def _fsync_directory(directory):
    """Best effort: make the rename durable (POSIX only)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _open_temporary(directory, name):
    """Create and open a new file next to the target; return (fd, path)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            # Mode 0o666 lets the umask decide, as for any new file.
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {directory!r}")


def save_network(net, path):
    """Write ``net`` to ``path`` atomically in creg's data-only format.

    Parameters
    ----------
    net : creg.Network
        The network to save.
    path : str or os.PathLike
        Destination file. An existing file is replaced only once the new one
        is completely written and flushed to disk.

    Returns
    -------
    str
        The path written.

    Raises
    ------
    ValueError
        If the parameters contain NaN or infinity, or the network's settings
        could not be loaded back. Nothing on disk is touched.
    OSError
        If writing fails; any previous file at ``path`` is left intact and
        the temporary file is removed.
    """
    head, payload = _encode(net)
    return write_atomically(path, head, payload)


def write_atomically(path, *chunks):
    """Write the byte strings to ``path`` through a temporary file in the
    same directory (write, flush, fsync, rename, fsync the directory), so
    the target is either the old file or the complete new one; on failure
    the temporary file is removed.  Returns the path as str."""
    target = os.fsdecode(os.fspath(path))
    directory, name = os.path.split(os.path.abspath(target))
    fd, tmp = _open_temporary(directory, name)
    try:
        try:
            f = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        with f:  # f now owns fd and closes it on every path
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)
    return target


# ------------------------------------------------------------------- load


def _read_file(path, max_bytes):
    """Return the whole file's bytes, refusing oversized files unread."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise ModelFileError(f"{path!r} is not a regular file")
    if st.st_size > max_bytes:
        raise ModelFileError(
            f"{path!r} is {st.st_size} bytes, over the {max_bytes}-byte limit "
            f"for model files (pass max_bytes= to raise it)"
        )
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise ModelFileError(f"{path!r} grew past the size limit")
        data = f.read(size + 1)
    if len(data) != size:
        raise ModelFileError(f"{path!r} changed size while being read")
    return data


def _parse(data, where):
    """Check ``data`` (a whole file); return (header dict, payload bytes)."""

    def fail(what):
        raise ModelFileError(f"cannot load model file {where}: {what}")

    if not data:
        fail("the file is empty (0 bytes)")
    if len(data) < len(MAGIC):
        if MAGIC.startswith(data):
            fail(f"truncated inside the magic number ({len(data)} bytes)")
        fail("not a creg model file (bad magic)")
    if data[: len(MAGIC)] != MAGIC:
        fail("not a creg model file (bad magic)")
    if len(data) < _PREFIX.size:
        fail(f"truncated inside the header length ({len(data)} bytes)")
    _, header_len = _PREFIX.unpack_from(data)
    if header_len == 0 or header_len > MAX_HEADER_BYTES:
        fail(
            f"header length {header_len} is outside 1..{MAX_HEADER_BYTES} bytes"
        )
    header_end = _PREFIX.size + header_len
    if header_end > len(data):
        fail(
            f"truncated inside the header: it declares {header_len} bytes but "
            f"only {len(data) - _PREFIX.size} follow"
        )
    try:
        text = data[_PREFIX.size:header_end].decode("utf-8")
        header = json.loads(
            text,
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError) as exc:
        # UnicodeDecodeError and JSONDecodeError are ValueErrors too.
        fail(f"the header is not valid UTF-8 JSON ({exc})"[:500])
    problem = _check_header(header)
    if problem is not None:
        fail(problem)

    payload = data[header_end:]
    declared = header["payload_bytes"]
    if len(payload) < declared:
        fail(
            f"truncated payload: the header declares {declared} bytes of "
            f"parameters but only {len(payload)} follow"
        )
    if len(payload) > declared:
        fail(
            f"{len(payload) - declared} bytes of trailing data after the "
            f"{declared}-byte payload"
        )
    if hashlib.sha256(payload).hexdigest() != header["sha256"]:
        fail("the parameters do not match the header's SHA-256 (file corrupted)")
    values = np.frombuffer(payload, dtype=_DTYPES[header["dtype"]])
    finite = np.isfinite(values)
    if not finite.all():
        first = int(np.argmin(finite))
        fail(
            f"{values.size - int(np.count_nonzero(finite))} parameters are NaN "
            f"or infinite (first at index {first})"
        )
    return header, values


def load_network(path, *, max_bytes=DEFAULT_MAX_FILE_BYTES):
    """Load a network written by :func:`save_network`.

    The whole file is checked before anything is built; the load path never
    unpickles or evaluates file contents.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.
    max_bytes : int, default 16 GiB
        Files larger than this are refused before being read.

    Returns
    -------
    creg.Network
        A network with the saved architecture, settings, ``epochs_trained``
        and bitwise-identical parameters.

    Raises
    ------
    creg.ModelFileError
        If the file is not a creg model, is truncated, altered, corrupted,
        from an unsupported format version, or holds non-finite parameters.
        The message names the file and the problem.
    FileNotFoundError, PermissionError, IsADirectoryError
        If the file cannot be opened.
    """
    from creg.network import Network

    fspath = os.fsdecode(os.fspath(path))
    where = repr(fspath)
    header, values = _parse(_read_file(fspath, max_bytes), where)
    try:
        net = Network(
            list(header["sizes"]),
            hidden=header["hidden"],
            output=header["output"],
            cost=header["cost"],
            init=header["init"],
            dtype=header["dtype"],
            seed=header["seed"],
        )
    except (ValueError, TypeError, OverflowError) as exc:
        raise ModelFileError(
            f"cannot load model file {where}: its settings are rejected by "
            f"this creg ({exc})"
        ) from exc
    if net.params.shape != values.shape:
        raise ModelFileError(
            f"cannot load model file {where}: this creg builds "
            f"{net.params.size} parameters for sizes {header['sizes']}, the "
            f"file holds {values.size}"
        )
    net.params[...] = values
    net.epochs_trained = header["epochs_trained"]
    return net


"""Data-only model files: ``save_network`` and ``load_network``.

File layout, format_version 2 (all integers little-endian)::

    offset 0      8 bytes   magic b"CREG\\x00MDL"
    offset 8      4 bytes   uint32 H = length of the JSON header in bytes
    offset 12     H bytes   UTF-8 JSON object (space-padded so the payload
                            starts at a multiple of 8)
    offset 12+H   P bytes   the flat parameter vector ``net.params`` as raw
                            little-endian float32 or float64, in the layout
                            W_0 (row-major), b_0, W_1, b_1, ...
    offset 12+H+P 32 bytes  SHA-256 of every byte before it: magic, H,
                            header and payload

The header is a JSON object with exactly these keys: ``format_version``
(int, 2), ``creg_version`` (str), ``sizes`` (list of ints >= 1, at least
two), ``hidden``, ``output``, ``cost``, ``init``, ``dtype`` (allow-listed
names), ``byte_order`` ("little"), ``seed`` (int in [0, 2**63)),
``epochs_trained`` (int in [0, 2**63)), ``n_params`` (int) and
``payload_bytes`` (int).  A compressed network (``Network.compress``) adds
``input_width`` (int: the columns of the X it was compressed from) and
``input_mask`` (the columns it reads, as a bit set: bit i of byte i // 8,
least significant first, is set for column i; written as lowercase hex,
two digits per byte, exactly ceil(input_width / 8) bytes, padding bits
zero, sizes[0] bits set).  A bit set is bounded by the width, where a list
of column numbers could outgrow the header's cap.

What this module promises:

- The load path never unpickles, evaluates or ``getattr``-resolves
  anything from the file. Names are checked against fixed allow-lists.
- ``load_network`` checks the whole file before it builds a network, and
  turns every problem with the file's contents into ``ModelFileError``
  naming the file (and quoting at most a few dozen characters of it).
  The digest covers the header too, so a file with any byte changed,
  added or removed is refused, never loaded as a different network.
- Nothing unbounded is read before it is checked: the magic first, then
  the header (at most ``MAX_HEADER_BYTES`` of JSON, plus a compressed
  network's input mask), then the sizes it declares
  against the file's real size, and only then the payload, in chunks of
  ``_CHUNK`` bytes hashed as they arrive. Memory is the payload plus a
  chunk, whatever the file holds. Errors opening the file (missing,
  permission) are the usual ``OSError`` subclasses.
- ``save_network`` writes to a temporary file in the target directory,
  fsyncs it and ``os.replace``-s it over the target, so a failed or
  interrupted save leaves any previous file untouched and no temporary
  file behind. A symlink at the path is followed (the link stays, its
  file is replaced), the replaced file's permission bits are kept, and a
  path naming anything but a regular file (a FIFO, a device, a socket) is
  refused with ``ValueError`` before anything is written: replacing
  ``/dev/null`` with a model file would break every program that uses
  it. It refuses (``ValueError``) to write a network whose
  parameters contain NaN or infinity, since such a file could not be
  loaded; this check runs before the file system is touched. Only a
  process killed outright (SIGKILL, power loss) can leave a temporary
  behind; it is named ``.<target name>.<12 hex digits>.tmp`` (the
  target name cut short where the whole would pass 255 bytes) and the
  target itself is always the old or the new complete file. A path that
  ends in a separator, ``.`` or ``..`` names a directory and is refused
  with ``IsADirectoryError``, as ``open(path, "wb")`` refuses it.

format_version 1 (creg 0.1.0 development builds, never released) put the
SHA-256 of the payload alone in the header, so an edited header (a
"sigmoid" changed to "tanh", a digit of the seed) loaded as a different
network. Such files are refused with a message that says so, rather than
loaded with a header nothing vouches for: reading them would keep open
exactly the hole version 2 closes, and no released creg wrote them.

The digest guards against corruption and accidental edits, not against
someone who rewrites the file and its digest on purpose: a model file is
data to be trusted as much as its source.

What it deliberately does not do: store optimizer state or training
history (momentum restarts at zero on every ``fit`` anyway), migrate other
format versions, or keep the replaced file's owner (only root could).
"""

import errno
import hashlib
import json
import os
import reprlib
import secrets
import stat
import struct

import numpy as np

from creg import _interrupt
from creg._core import MAX_LAYERS as _MAX_LAYERS
from creg._errors import ModelFileError
from creg._validation import (COST_OUTPUTS, COSTS, HIDDEN, INITS, OUTPUT,
                              output_width, positive_int,
                              seed as checked_seed)

__all__ = ["save_network", "load_network", "FORMAT_VERSION", "MAGIC"]

MAGIC = b"CREG\x00MDL"
FORMAT_VERSION = 2
# Why: a real header is under 2 KiB (65 sizes and a dozen short fields);
# the cap bounds what a hostile length field makes us read and parse.
MAX_HEADER_BYTES = 1 << 16
# A compressed network's input mask adds 2 hex digits per 8 columns of
# the X it came from (a 2**24-column hashed bag of words: 4 MiB).  Past
# MAX_HEADER_BYTES a header may hold no more JSON punctuation than one
# that size: the rest must be the mask's text, which parses to one string.
MAX_MASK_COLUMNS = 1 << 28
_MAX_HEADER_WITH_MASK = MAX_HEADER_BYTES + MAX_MASK_COLUMNS // 4
# Why: refuse absurd files from their size alone, before reading them.
DEFAULT_MAX_FILE_BYTES = 1 << 34  # 16 GiB
# The library counts epochs in a signed 64-bit integer.
MAX_EPOCHS_TRAINED = 2**63 - 1
# Payload bytes read (and hashed) per step.
_CHUNK = 1 << 20
# The longest file name common file systems take, in bytes, and what a
# temporary file's name adds to the target's: "." + "." + 12 hex + ".tmp".
_NAME_MAX = 255
_TMP_EXTRA_BYTES = 18

_PREFIX = struct.Struct("<8sI")  # magic, header length
_DIGEST_BYTES = hashlib.sha256().digest_size
_DTYPES = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}
_KEYS = frozenset(
    (
        "format_version", "creg_version", "sizes", "hidden", "output",
        "cost", "init", "dtype", "byte_order", "seed", "epochs_trained",
        "n_params", "payload_bytes",
    )
)
# Present together, only for a compressed network.
_INPUT_KEYS = frozenset(("input_width", "input_mask"))
_MAX_VERSION_CHARS = 200

# Why: a hostile file can hold a 60 KB string or a 4000-digit number where
# a name or a size belongs; an error message quotes only its start.
_QUOTE = reprlib.Repr()
_QUOTE.maxstring = _QUOTE.maxother = _QUOTE.maxlong = 60
_QUOTE.maxlist = _QUOTE.maxdict = 6
_QUOTE.maxlevel = 2
_QUOTE_CHARS = 80


# ---------------------------------------------------------------- helpers


def _quote(value):
    """repr(value) cut to at most _QUOTE_CHARS characters, for quoting
    file content in an error message."""
    text = _QUOTE.repr(value)
    if len(text) > _QUOTE_CHARS:
        text = text[: _QUOTE_CHARS - 3] + "..."
    return text


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
            raise ValueError(f"duplicate key {_quote(key)}")
        out[key] = value
    return out


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def _check_version(header):
    """The format_version check; an error message or None."""
    version = header.get("format_version")
    if not _is_int(version):
        return (
            "header field 'format_version' must be an int, got "
            f"{_quote(version)}"
        )
    if version == FORMAT_VERSION:
        return None
    written_by = header.get("creg_version")
    if isinstance(written_by, str):
        written_by = "creg " + _quote(written_by)[1:-1]
    else:
        written_by = "an unknown creg"
    if version == 1:
        return (
            f"format_version 1 (written by {written_by}) is not read by "
            f"this creg {_creg_version()}: its checksum does not cover the "
            "header, so an altered header would load as a different "
            "network; version 1 was only written by unreleased builds"
        )
    return (
        f"unsupported format_version {_quote(version)} (written by "
        f"{written_by}); this is creg {_creg_version()}, which reads "
        f"format_version {FORMAT_VERSION}"
    )


def _check_header(header):
    """Validate a decoded header dict; return an error message or None.

    Used by both load (on the file's header) and save (on the header about
    to be written), so save can never write a file that load refuses.
    """
    if not isinstance(header, dict):
        return f"header is a JSON {type(header).__name__}, expected an object"
    problem = _check_version(header)
    if problem is not None:
        return problem
    missing = sorted(_KEYS - header.keys())
    if missing:
        return f"header is missing field(s) {missing}"
    extra = sorted(header.keys() - _KEYS - _INPUT_KEYS)
    if extra:
        return f"header has unknown field(s) {_quote(extra)}"
    if 0 < len(header.keys() & _INPUT_KEYS) < len(_INPUT_KEYS):
        return "header fields 'input_width' and 'input_mask' come together"

    creg_version = header["creg_version"]
    if not isinstance(creg_version, str) or len(creg_version) > _MAX_VERSION_CHARS:
        return (
            "header field 'creg_version' must be a string of at most "
            f"{_MAX_VERSION_CHARS} characters, got {_quote(creg_version)}"
        )
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
                f"header field {key!r} is {_quote(value)}; expected one of "
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
            f"layer sizes, got {_quote(sizes)}"
        )
    for i, n in enumerate(sizes):
        # Why the upper bound: the parameter count is printed below, and
        # Python refuses to print an int of over 4300 digits.
        if not _is_int(n) or not 1 <= n < 2**63:
            return (
                f"header field 'sizes'[{i}] must be a positive int below "
                f"2**63, got {_quote(n)}"
            )
    try:  # one unit of softmax: fit and predict refuse it too
        output_width(header["output"], sizes[-1])
    except ValueError as exc:
        return str(exc)
    for key in ("seed", "epochs_trained", "n_params", "payload_bytes"):
        if not _is_int(header[key]):
            return f"header field {key!r} must be an int, got {_quote(header[key])}"
    if not 0 <= header["seed"] < 2**63:
        return f"header field 'seed' is {_quote(header['seed'])}, outside [0, 2**63)"
    if not 0 <= header["epochs_trained"] <= MAX_EPOCHS_TRAINED:
        return (
            f"header field 'epochs_trained' is "
            f"{_quote(header['epochs_trained'])}, outside [0, 2**63)"
        )

    if "input_mask" in header:
        problem = _check_input_mask(header)
        if problem is not None:
            return problem
    expected = _n_params(sizes)
    if header["n_params"] != expected:
        return (
            f"header field 'n_params' is {_quote(header['n_params'])} but "
            f"sizes {_quote(sizes)} need {expected} parameters"
        )
    itemsize = _DTYPES[header["dtype"]].itemsize
    if header["payload_bytes"] != expected * itemsize:
        return (
            f"header field 'payload_bytes' is {_quote(header['payload_bytes'])}"
            f" but {expected} {header['dtype']} parameters take "
            f"{expected * itemsize}"
        )
    return None


def _check_input_mask(header):
    """The input_width/input_mask check; an error message or None."""
    width, mask = header["input_width"], header["input_mask"]
    if not _is_int(width) or not header["sizes"][0] <= width < 2**63:
        return (
            "header field 'input_width' must be an int from sizes[0] to "
            f"2**63, got {_quote(width)}"
        )
    if (not isinstance(mask, str) or len(mask) != 2 * (-(-width // 8))
            or mask.strip("0123456789abcdef")):
        return (
            "header field 'input_mask' must be ceil(input_width / 8) bytes "
            f"in lowercase hex, got {_quote(mask)}"
        )
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(mask), np.uint8),
                         bitorder="little")
    if bits[width:].any() or np.count_nonzero(bits) != header["sizes"][0]:
        return (
            "header field 'input_mask' must set sizes[0] bits below "
            "input_width"
        )
    return None


def _header_size_problem(text):
    """Why the header bytes text are too long to parse, or None."""
    if len(text) > _MAX_HEADER_WITH_MASK:
        return (f"header of {len(text)} bytes, over the "
                f"{_MAX_HEADER_WITH_MASK} allowed")
    if len(text) <= MAX_HEADER_BYTES:
        return None
    # Each JSON value or container needs one of these bytes.
    punctuation = sum(text.count(c) for c in b'[]{},:"')
    if punctuation > MAX_HEADER_BYTES:
        return (f"a header of {len(text)} bytes must be mostly a compressed "
                f"network's input mask, but it holds {punctuation} "
                "brackets, braces, commas, colons and quotes")
    return None


def input_mask(columns, width):
    """The hex bit set of the header's 'input_mask'."""
    bits = np.zeros(width, np.uint8)
    bits[columns] = 1
    return np.packbits(bits, bitorder="little").tobytes().hex()


def input_columns(header):
    """The column numbers of a checked header's 'input_mask'."""
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(header["input_mask"]),
                                       np.uint8), bitorder="little")
    return np.flatnonzero(bits[:header["input_width"]])


# ------------------------------------------------------------------- save


def _encode(net):
    """Build (magic + length + header bytes, payload bytes) for ``net``;
    touch no files."""
    dtype = np.dtype(net.dtype)
    if dtype.name not in _DTYPES:
        raise ValueError(f"cannot save a network with dtype {dtype}")
    params = np.asarray(net.params)
    if params.ndim != 1:
        raise ValueError(f"net.params must be 1-D, got shape {params.shape}")
    # A private little-endian copy: the digest, the finiteness check and the
    # bytes written all see the same values even if net.params changes
    # (one copy: its bytes are written from it, not from a bytes object)
    values = params.astype(_DTYPES[dtype.name], order="C", copy=True)
    payload = memoryview(values.view(np.uint8))
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
        "seed": checked_seed(net.seed),  # an attribute, as fit checks it
        "epochs_trained": int(net.epochs_trained),
        "n_params": int(values.size),
        "payload_bytes": len(payload),
    }
    if net.input_columns is not None:
        if net.input_width > MAX_MASK_COLUMNS:
            raise ValueError(
                f"cannot save this network: it was compressed from an X of "
                f"{net.input_width} columns, and a model file takes at most "
                f"{MAX_MASK_COLUMNS}; save it before compressing")
        header["input_width"] = int(net.input_width)
        header["input_mask"] = input_mask(net.input_columns, net.input_width)
    problem = _check_header(header)
    if problem is not None:
        raise ValueError(f"cannot save this network: {problem}")
    text = json.dumps(header, sort_keys=True, allow_nan=False).encode("ascii")
    # Why pad: an 8-byte-aligned payload can be memory-mapped as float64.
    text += b" " * (-(_PREFIX.size + len(text)) % 8)
    problem = _header_size_problem(text)
    if problem is not None:
        raise ValueError(f"cannot save this network: {problem}")
    return _PREFIX.pack(MAGIC, len(text)) + text, payload


def _fsync_directory(directory):
    """Best effort: make the rename durable (POSIX only)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    fd = None
    try:
        with _interrupt.deferred():  # a Ctrl-C as open returns loses fd
            fd = os.open(directory, flags)
        os.fsync(fd)
    except OSError:
        pass
    finally:
        if fd is not None:
            os.close(fd)


def _temporary_name(directory, name):
    """A new random name for a temporary file next to the target."""
    # Why cut the name: the 18 bytes added around it would push a legal
    # name of 238 to 255 bytes over the file systems' 255-byte limit.
    while len(os.fsencode(name)) > _NAME_MAX - _TMP_EXTRA_BYTES:
        name = name[:-1]
    return os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")


def _write_all(fd, data):
    """os.write until every byte of `data` is written."""
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view):]


def save_network(net, path):
    """Write ``net`` to ``path`` atomically in creg's data-only format.

    Parameters
    ----------
    net : creg.Network
        The network to save.
    path : str or os.PathLike
        Destination file. An existing file is replaced only once the new one
        is completely written and flushed to disk, keeping its permission
        bits; a symlink is followed and stays a link.

    Returns
    -------
    str
        The path written.

    Raises
    ------
    ValueError
        If the parameters contain NaN or infinity, the network's settings
        could not be loaded back, or ``path`` names a FIFO, a device or a
        socket. Nothing on disk is touched.
    OSError
        If writing fails; any previous file at ``path`` is left intact and
        the temporary file is removed.
    """
    head, payload = _encode(net)
    digest = hashlib.sha256(head)
    digest.update(payload)
    return write_atomically(path, head, payload, digest.digest())


_NOT_REGULAR = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _file_to_replace(target):
    """(the path a save replaces, its permission bits or None): the file a
    symlink leads to, so that the link stays a link; refused unless it is
    a regular file, a directory (which the rename refuses with the usual
    IsADirectoryError) or absent."""
    real = os.path.realpath(target)
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return real, None
    except OSError as exc:
        raise _naming(exc, target) from None
    for test, kind in _NOT_REGULAR:
        if test(mode):
            raise ValueError(f"path {target!r} is {kind}, not a regular "
                             "file: creg saves only to a file")
    return real, stat.S_IMODE(mode) if stat.S_ISREG(mode) else None


def write_atomically(path, *chunks):
    """Write the byte strings to ``path`` through a temporary file in the
    same directory (write, flush, fsync, rename, fsync the directory), so
    the target is either the old file or the complete new one; on failure
    the temporary file is removed.  Follows a symlink at ``path`` and keeps
    the replaced file's permission bits (_file_to_replace).  Returns the
    path as str."""
    target = os.fsdecode(os.fspath(path))
    # Why: realpath drops a trailing separator, so "model.creg/" would
    # write a file "model.creg" under a path that then fails to open.
    if os.path.basename(target) in ("", os.curdir, os.pardir):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR),
                                target)
    real, mode = _file_to_replace(target)
    directory, name = os.path.split(real)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    # Why a bare descriptor, named before it is opened and forgotten before
    # it is closed: Ctrl-C can strike between any two steps, and the
    # handler below must then remove the file it names (even one whose
    # open returned too late to be stored) and never close a descriptor
    # twice (a file object that took it over could have closed it, and
    # another thread could have the number by then).
    fd = tmp = None
    try:
        for _ in range(100):
            tmp = _temporary_name(directory, name)
            try:
                # Mode 0o666 lets the umask decide, as for any new file;
                # Ctrl-C held back: one as open returns would lose fd
                with _interrupt.deferred():
                    fd = os.open(tmp, flags, 0o666)
                break
            except FileExistsError:
                tmp = None  # another's file
        else:
            raise FileExistsError(
                f"could not create a temporary file in {directory!r}")
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        for chunk in chunks:
            _write_all(fd, chunk)
        os.fsync(fd)
        opened, fd = fd, None
        os.close(opened)
        os.replace(tmp, real)
    except BaseException as exc:
        if fd is not None:
            opened, fd = fd, None
            os.close(opened)
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise _naming(exc, target) from None
        raise
    _fsync_directory(directory)
    return target


def _naming(exc, target):
    """The same kind of OSError, naming the file the user asked for
    rather than the temporary file written next to it."""
    if exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror, target)


# ------------------------------------------------------------------- load


def _check_size(path, size, max_bytes):
    if size > max_bytes:
        raise ModelFileError(
            f"{path!r} is {size} bytes, over the max_bytes={max_bytes} "
            f"limit for model files"
        )


def _open_checked(path, max_bytes):
    """Open a regular file of at most ``max_bytes`` bytes for reading;
    return (binary file, its size). An oversized file is refused before it
    is opened."""
    max_bytes = positive_int("max_bytes", max_bytes)
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise ModelFileError(f"{path!r} is not a regular file")
    _check_size(path, st.st_size, max_bytes)
    f = open(path, "rb")
    try:
        # The file opened may not be the one stat saw.
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ModelFileError(f"{path!r} is not a regular file")
        _check_size(path, st.st_size, max_bytes)
    except BaseException:
        f.close()
        raise
    return f, st.st_size


def _read_file(path, max_bytes):
    """Return the whole file's bytes, refusing oversized files unread."""
    f, size = _open_checked(path, max_bytes)
    with f:
        data = f.read(size + 1)
    if len(data) != size:
        raise ModelFileError(f"{path!r} changed size while being read")
    return data


def _read_model(f, size, where):
    """Check the open model file ``f`` of ``size`` bytes piece by piece,
    each piece before the next is read; return (header dict, parameters).
    """

    def fail(what):
        raise ModelFileError(f"cannot load model file {where}: {what}")

    def read(n):
        data = f.read(n)
        if len(data) != n:
            fail("the file changed size while it was read")
        return data

    if size == 0:
        fail("the file is empty (0 bytes)")
    prefix = read(min(size, _PREFIX.size))
    if prefix[: len(MAGIC)] != MAGIC[: len(prefix)]:
        fail("not a creg model file (bad magic)")
    if len(prefix) < len(MAGIC):
        fail(f"truncated inside the magic number ({size} bytes)")
    if len(prefix) < _PREFIX.size:
        fail(f"truncated inside the header length ({size} bytes)")
    _, header_len = _PREFIX.unpack(prefix)
    if header_len == 0 or header_len > _MAX_HEADER_WITH_MASK:
        fail(f"header length {header_len} is outside "
             f"1..{_MAX_HEADER_WITH_MASK} bytes")
    header_end = _PREFIX.size + header_len
    if header_end > size:
        fail(
            f"truncated inside the header: it declares {header_len} bytes but "
            f"only {size - _PREFIX.size} follow"
        )
    text = read(header_len)
    problem = _header_size_problem(text)
    if problem is not None:
        fail(problem)
    try:
        header = json.loads(
            text.decode("utf-8"),
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError) as exc:
        # UnicodeDecodeError and JSONDecodeError are ValueErrors too.
        fail(f"the header is not valid UTF-8 JSON ({str(exc)[:200]})")
    problem = _check_header(header)
    if problem is not None:
        fail(problem)

    # Sizes first, so nothing proportional to a declared size is allocated
    # or read unless the file really holds that many bytes.
    declared = header["payload_bytes"]
    follow = size - header_end
    if follow < declared + _DIGEST_BYTES:
        fail(
            f"truncated payload: the header declares {declared} bytes of "
            f"parameters and a {_DIGEST_BYTES}-byte SHA-256 after them, but "
            f"only {follow} bytes follow the header"
        )
    if follow > declared + _DIGEST_BYTES:
        fail(
            f"{follow - declared - _DIGEST_BYTES} bytes of trailing data after "
            f"the {declared}-byte payload and its SHA-256"
        )
    digest = hashlib.sha256(prefix)
    digest.update(text)
    values = np.empty(header["n_params"], _DTYPES[header["dtype"]])
    raw = memoryview(values).cast("B")
    for start in range(0, declared, _CHUNK):
        chunk = raw[start:start + _CHUNK]
        if f.readinto(chunk) != len(chunk):
            fail("the file changed size while it was read")
        digest.update(chunk)
    if read(_DIGEST_BYTES) != digest.digest():
        fail("the file does not match its SHA-256 (altered or corrupted)")
    if f.read(1):
        fail("the file changed size while it was read")
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

    The whole file, header included, is checked against its SHA-256 before
    anything is built, and read in bounded steps, each checked before the
    next; the load path never unpickles or evaluates file contents.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.
    max_bytes : int >= 1, default 16 GiB
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
    TypeError, ValueError
        If max_bytes is not an int >= 1.
    FileNotFoundError, PermissionError
        If the file cannot be opened.  A path that names a directory or
        anything but a regular file is a ModelFileError.
    """
    from creg.network import Network

    fspath = os.fsdecode(os.fspath(path))
    where = repr(fspath)
    f, size = _open_checked(fspath, max_bytes)
    with f:
        header, values = _read_model(f, size, where)
    try:
        net = Network._for_given_weights(
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
    if "input_mask" in header:
        net._set_input_columns(input_columns(header), header["input_width"])
    return net


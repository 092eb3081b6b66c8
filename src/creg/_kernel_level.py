"""The kernel level creg runs at, chosen once, when creg is imported.

By default creg runs the best level of its kernel table that the CPU
supports (``show_config()`` lists them).  ``CREG_KERNEL_LEVEL`` forces
another one the CPU supports, by name (``avx2+fma``) or number (``2``),
to compare levels or test one; ``CREG_DISABLE_SIMD=1`` forces level 0, the
portable reference, and wins over ``CREG_KERNEL_LEVEL``.  A value the CPU
cannot run, or that names no level, warns and leaves the best level.
Kernels never read the environment: this module is the only place.
"""
import os
import warnings

from creg import _core
from creg._warnings import CregWarning

LEVEL_VARIABLE = "CREG_KERNEL_LEVEL"
DISABLE_VARIABLE = "CREG_DISABLE_SIMD"


def level_names():
    """The names of the levels this CPU supports, by number."""
    return [_core.kernel_name(level)
            for level in range(_core.best_kernel_level() + 1)]


def _parse(value):
    """The level a CREG_KERNEL_LEVEL value asks for (a number, or the name
    of a level this build has), or None."""
    text = value.strip().lower()
    # isascii: str.isdigit also holds for digits int() refuses, such as '²'
    if text.isascii() and text.isdigit():
        return int(text)
    level = 0
    while _core.kernel_name(level) != "unknown":
        if _core.kernel_name(level) == text:
            return level
        level += 1
    return None


def _disables(value):
    """Whether a CREG_DISABLE_SIMD value turns the SIMD kernels off: 1,
    true, yes or on; 0, false, no, off or nothing leave them on.  Another
    value warns and turns them off, as setting the variable means to."""
    text = value.strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text not in ("1", "true", "yes", "on"):
        warnings.warn(
            f"{DISABLE_VARIABLE}={value!r} is neither 1/true/yes/on nor "
            "0/false/no/off; creg takes it as set and runs the reference "
            "kernels.", CregWarning, stacklevel=4)
    return True


def choose(environ=os.environ):
    """Sets the level the environment asks for; returns what chose it."""
    if _disables(environ.get(DISABLE_VARIABLE, "")):
        _core.set_kernel_level(0)
        return f"{DISABLE_VARIABLE}={environ[DISABLE_VARIABLE]}"
    value = environ.get(LEVEL_VARIABLE, "")
    names = level_names()
    if value.strip():
        level = _parse(value)
        if level is not None and level < len(names):
            _core.set_kernel_level(level)
            return f"{LEVEL_VARIABLE}={value}"
        choices = ", ".join(f"{i} {name}" for i, name in enumerate(names))
        warnings.warn(
            f"{LEVEL_VARIABLE}={value!r} is not a kernel level this CPU "
            f"supports ({choices}); creg runs the best one, "
            f"{names[-1]}.", CregWarning, stacklevel=3)
    _core.set_kernel_level(-1)
    return "the best level this CPU supports"

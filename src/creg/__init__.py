"""creg: fast CPU training of fully-connected networks with exact
regularizers (L2, L1 by soft-threshold, elastic net, max-norm, dropout,
input noise, data expansion)."""
import os
from typing import Union

from creg import _core, _kernel_level, datasets
from creg._config import show_config
from creg._errors import DivergenceError, ModelFileError
from creg._persist import DEFAULT_MAX_FILE_BYTES as _MAX_FILE_BYTES
from creg._warnings import (CregWarning, EarlyStoppingWarning,
                            InputScaleWarning, TrainingWarning)
from creg.early_stopping import EarlyStopping
from creg.expand import expand
from creg.history import History
from creg.network import NIELSEN, Network
from creg.network2 import load_network2
from creg.path import PathPoint, RegularizationPath, regularization_path
from creg.penalties import convert_penalty
from creg.sweeps import SweepBest, SweepResult, SweepRun, sweep

__version__ = "0.1.0"

# The kernel level, from CREG_KERNEL_LEVEL / CREG_DISABLE_SIMD or the
# best this CPU supports; read once, here.
_kernel_level_source = _kernel_level.choose()


def load(path: Union[str, "os.PathLike[str]"], *,
         max_bytes: int = _MAX_FILE_BYTES) -> Network:
    """Read a network written by Network.save; checks everything it reads.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by ``Network.save``.
    max_bytes : int >= 1, default 16 GiB
        Files larger than this are refused before being read.

    Returns
    -------
    Network
        The saved architecture, dtype, seed, ``epochs_trained`` and
        parameters.

    Raises
    ------
    ModelFileError
        If the file is truncated, altered or not a creg model file.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import creg
    >>> net = creg.Network([4, 3, 2], seed=0)
    >>> path = net.save(os.path.join(tempfile.mkdtemp(), "net.creg"))
    >>> np.array_equal(creg.load(path).params, net.params)
    True
    """
    from creg._persist import load_network
    return load_network(path, max_bytes=max_bytes)


__all__ = ["Network", "NIELSEN", "History", "EarlyStopping", "load",
           "datasets", "expand",
           "load_network2", "convert_penalty", "regularization_path",
           "PathPoint", "RegularizationPath", "DivergenceError", "ModelFileError", "CregWarning",
           "InputScaleWarning", "TrainingWarning", "EarlyStoppingWarning",
           "show_config", "__version__", "sweep", "SweepResult", "SweepRun",
           "SweepBest"]

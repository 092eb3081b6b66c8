"""creg: fast CPU training of fully-connected networks with exact
regularizers (L2, L1 by soft-threshold, elastic net, max-norm)."""
from creg import datasets
from creg._errors import DivergenceError, ModelFileError
from creg.history import History
from creg.network import Network

__version__ = "0.1.0"


def load(path):
    """Read a network written by Network.save; checks everything it reads."""
    from creg._persist import load_network
    return load_network(path)


__all__ = ["Network", "History", "load", "datasets", "DivergenceError",
           "ModelFileError", "__version__"]

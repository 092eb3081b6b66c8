"""report.py's machine section names each peer as it is: its version when
a worker ran it, else from the package metadata, "not installed" only
when it is not (the sweep section runs PyTorch in the report's own
process, after the section is printed)."""
import importlib.metadata
from types import SimpleNamespace

import pytest

import report


def _section(info, contenders):
    rep = SimpleNamespace(args=SimpleNamespace(contenders=contenders),
                          info=info, fma=None, machine_busy=0.5, wall=60.0)
    lines = report.machine_section(rep)
    return {line.split(":")[0]: line for line in lines}


def _installed(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


@pytest.mark.parametrize("label, contender, distribution", [
    ("- PyTorch", "torch", "torch"),
    ("- scikit-learn", "sklearn", "scikit-learn")])
def test_a_peer_no_worker_ran_is_named_by_its_installed_version(
        label, contender, distribution):
    version = _installed(distribution)
    line = _section({}, [contender])[label]
    if version is None:
        assert line.endswith("not installed"), line
    else:
        assert version in line and "not installed" not in line, line
        assert "no epoch worker ran it" in line, line
    line = _section({}, [])[label]
    if version is not None:
        assert "not among this run's contenders" in line, line


def test_a_peer_a_worker_ran_is_named_by_what_the_worker_saw():
    info = {"torch": {"torch": "9.9.9", "torch_blas": "MKL"},
            "sklearn": {"sklearn": "8.8.8"}}
    lines = _section(info, ["torch", "sklearn"])
    assert lines["- PyTorch 9.9.9 (MKL)"]
    assert lines["- scikit-learn 8.8.8"]

"""Smoke test of regions.py: it runs against the current _core and its
counts are those of creg's code (one thread opens no region; two threads
open regions on C3's wide layers and none on C1's one-thread steps)."""
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _rows(table):
    """{(config, threads): regions per step} from the printed table."""
    found = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 12 and cells[1].isdigit():
            found[cells[0], int(cells[1])] = float(cells[4])
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="regions.py preloads a libgomp wrapper (Linux)")
def test_regions_script_counts_creg_regions():
    out = subprocess.run(
        [sys.executable, str(HERE / "regions.py"), "--configs", "C1,C3",
         "--threads", "1,2", "--rows", "256", "--repeat", "1"],
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    regions = _rows(out.stdout)
    assert set(regions) == {("C1", 1), ("C1", 2), ("C3", 1), ("C3", 2)}
    assert regions["C1", 1] == regions["C3", 1] == 0
    assert regions["C1", 2] == 0  # small layers stay on one thread
    assert regions["C3", 2] >= 1

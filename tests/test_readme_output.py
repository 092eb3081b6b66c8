"""The README's "What fit prints" is what docs/examples/verbose.py prints
(up to the seconds, and float rounding across CPU kernel levels), and it
fits 80 columns."""
import contextlib
import io
import pathlib
import re
import runpy

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "verbose.py"


def _readme_blocks():
    text = (ROOT / "README.md").read_text()
    section = text.split("## What fit prints", 1)[1].split("\n## ", 1)[0]
    code, output = re.findall(r"```(?:python)?\n(.*?)```", section, re.S)
    return code, output.splitlines()


def _tokens(line):
    # the time column differs run to run
    return re.sub(r"\S+m?s$", "", line).split() if line[:5].strip(
        ).isdigit() else line.split()


def _same(a, b):
    if a == b:
        return True
    try:
        x, y = float(a.rstrip("%")), float(b.rstrip("%"))
    except ValueError:
        return False
    # another kernel level rounds float32 sums differently; an accuracy
    # may move by a sample
    return abs(x - y) <= 0.005 + 1e-3 * abs(y)


@pytest.mark.skipif(not (ROOT / "README.md").exists(),
                    reason="runs from a source checkout")
def test_readme_shows_what_the_example_prints_within_80_columns():
    code, shown = _readme_blocks()
    assert code.strip() in EXAMPLE.read_text()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    printed = out.getvalue().splitlines()
    assert len(shown) == len(printed)
    assert max(len(line) for line in shown) <= 80
    for readme_line, line in zip(shown, printed):
        a, b = _tokens(readme_line), _tokens(line)
        assert len(a) == len(b) and all(map(_same, a, b)), (readme_line, line)

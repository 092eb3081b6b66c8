#!/usr/bin/env python
"""Regenerate the outputs the documentation quotes, into docs/generated/.

    python docs/generate.py

- generated/demo.txt   stdout of ``python -m creg demo``
- generated/demo.png   ``python -m creg demo --plot`` (needs matplotlib;
                       skipped with a note when it is missing)
- generated/demo_costs.txt, demo_costs.png   the same with ``--costs``
- generated/path.txt   stdout of ``python docs/examples/path.py``
- generated/verbose.txt  stdout of ``python docs/examples/verbose.py`` (the
                       README's "What fit prints" quotes it)
- generated/mnist_features.txt, mnist_path.png, mnist_importances.png
                       ``python docs/examples/mnist_features.py`` (needs
                       matplotlib): docs/paths.rst's feature selection

Accuracies are deterministic for a given creg build and CPU kernel level
(bitwise identical for any thread count); the seconds columns are not.
The Sphinx build only reads these files, so it never trains anything.
"""
import contextlib
import importlib.util
import io
import pathlib
import runpy
import sys

from creg import demo

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "generated"


def main():
    OUT.mkdir(exist_ok=True)
    plot = importlib.util.find_spec("matplotlib") is not None
    if not plot:
        print("matplotlib missing: the PNGs are not redrawn",
              file=sys.stderr)
    for name, args in (("demo", []), ("demo_costs", ["--costs"])):
        if plot:
            args = [*args, "--plot", str(OUT / f"{name}.png")]
        text = io.StringIO()
        demo.main(args, out=text)
        # The last line names the PNG's absolute path: not part of the page.
        lines = [line for line in text.getvalue().splitlines()
                 if not line.startswith("wrote ")]
        (OUT / f"{name}.txt").write_text("\n".join(lines).rstrip() + "\n")

    for example in ("path", "verbose", "mnist_features"):
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            runpy.run_path(str(HERE / "examples" / f"{example}.py"),
                           run_name="__main__")
        (OUT / f"{example}.txt").write_text(text.getvalue())
    print(f"wrote {', '.join(sorted(p.name for p in OUT.iterdir()))} "
          f"in {OUT}")


if __name__ == "__main__":
    main()

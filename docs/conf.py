"""Sphinx configuration for creg's documentation.

Why Sphinx and not MkDocs: creg's docstrings are already numpydoc
("Parameters / Returns / Examples" sections), which Sphinx renders
natively through the numpydoc extension, and autodoc reads them from the
installed package, so the API reference cannot drift from the code.

Build (offline: no intersphinx, the theme ships with Sphinx):

    pip install ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""
import creg

project = "creg"
author = "the creg developers"
copyright = "2026, the creg developers"
release = creg.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
]

# numpydoc: render the sections, but do not build per-member autosummary
# tables (they would need generated stub pages).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"          # the numpydoc sections say it better

exclude_patterns = ["_build", "examples"]
templates_path = []
html_theme = "alabaster"            # bundled with Sphinx: nothing to fetch
html_theme_options = {"description": "fast CPU training, exact regularizers",
                      "fixed_sidebar": True}
html_title = f"creg {release}"

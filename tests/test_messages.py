"""Messages a new user hit (issue 17): each says what to do, in the
user's terms (their path, their array's shape), and the docstrings point
nowhere outside the installed package.  The bad-input table
(test_bad_inputs.py) checks the rest: 3-D X, string labels, lr_schedule,
and that no message repeats itself."""
import importlib
import inspect
import pkgutil
import re

import numpy as np
import pytest

import creg


@pytest.mark.parametrize("save", ["save", "save_network2"])
def test_save_errors_name_the_user_s_path(tmp_path, save):
    net = creg.Network([4, 3, 2], **creg.NIELSEN)
    target = tmp_path / "no-such-folder" / "net.file"
    with pytest.raises(FileNotFoundError) as info:
        getattr(net, save)(target)
    assert info.value.filename == str(target)
    assert str(target) in str(info.value)
    assert ".tmp" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_save_into_a_file_s_place_names_the_user_s_path(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    target = blocker / "net.creg"  # a file where a folder should be
    with pytest.raises(NotADirectoryError) as info:
        creg.Network([4, 3, 2]).save(target)
    assert info.value.filename == str(target)
    assert ".tmp" not in str(info.value)


def test_estimator_3d_input_suggests_the_reshape():
    pytest.importorskip("sklearn")
    from creg.sklearn import CregClassifier
    X = np.random.default_rng(0).random((6, 2, 2))
    y = np.arange(6) % 2
    hint = r"Reshape your data to one row per sample with X.reshape\(len\(X\)"
    with pytest.raises(ValueError, match=hint):
        CregClassifier().fit(X, y)
    clf = CregClassifier(epochs=1, batch_size=3).fit(X.reshape(len(X), -1), y)
    with pytest.raises(ValueError, match=hint):
        clf.predict(X)


def _public_objects():
    """Every module of creg, and every class, function and method in it."""
    for info in pkgutil.walk_packages(creg.__path__, "creg."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional dependency (scikit-learn)
            continue
        yield info.name, module
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != info.name:
                continue
            yield f"{info.name}.{name}", obj
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    yield f"{info.name}.{name}.{attr}", member


# Files of the repository that an installed creg does not have.
_OUTSIDE = re.compile(r"\b\w+\.(md|rst)\b|\b(tests|benchmarks|csrc|docs)/")


def test_docstrings_cite_no_file_outside_the_package():
    cited = {}
    for where, obj in _public_objects():
        if isinstance(obj, property):
            obj = obj.fget
        doc = inspect.getdoc(obj) if callable(obj) or inspect.ismodule(obj) \
            or isinstance(obj, type) else None
        for match in _OUTSIDE.finditer(doc or ""):
            cited.setdefault(where, []).append(match.group(0))
    assert not cited, cited

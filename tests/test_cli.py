"""The command line, run as users run it: ``python -m creg`` in a child
process.  --help exits 0 and lists every command and option; bad options
are usage errors (exit 2), never tracebacks."""
import importlib.util
import os
import signal
import subprocess
import sys

import pytest

# --plot is refused without matplotlib before its file name is looked at
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
needs_matplotlib = pytest.mark.skipif(not HAVE_MATPLOTLIB,
                                      reason="--plot needs matplotlib")


def creg_cli(*args, python=()):
    return subprocess.run([sys.executable, *python, "-m", "creg", *args],
                          capture_output=True, text=True, timeout=120)


def test_help_lists_every_command_and_option():
    done = creg_cli("--help")
    assert done.returncode == 0, done.stderr
    for word in ("demo", "config", "--epochs N", "--seed S", "--seeds K",
                 "--costs", "--plot PNG", "python -m creg config [-h]"):
        assert word in done.stdout, word


@pytest.mark.parametrize("python", [(), ("-OO",)])
@pytest.mark.parametrize("command", ["demo", "config", "sweep"])
def test_each_command_has_help(command, python):
    """-OO strips docstrings: the help must not come from them."""
    done = creg_cli(command, "--help", python=python)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m creg {command}")
    assert "python -m creg: " not in done.stdout  # no sentence lost


@pytest.mark.parametrize("args, says", [
    ((), "the following arguments are required: COMMAND"),
    (("train",), "invalid choice: 'train'"),
    (("--epochs", "3"), "python -m creg: error: argument COMMAND"),
    (("demo", "--epochs", "0"), "argument --epochs: expected a whole number"),
    (("demo", "--epochs", "-3"), "argument --epochs"),
    (("demo", "--epochs", "three"), "argument --epochs"),
    (("demo", "--epochs", "2.5"), "argument --epochs"),
    (("demo", "--seed", "-1"), "argument --seed: expected a whole number in "
                               "[0, 9223372036854775808)"),
    (("demo", "--seed", str(2**63)), "argument --seed"),
    (("demo", "--seeds", "0"), "argument --seeds: expected a whole number "
                               "in [1, 1000)"),
    (("demo", "--costs", "yes"), "unrecognized arguments: yes"),
    (("demo", "--epochs"), "expected one argument"),
    (("demo", "--learning-rate", "0.1"), "unrecognized arguments"),
    (("demo", "--plot", "/no/such/folder/a.png"),
     "--plot: the folder '/no/such/folder' does not exist"),
    # matplotlib would write curves.png, or refuse the format, after the
    # whole training
    (("demo", "--plot", "curves"), "--plot: name a file ending in one of "),
    (("demo", "--plot", "a.xyz"), "--plot: name a file ending in one of "),
    (("demo", "--plot", ""), "--plot: name a file ending in one of "),
    (("demo", "--seed", str(2**63 - 1), "--seeds", "2"),
     "the last seed, S+K-1, must be below 2**63"),
    (("config", "--json"), "unrecognized arguments"),
])
def test_bad_options_are_usage_errors(args, says):
    if "--plot" in args and not HAVE_MATPLOTLIB:
        pytest.skip("--plot needs matplotlib")
    done = creg_cli(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("usage: python -m creg"), done.stderr
    assert says in done.stderr, done.stderr


def test_config_prints_the_build():
    done = creg_cli("config")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("creg:")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_the_demo_with_status_130(ctrl_c):
    child = subprocess.Popen([sys.executable, "-m", "creg", "demo"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().startswith("MNIST sample")
        child.send_signal(signal.SIGINT)  # while the runs train
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert err.strip() == "interrupted"
    assert "runs in" not in out


@needs_matplotlib
def test_plot_into_a_directory_or_a_folder_that_takes_no_file(tmp_path):
    folder = tmp_path / "curves.png"
    folder.mkdir()
    done = creg_cli("demo", "--plot", str(folder))
    assert done.returncode == 2 and "is a directory" in done.stderr
    if sys.platform.startswith("linux"):  # even root makes no file there
        done = creg_cli("demo", "--plot", "/proc/curves.png")
        assert done.returncode == 2
        assert "--plot: cannot write in '/proc'" in done.stderr


@needs_matplotlib
def test_plot_name_too_long_for_the_folder_is_a_usage_error(tmp_path):
    done = creg_cli("demo", "--plot", str(tmp_path / ("c" * 300 + ".png")))
    assert done.returncode == 2, done.stderr
    assert "--plot: the file name is longer than the" in done.stderr


@needs_matplotlib
def test_a_plot_that_fails_leaves_the_earlier_figure(tmp_path):
    """savefig wrote straight onto the target: a full disk or Ctrl-C left
    a truncated figure in place of a good one."""
    from matplotlib.figure import Figure

    from creg import _demo_plot
    target = tmp_path / "curves.png"
    target.write_bytes(b"an earlier figure")
    fig = Figure()

    def half_written(f, **options):
        f.write(b"\x89PNG half")
        raise OSError(28, "No space left on device")
    fig.savefig = half_written
    with pytest.raises(OSError, match="No space left"):
        _demo_plot.save(fig, target)
    assert target.read_bytes() == b"an earlier figure"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]
    _demo_plot.save(Figure(), target)
    assert target.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


@needs_matplotlib
def test_a_figure_s_mode_is_the_umask_s_or_the_replaced_file_s(tmp_path):
    # mkstemp's 0600 went with it: a figure others could not read
    from matplotlib.figure import Figure

    from creg import _demo_plot
    before = os.umask(0o022)
    try:
        _demo_plot.save(Figure(), tmp_path / "new.png")
    finally:
        os.umask(before)
    assert (tmp_path / "new.png").stat().st_mode & 0o777 == 0o644
    old = tmp_path / "old.png"
    old.write_bytes(b"an earlier figure")
    old.chmod(0o640)
    _demo_plot.save(Figure(), old)
    assert old.stat().st_mode & 0o777 == 0o640


@needs_matplotlib
def test_ctrl_c_as_a_figure_is_renamed_stays_a_ctrl_c(tmp_path,
                                                      monkeypatch):
    # the rename done, the cleanup's unlink of the scratch file met
    # FileNotFoundError, which hid the KeyboardInterrupt
    from matplotlib.figure import Figure

    from creg import _demo_plot
    rename = os.replace

    def late(*args):
        rename(*args)
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "replace", late)
    with pytest.raises(KeyboardInterrupt):
        _demo_plot.save(Figure(), tmp_path / "curves.png")
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


def test_errors_met_while_running_are_one_line_and_status_1():
    done = creg_cli("sweep", "--hidden", str(10**12), "--epochs", "1")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("python -m creg sweep: error: Unable to "
                                  "allocate"), done.stderr


def test_a_reader_that_leaves_early_gets_no_traceback():
    child = subprocess.Popen([sys.executable, "-m", "creg", "config"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # before creg is imported, let alone prints
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == 1, err
    assert err == ""


def test_an_ascii_stdout_gets_plus_minus_in_the_demo():
    done = subprocess.run(
        [sys.executable, "-m", "creg", "demo", "--epochs", "1", "--seeds",
         "2"], capture_output=True, timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0, done.stderr.decode()
    assert b"(mean+-sd over the seeds)" in done.stdout


def test_the_demo_module_runs_as_the_demo_command():
    done = subprocess.run([sys.executable, "-m", "creg.demo", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m creg demo")


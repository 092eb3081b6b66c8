"""Smoke test of zeros.py: its counts of all-zero columns and panel rows,
the epoch's share they add up to, and a run on C3's synthetic data, whose
uniform pixels are never zero."""
import numpy as np
import pytest

import zeros


def test_all_zero_columns_and_panel_rows_count_whole_groups():
    M = np.ones((13, 14))
    M[0:6, 2] = 0          # a whole group of 6 rows: counted
    M[6:12, 3] = 0         # the second group: counted
    M[0:5, 4] = 0          # one row short: not counted
    M[12, :] = 0           # the partial 13th row is left out
    assert zeros.all_zero_columns(M, 6) == pytest.approx(2 / (2 * 14))
    assert zeros.all_zero_columns(M, 12) == 0
    # 14 columns make 2 whole panels of 6 (the last 2 are left out)
    assert zeros.all_zero_panel_rows(M) == pytest.approx(2 / (13 * 2))


def test_epoch_share_weights_each_kernel_by_its_work():
    # [4, 3, 2]: layer 0 does 12 multiply-adds a row twice (forward and
    # step), layer 1 does 6 three times: 42 in all
    shares = {(0, "forward, MR 6"): 0.5, (0, "step rows"): 0.25,
              (1, "input gradient, MR 6"): 1.0,
              (1, "forward, MR 12"): 1.0}
    assert zeros.epoch_share(shares, (4, 3, 2), 6) == pytest.approx(
        (12 * 0.5 + 12 * 0.25 + 6 * 1.0) / 42)
    assert zeros.epoch_share(shares, (4, 3, 2), 12) == pytest.approx(
        (12 * 0.25 + 6 * 1.0) / 42)


def test_zeros_script_on_c3(capsys):
    zeros.main(["--rows", "640"])
    rows = {}
    for line in capsys.readouterr().out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].isdigit():
            rows[int(cells[0]), cells[1]] = float(cells[2].rstrip("%"))
    assert rows[0, "forward, MR 6"] == 0  # the data: no zero pixel
    assert (0, "input gradient, MR 6") not in rows
    assert all(0 <= share <= 100 for share in rows.values())
    assert len(rows) == 8


def test_all_zero_in_groups_cuts_the_batch_into_equal_groups():
    M = np.ones((10, 4))
    M[0:5, 0] = 0   # the first group of 5: counted at groups of 6
    M[0:4, 1] = 0   # one row short of it: never counted
    M[:, 2] = 0     # every row: counted in every group
    assert zeros.all_zero_in_groups(M, 6) == pytest.approx((1 + 2) / 8)
    assert zeros.all_zero_in_groups(M, 10) == pytest.approx(1 / 4)


def test_zeros_script_on_c1_mnist(capsys):
    # C1's batches of 10 run the first layer in columns: MNIST's blank
    # pixels are skipped, more of them in the forward's smaller groups
    zeros.main(["--config", "C1", "--mnist", "--rows", "400"])
    rows = {}
    for line in capsys.readouterr().out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].isdigit():
            rows[cells[1]] = float(cells[2].rstrip("%"))
    assert 30 <= rows["step inputs"] <= 70
    assert rows["forward inputs, groups of 6"] > rows["step inputs"]
    assert rows["forward inputs, groups of 10"] == rows["step inputs"]

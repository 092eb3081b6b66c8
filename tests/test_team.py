"""The default team's size (csrc/team.c): as many threads as other
processes leave cores for, while an explicit n_threads is exactly that.

The policy is pure (made-up times and loads in, team sizes out), so most
tests drive it through ``_core.team_policy``; the last ones run creg in a
child process beside processes that spin on the CPUs, where the load it
reads is certain: a process in a busy loop is always runnable."""
import json
import os
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import alone
from creg import _core

LOOK = _core.TEAM_LOOK_SECONDS
HOLD_MIN = _core.TEAM_HOLD_MIN
HOLD_MAX = _core.TEAM_HOLD_MAX
FLOOR = _core.TEAM_LATE_FLOOR
SHARE = _core.TEAM_LATE_SHARE
EPS = 1e-6


def decide(most, now, runnable=-1, cpus=0, ours=1):
    return ("decide", most, now, runnable, ours, cpus)


def ran(team, late, now):
    return ("ran", team, late, now)


def late_twice(team, late, now):
    """Two late teams in a row, the second at `now`: a lone late team
    does not hold (the next test says why)."""
    return [ran(team, late, now - EPS), ran(team, late, now)]


# ------------------------------------------------------------ the load


@pytest.mark.parametrize("most", [2, 4, 16])
def test_an_idle_machine_gets_the_whole_team(most):
    assert _core.team_policy([decide(most, 0.0, 1, most)]) == [most]


def test_cores_taken_by_others_are_left_to_them():
    # 16 CPUs, 4 other tasks runnable (plus this thread): 12 for creg
    assert _core.team_policy([decide(16, 0.0, 5, 16)]) == [12]
    assert _core.team_policy([decide(2, 0.0, 2, 2)]) == [1]
    # never fewer than one thread, never more than asked
    assert _core.team_policy([decide(8, 0.0, 40, 8)]) == [1]
    assert _core.team_policy([decide(4, 0.0, 1, 64)]) == [4]


def test_a_busy_machine_is_looked_at_again_after_the_look_interval():
    teams = _core.team_policy([
        decide(2, 0.0, 2, 2),                # busy: 1
        decide(2, LOOK - EPS, 1, 2),         # idle, but no look due yet
        decide(2, LOOK + EPS, 1, 2),         # looked: idle
        decide(2, 10.0, 2, 2),               # no look without a late team
    ])
    assert teams == [1, 1, 2, 2]


def test_our_own_running_threads_are_not_counted_as_others():
    # A team of 2 ran, and its worker still spins: runnable 2 is this
    # process alone.  A third task is another process.
    teams = _core.team_policy([
        decide(2, 0.0, 1, 2), *late_twice(2, 1, 0.01),
        decide(2, 0.01 + HOLD_MIN + EPS, 2, 2, ours=2),
        decide(2, 1.0, 2, 2, ours=2),
    ])
    assert teams == [2, 2, 2]
    teams = _core.team_policy([
        decide(2, 0.0, 1, 2), *late_twice(2, 1, 0.01),
        decide(2, 0.01 + HOLD_MIN + EPS, 3, 2, ours=2),
    ])
    assert teams == [2, 1]
    # the worker sleeps: the second task is another process's
    teams = _core.team_policy([
        decide(2, 0.0, 1, 2), *late_twice(2, 1, 0.01),
        decide(2, 0.01 + HOLD_MIN + EPS, 2, 2, ours=1),
    ])
    assert teams == [2, 1]


def test_while_the_load_holds_the_team_it_is_tried_whole_now_and_then():
    # A busy reading holds the team; after HOLD_MIN the whole team runs
    # once (a probe).  Late, it holds for the span; then the load holds
    # again and the next probe waits the span, which doubles while the
    # probes come late.
    busy = (2, 2)
    t1 = HOLD_MIN + EPS
    t2 = t1 + 2 * HOLD_MIN + 3 * EPS
    events = [decide(2, 0.0, *busy), decide(2, HOLD_MIN - EPS, *busy),
              decide(2, t1, *busy), ran(2, 1, t1)]
    expected = [1, 1, 2]
    for t, span in ((t1, HOLD_MIN), (t2, 2 * HOLD_MIN)):
        if t == t2:
            events.append(ran(2, 1, t2))
        events += [decide(2, t + span - EPS, *busy),       # the hold
                   decide(2, t + span + EPS, *busy),       # the load's
                   decide(2, t + 2 * span, *busy),         # still
                   decide(2, t + 2 * span + 2 * EPS, *busy)]   # probe
        expected += [1, 1, 1, 2]
    assert _core.team_policy(events) == expected


def test_a_probe_on_time_ends_the_hold_and_the_looks():
    t = HOLD_MIN + EPS
    teams = _core.team_policy([
        decide(2, 0.0, 2, 2), decide(2, t, 2, 2), ran(2, 0, t + EPS),
        decide(2, t + 2 * EPS, 2, 2), decide(2, 10.0, 5, 2),
    ])
    assert teams == [1, 2, 2, 2]


def test_an_explicit_team_on_time_ends_the_hold():
    teams = _core.team_policy([
        decide(2, 0.0, 2, 2),           # held by the load
        ran(2, 0, 0.01),                # an explicit team of 2, on time
        decide(2, 0.011, 2, 2),
        *late_twice(4, 1, 0.02),        # an explicit 4, one late: hold 3
        decide(4, 0.021), ran(3, 0, 0.022),    # 3 on time: not above 3
        decide(4, 0.023),
    ])
    assert teams == [1, 2, 3, 3]


def test_without_a_load_reading_only_lateness_counts():
    assert _core.team_policy([decide(4, 0.0), decide(4, 1.0)]) == [4, 4]


# ------------------------------------------------------------ lateness


def test_a_lone_late_team_waits_for_another_before_holding():
    # An idle VM's worker is now and then late, one region in hundreds
    # (the hypervisor or an interrupt had its core): holding the default
    # each time cost a C3 fit 10% against two explicit threads.  Another
    # late team among the next CREG_TEAM_CONFIRM_RUNS confirms it.
    on_time = [ran(2, 0, 0.2 + i * EPS)
               for i in range(_core.TEAM_CONFIRM_RUNS)]
    teams = _core.team_policy([
        decide(2, 0.0, 1, 2), ran(2, 1, 0.1), decide(2, 0.1 + EPS),
        *on_time, ran(2, 1, 0.3), decide(2, 0.3 + EPS),   # lone again
        ran(2, 0, 0.4), ran(2, 1, 0.5), decide(2, 0.5 + EPS),  # confirmed
    ])
    assert teams == [2, 2, 2, 1]


def test_late_teams_hold_the_default_at_the_threads_on_time():
    t = 0.5
    teams = _core.team_policy([
        decide(2, 0.0, 1, 2), ran(2, 0, 0.1),      # on time: no hold
        decide(2, 0.2),
        *late_twice(2, 1, t),                       # one thread late
        decide(2, t + EPS), decide(2, t + HOLD_MIN - EPS),
        decide(2, t + HOLD_MIN + EPS, 1, 2),       # the hold ends: a look
    ])
    assert teams == [2, 2, 1, 1, 2]


def test_lateness_that_recurs_holds_longer_up_to_the_maximum():
    events, spans, t = [decide(2, 0.0, 1, 2)], [], 1.0
    span = HOLD_MIN
    for _ in range(10):
        # late at once when the team is back after each hold
        events += [*late_twice(2, 1, t), decide(2, t + span - EPS),
                   decide(2, t + span + EPS, 1, 2)]
        spans.append(span)
        t += span + 2 * EPS
        span = min(2 * span, HOLD_MAX)
    teams = _core.team_policy(events)
    assert teams == [2] + [1, 2] * 10
    assert spans[:3] == [HOLD_MIN, 2 * HOLD_MIN, 4 * HOLD_MIN]
    assert spans[-1] == HOLD_MAX


def test_late_explicit_teams_extend_a_hold_without_doubling_it():
    # After a numpy call OpenBLAS's threads spin for about 0.1 s beside
    # creg's: an explicit fit's teams are late throughout, and doubling
    # the span for each took it to HOLD_MAX within one such burst.
    t = 1.0
    burst = [ran(2, 1, t + 0.01 * i) for i in range(1, 6)]
    last = t + 0.05
    teams = _core.team_policy([
        decide(2, 0.0, 1, 2), *late_twice(2, 1, t), *burst,
        decide(2, last + HOLD_MIN - EPS),
        decide(2, last + HOLD_MIN + EPS, 1, 2),
    ])
    assert teams == [2, 1, 2]


def test_lateness_long_after_a_hold_starts_over_at_the_shortest_hold():
    t0, t1 = 1.0, 1.0 + HOLD_MIN + 1.0  # long after the first hold ended
    teams = _core.team_policy([
        decide(2, 0.0, 1, 2), *late_twice(2, 1, t0), *late_twice(2, 1, t1),
        decide(2, t1 + HOLD_MIN - EPS), decide(2, t1 + HOLD_MIN + EPS, 1, 2),
    ])
    assert teams == [2, 1, 2]


def test_the_first_team_after_a_hold_is_late_alone_until_another_is():
    # Its workers slept through the hold, and on a VM waking them took
    # 0.4-4 ms: counted as lateness that recurs, every hold's end held
    # the default again, doubling up to HOLD_MAX (a C3 fit after numpy
    # calls held 377 of 390 teams where two threads ran it faster).
    t = 1.0
    end = t + HOLD_MIN + EPS
    teams = _core.team_policy([
        decide(2, 0.0, 1, 2), *late_twice(2, 1, t),
        decide(2, t + EPS),
        decide(2, end, 1, 2), ran(2, 1, end + EPS),   # woken late: alone
        decide(2, end + 2 * EPS), ran(2, 0, end + 3 * EPS),
        decide(2, end + 4 * EPS), ran(2, 1, end + 5 * EPS),  # confirmed
        decide(2, end + 6 * EPS),
        decide(2, end + 5 * EPS + 2 * HOLD_MIN - EPS),  # recurs: longer
    ])
    assert teams == [2, 1, 2, 2, 2, 1, 1]


def test_many_cores_shed_only_the_late_threads():
    teams = _core.team_policy([
        decide(16, 0.0, 1, 16), *late_twice(16, 3, 0.1),   # 3 late: 13
        decide(16, 0.1 + EPS), ran(13, 2, 0.12),   # 2 of those late: 11
        decide(16, 0.12 + EPS),
        ran(16, 1, 0.13),                           # an explicit 16: no rise
        decide(16, 0.13 + EPS),
    ])
    assert teams == [16, 13, 11, 11]


def test_teams_asked_for_fewer_threads_are_not_raised_by_a_hold():
    teams = _core.team_policy([decide(16, 0.0, 1, 16),
                               *late_twice(16, 4, 0.1),
                               decide(2, 0.1 + EPS), decide(12, 0.1 + EPS)])
    assert teams == [16, 2, 12]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(
    st.sampled_from(["decide", "ran"]), st.integers(1, 32),
    st.floats(0, 0.2), st.integers(-1, 40), st.integers(1, 64),
    st.integers(0, 31)), max_size=40))
def test_every_team_is_between_one_and_the_default(steps):
    events, now, expected = [], 0.0, []
    for kind, most, dt, runnable, cpus, late in steps:
        now += dt
        if kind == "decide":
            events.append(decide(most, now, runnable, cpus))
            expected.append(most)
        else:
            events.append(ran(most, min(late, most - 1), now))
    teams = _core.team_policy(events)
    assert len(teams) == len(expected)
    assert all(1 <= t <= m for t, m in zip(teams, expected))


def test_hook_refuses_impossible_events():
    with pytest.raises(ValueError, match="late"):
        _core.team_policy([ran(2, 2, 0.0)])
    with pytest.raises(ValueError, match="most"):
        _core.team_policy([decide(0, 0.0)])


# ------------------------------------------------- who counts as late


def one_late_worker(team, own, arrive_after, finish_after):
    """team_late of a team whose threads each work `own` seconds from
    their arrival, worker 1 arriving `arrive_after` late and finishing
    `finish_after` after the others."""
    arrive = [0.0] * team
    leave = [own] * team
    arrive[1] = arrive_after
    leave[1] = own + finish_after
    return _core.team_late(0.0, arrive, leave)


def test_a_worker_is_late_beyond_half_the_masters_share():
    # four threads: the three on time would have saved a third of a share
    own = 0.004
    limit = max(FLOOR, SHARE * own)
    assert one_late_worker(4, own, 0.0, limit - 1e-5) == 0
    assert one_late_worker(4, own, 0.0, limit + 1e-5) == 1
    # a worker that arrives late (a barrier inside the region has the
    # master wait for it) and finishes with it
    arrive, leave = [0.0, 0.0, 0.0, limit + 1e-5], [own] * 4
    assert _core.team_late(0.0, arrive, leave) == 1
    arrive[3] = limit - 1e-5
    assert _core.team_late(0.0, arrive, leave) == 0


def test_short_shares_are_judged_against_the_floor():
    own = FLOOR / 4 / SHARE  # half the share is a quarter of the floor
    assert one_late_worker(16, own, FLOOR * 0.9, FLOOR * 0.9) == 0
    assert one_late_worker(16, own, FLOOR * 1.2, FLOOR * 1.2) == 1


def test_a_team_faster_than_its_threads_on_time_has_none_late():
    """A worker whose core the host shares runs at half speed and ends a
    whole share after the master: two threads took as long as the master
    alone would have, so holding it back saves nothing.  It counts as
    late once the team ended a floor later than that."""
    own = 0.0015
    assert SHARE * own < own - FLOOR  # late by the share, not by the cost
    assert one_late_worker(2, own, 0.0, own) == 0
    assert one_late_worker(2, own, 0.0, own + FLOOR - 1e-5) == 0
    assert one_late_worker(2, own, 0.0, own + FLOOR + 1e-5) == 1
    # arriving late, it did its whole share after the master's
    assert one_late_worker(2, own, own + FLOOR - 1e-5, own + FLOOR - 1e-5) == 0
    assert one_late_worker(2, own, own + FLOOR + 1e-5, own + FLOOR + 1e-5) == 1
    # a time slice of another process: late by far
    assert one_late_worker(2, own, 0.004, 0.004) == 1
    # among more threads, the same lag costs the team more than it saves
    assert one_late_worker(4, own, 0.0, own) == 1


def test_late_threads_are_counted_and_unwatched_ones_ignored():
    own = 0.01
    arrive = [0.0, 0.0, 0.02, 0.0, 0.02]
    leave = [own, own, 0.03, own + 0.02, 0.03]
    assert _core.team_late(0.0, arrive, leave) == 3
    with pytest.raises(ValueError, match="at most"):
        _core.team_late(0.0, [0.0] * 65, [0.0] * 65)


# ------------------------------------------- in a process, beside spinners

CHILD = r"""
import hashlib, json, os, sys
import numpy as np
import creg
from creg import _core

def threads():
    return len(os.listdir("/proc/self/task"))

rng = np.random.default_rng(0)
X = rng.random((1024, 784), dtype=np.float32)
y = rng.integers(0, 10, 1024)
out = {"start": threads()}
digests = {}
for name, n_threads in [("default", None), ("two", 2), ("one", 1)]:
    net = creg.Network([784, 1024, 10], hidden="relu", output="softmax",
                       cost="log_likelihood", dtype="float32", seed=0)
    net.fit(X, y, epochs=2, batch_size=128, lr=0.01, momentum=0.9,
            dropout=0.2, n_threads=n_threads)
    proba = net.predict_proba(X, n_threads=n_threads)
    digests[name] = hashlib.sha256(net.params.tobytes()
                                   + proba.tobytes()).hexdigest()
    out[name] = threads()
    out[name + "_counts"] = _core.team_counts()
out["digests"] = digests
print(json.dumps(out))
"""

# A team of all CPUs runs once, then the process looks at the load as its
# first default team would: the team's workers sleep (passive) or spin
# (active) after their region.  Prints runnable, ours, cpus and the team
# decided.
LOOK_AFTER_A_TEAM = r"""
import sys, time
from creg import _core
cpus = int(sys.argv[1])
_core.team_run_empty(cpus)
time.sleep(0.05)  # a passive worker is asleep well before this
runnable, ours, online = _core.team_look(cpus)
print(runnable, ours, online, _core.team_size(-cpus))
"""


def _busy_cpus():
    cpus = os.cpu_count() or 1
    if cpus < 2 or cpus > 8:
        pytest.skip(f"{cpus} CPUs: keeping all but one busy takes "
                    f"{cpus - 1} spinning processes")
    return cpus


def _run_child(code, args=(), spinners=0, **env):
    environ = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    environ.update(env)
    procs = _spinning(spinners)
    try:
        return subprocess.run([sys.executable, "-c", code, *map(str, args)],
                              env=environ, capture_output=True, text=True,
                              check=True, timeout=300).stdout
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _spinning(count):
    """count processes in a busy loop, returned once each is running."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
             for _ in range(count)]
    deadline = time.monotonic() + 10
    for proc in procs:
        while time.monotonic() < deadline:
            with open(f"/proc/{proc.pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            if state == "R":
                break
            time.sleep(0.01)
    return procs


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the load comes from /proc/loadavg")


DEFAULT_TEAMS_OVER_TIME = """
import sys, time
from creg import _core
teams = []
for _ in range(40):  # past a hold and its probe of the whole team
    teams.append(_core.team_size(-int(sys.argv[1])))
    time.sleep(0.01)
print(max(teams))
"""


CPUS_READ_AGAIN = """
import os, time
from creg import _core
before = _core.team_size(-64)
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
time.sleep(1.1)  # CREG_TEAM_CPUS_SECONDS
print(before, _core.team_size(-64))
"""


@linux_only
def test_the_cap_follows_an_affinity_mask_changed_since():
    before, after = map(int, _run_child(CPUS_READ_AGAIN).split())
    assert 1 <= before <= len(os.sched_getaffinity(0))
    assert after == 1


@linux_only
def test_a_default_team_never_has_more_threads_than_usable_cpus():
    # a default request of more threads than CPUs (OMP_NUM_THREADS=1000
    # on 2 CPUs: 1,001 threads, 3.4x one thread's time) was run whole by
    # the policy's probes
    usable = len(os.sched_getaffinity(0))
    largest = int(_run_child(DEFAULT_TEAMS_OVER_TIME, [usable + 7]))
    assert 1 <= largest <= usable


@linux_only
@alone
def test_beside_busy_cores_the_default_holds_back_and_explicit_teams_run():
    cpus = _busy_cpus()
    result = json.loads(_run_child(CHILD, spinners=cpus - 1))
    # the default's first team looked at the load and held back (how many
    # more it holds depends on how late the OS makes the probes)
    decided, held = result["default_counts"]
    assert decided > 0 and held >= 1, result
    # n_threads=2 started a team whatever the load
    assert result["two"] > result["start"], result
    # and every result is the same, bit for bit
    assert len(set(result["digests"].values())) == 1, result


@linux_only
@alone
def test_a_sleeping_worker_of_the_last_team_is_not_counted_as_ours():
    # the spinners run, and our workers sleep: only the caller is ours,
    # so the spinners take every core but the caller's
    cpus = _busy_cpus()
    runnable, ours, online, team = map(int, _run_child(
        LOOK_AFTER_A_TEAM, [cpus], spinners=cpus - 1,
        OMP_WAIT_POLICY="passive").split())
    assert runnable >= cpus and online == cpus
    assert (ours, team) == (1, 1)


@linux_only
@alone
def test_a_spinning_worker_of_the_last_team_is_counted_as_ours():
    # our workers spin after the team: each one is ours, whatever else
    # the machine runs (other tasks can only add to runnable)
    cpus = _busy_cpus()
    runnable, ours, online, team = map(int, _run_child(
        LOOK_AFTER_A_TEAM, [cpus], OMP_WAIT_POLICY="active").split())
    assert runnable >= cpus and online == cpus
    assert ours == cpus

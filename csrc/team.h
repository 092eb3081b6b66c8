/* team.h -- how many threads a default team gets (team.c): internal.
 *
 * A region's team waits, at its end, for its slowest thread.  When another
 * process holds a core, the thread the OS puts there starts or finishes
 * milliseconds late (the other process's time slice), and a region of 0.3
 * ms takes 8 ms: 15 times what one thread takes.  So a default team
 * (n_threads=None) holds back when it has seen this happen:
 *
 * - lateness: a team in which threads arrived or finished late (later
 *   than CREG_TEAM_LATE_FLOOR and than CREG_TEAM_LATE_SHARE of the
 *   master's own share), and would have ended a floor sooner without
 *   them, holds default teams at the threads that were on time, for
 *   CREG_TEAM_HOLD_MIN seconds, doubling up to CREG_TEAM_HOLD_MAX while
 *   it recurs soon after a hold ends (teams late during a hold extend it
 *   by the same span); once it is confirmed: by another late team among the
 *   last CREG_TEAM_CONFIRM_RUNS, or by a hold in force (on an idle VM a
 *   worker is now and then a millisecond late when the hypervisor or an
 *   interrupt takes its core, and holding for each of those made the
 *   default slower than the whole team; the first team after a hold is
 *   late alone too, since its workers slept through the hold and wake
 *   late on a VM; benchmarks/README.md);
 * - the load: when a hold ends, and before the first default team, the
 *   tasks running or waiting to run system-wide (Linux's /proc/loadavg,
 *   about 2 us to read), less our own among them (the caller, and the
 *   last team's workers that still spin: each one's state in
 *   /proc/self/task, read after the load so that a worker falling asleep
 *   in between counts as another's), are the cores taken; while they
 *   leave fewer cores than the team would use, the team is held at what
 *   they leave, CREG_TEAM_LOOK_SECONDS at a time;
 * - probes: tasks are not cores (one that sleeps often leaves its core to
 *   a thread that wakes), so after the load has held the team for the
 *   last hold's length the whole team runs once; a team larger than the
 *   hold that is on time ends the hold, a late one holds longer.
 *
 * So a busy core costs a late region once per hold (50 ms growing to 1.6
 * s), not one per region, and a machine whose other processes never
 * delay a team is never looked at.  A request for exactly k threads is
 * never changed.  Results do not depend on the team, so the policy
 * changes speed only.
 */
#ifndef CREG_TEAM_H
#define CREG_TEAM_H

#define CREG_TEAM_LOOK_SECONDS 0.02
/* Above a worker's wake-up from sleep (60-130 us on a KVM guest, less on
 * bare metal) and below a scheduler's time slice (ms).  A vCPU that idled
 * can take 4 ms to wake (a Zen 3 VM): that lone late team holds nothing. */
#define CREG_TEAM_LATE_FLOOR 200e-6
#define CREG_TEAM_LATE_SHARE 0.5
#define CREG_TEAM_HOLD_MIN 0.05
#define CREG_TEAM_HOLD_MAX 1.6
/* A late team confirms one seen at most this many teams before it. */
#define CREG_TEAM_CONFIRM_RUNS 8
/* How long the affinity mask's CPU count, which caps a default team, is
 * kept before it is read again (a syscall of about a microsecond). */
#define CREG_TEAM_CPUS_SECONDS 1.0

/* Threads of a team whose arrival and finish are timed (the rest run
 * untimed). */
#define CREG_TEAM_WATCH 64

/* When a team's threads started and finished their share (seconds on one
 * clock): written by each thread, read by the master after the join. */
typedef struct {
    double start; /* the master, before the fork */
    double arrive[CREG_TEAM_WATCH], leave[CREG_TEAM_WATCH];
    int tid[CREG_TEAM_WATCH]; /* each thread's id (creg_team_tid) */
} creg_team_clock;

/* What the system runs: tasks running or runnable, how many of them are
 * ours (at least 1: the caller), and CPUs online; runnable < 0 when not
 * looked at or unknown. */
typedef struct {
    int runnable, ours, cpus;
} creg_team_load;

/* The policy's state; all zero is the start (nothing seen yet). */
typedef struct {
    int held_team;    /* the most threads a default team gets until ... */
    double hold_end;  /* ... this time */
    double span;      /* the last hold for lateness; the wait for a probe */
    double next_look; /* when to look at the load (a hold's end, or never) */
    int probe_armed;  /* the load holds the team: try it whole at ... */
    double probe_at;  /* ... this time */
    int probing;      /* the last team decided was such a probe */
    int late_recent;  /* teams to go while a late one can confirm it */
    long long decided, held; /* default teams, and those held back */
} creg_team_policy;

/* The pure policy, for the runtime below and the tests: */
/* whether decide wants a look at the load at time `now` */
int creg_team_look_due(const creg_team_policy *p, double now);
/* the team (1..most) for a default request at `now`; the load counts
 * only when a look is due */
int creg_team_decide(creg_team_policy *p, int most, double now,
                     creg_team_load load);
/* the threads of a team that arrived or finished late, 0 when the team
 * was still faster than the threads on time alone would have been */
int creg_team_late(const creg_team_clock *clock, int team);
/* a team of `team` threads, `late` of them late, ran until `now` */
void creg_team_watch(creg_team_policy *p, int team, int late, double now);

/* The process's policy (thread-safe): the team for a request (k > 0:
 * exactly k; -T: a default team of at most T and of at most the CPUs the
 * process may run on), and a team that ran. */
int creg_team_size(int request);
void creg_team_ran(const creg_team_clock *clock, int team);
/* the process's counts of default teams and of those held back */
void creg_team_counts(long long *decided, long long *held);
/* the calling thread's id for the OS (0 where there is none) */
int creg_team_tid(void);
/* For the tests of the look at the load: an empty region of exactly
 * `team` threads, timed like any other; and the load a default team of
 * `most` would be decided on now. */
void creg_team_run_empty(int team);
creg_team_load creg_team_look(int most);

#endif

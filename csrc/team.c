/* team.c -- the size of a default team: as many threads as other
 * processes leave cores for (team.h says how).  Untyped, compiled once.
 *
 * The policy (creg_team_decide, _late, _watch) is pure: it sees the time
 * and the load as arguments, so the tests drive it with made-up ones.  The
 * process's state lives here, behind one named critical section, taken
 * before a default team and after every team (tens of ns against regions
 * of 20 us and up).
 */
#include <math.h>
#include <string.h>

#include "threads.h"

#if defined(__linux__)
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

int
creg_team_look_due(const creg_team_policy *p, double now)
{
    return now >= p->next_look;
}

static void
hold(creg_team_policy *p, int team, double until)
{
    p->held_team = team;
    p->hold_end = until;
    p->next_look = until;
}

int
creg_team_decide(creg_team_policy *p, int most, double now,
                 creg_team_load load)
{
    if (load.runnable >= 0 && creg_team_look_due(p, now)) {
        const int ours = load.ours > 1 ? load.ours : 1;
        const int others = load.runnable > ours ? load.runnable - ours : 0;
        const int free_cores = load.cpus - others;
        if (free_cores < most) {
            hold(p, free_cores > 1 ? free_cores : 1,
                 now + CREG_TEAM_LOOK_SECONDS);
            if (!p->probe_armed) {
                p->probe_armed = 1;
                p->probe_at = now + (p->span > 0 ? p->span
                                                 : CREG_TEAM_HOLD_MIN);
            }
        } else {
            p->next_look = HUGE_VAL; /* until a team is late */
            p->probe_armed = 0;
        }
    }
    int team = now < p->hold_end && p->held_team < most ? p->held_team
                                                        : most;
    if (team < most && p->probe_armed && now >= p->probe_at) {
        /* the load counts tasks, not what they leave of the cores: try */
        team = most;
        p->probe_armed = 0;
        p->probing = 1;
    }
    p->decided += 1;
    p->held += team < most;
    return team;
}

int
creg_team_late(const creg_team_clock *clock, int team)
{
    const int watched = team < CREG_TEAM_WATCH ? team : CREG_TEAM_WATCH;
    const double own = clock->leave[0] - clock->arrive[0];
    const double limit = CREG_TEAM_LATE_SHARE * own > CREG_TEAM_LATE_FLOOR
                             ? CREG_TEAM_LATE_SHARE * own
                             : CREG_TEAM_LATE_FLOOR;
    int late = 0;
    double share = own, end = clock->leave[0];
    for (int t = 1; t < watched; ++t) {
        late += clock->arrive[t] - clock->start > limit
                || clock->leave[t] - clock->leave[0] > limit;
        const double busy = clock->leave[t] - clock->arrive[t];
        share = busy < share ? busy : share;
        end = clock->leave[t] > end ? clock->leave[t] : end;
    }
    if (late == 0) {
        return 0;
    }
    /* Late threads count only if the others, each taking its part of
     * their work, would have ended the region a floor sooner: a worker
     * that runs at half speed (a VM whose host shares its core) still
     * does as much as holding it back would save. */
    const double on_time_only = share * team / (team - late);
    return end - clock->start - on_time_only > CREG_TEAM_LATE_FLOOR ? late
                                                                     : 0;
}

void
creg_team_watch(creg_team_policy *p, int team, int late, double now)
{
    const int holding = now < p->hold_end;
    const int probe = p->probing;
    p->probing = 0;
    if (late <= 0) {
        if (holding && team > p->held_team) {
            /* more threads than held were on time: the cores are free */
            p->hold_end = now;
            p->next_look = HUGE_VAL;
            p->probe_armed = 0;
        }
        p->late_recent -= p->late_recent > 0;
        return;
    }
    /* Late during a hold, or after another late team: hold.  The first
     * team after a hold counts as lone: its workers slept through the
     * hold, and waking them is late on a VM (0.4-4 ms). */
    const int confirmed = holding || p->late_recent > 0;
    if (!confirmed) {
        p->late_recent = CREG_TEAM_CONFIRM_RUNS;
        return; /* a lone late team: wait for another */
    }
    p->late_recent = 0; /* the hold answers the late teams so far */
    /* late again soon after a hold ended, or a late probe: hold longer.
     * Other teams late during a hold (explicit ones) extend it by the
     * same span: a burst of them while another library's threads spin is
     * one episode, where doubling per team reached HOLD_MAX within one. */
    const int recurs = (probe || !holding) && now < p->hold_end + p->span;
    const double span = recurs ? 2 * p->span : 0;
    p->span = span < CREG_TEAM_HOLD_MIN   ? CREG_TEAM_HOLD_MIN
              : span < CREG_TEAM_HOLD_MAX ? span
                                          : CREG_TEAM_HOLD_MAX;
    const int on_time = team - late > 1 ? team - late : 1;
    hold(p, holding && p->held_team < on_time ? p->held_team : on_time,
         now + p->span);
    p->probe_armed = 0;
}

/* The process's policy, and the threads of the last team that ran (for
 * the look at the load). */
static creg_team_policy policy;
static int last_tids[CREG_TEAM_WATCH], last_tid_count;
/* The CPUs the process may run on (its affinity mask, as OpenMP counts
 * them), read again at a default team once CREG_TEAM_CPUS_SECONDS have
 * passed (taskset -p may change it): more threads than that only wait for
 * each other (OMP_NUM_THREADS=1000 on 2 CPUs: 3.4x the time of one
 * thread), so a default team never has more. */
static int usable_cpus;
static double cpus_read_at = -HUGE_VAL;

int
creg_team_tid(void)
{
#if defined(__linux__)
    static _Thread_local int tid;
    if (tid == 0) {
        tid = (int)syscall(SYS_gettid);
    }
    return tid;
#else
    return 0;
#endif
}

#if defined(__linux__)
/* The text of a small file under /proc (0 when it cannot be read). */
static int
read_proc(const char *path, char *text, size_t size)
{
    const int fd = open(path, O_RDONLY);
    if (fd < 0) {
        return 0;
    }
    const ssize_t n = read(fd, text, size - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    text[n] = '\0';
    return 1;
}

/* Whether thread `tid` of this process runs or waits to run: the state
 * after the name in /proc/self/task/<tid>/stat ("123 (name) R ..."). */
static int
thread_runs(int tid)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    if (!read_proc(path, text, sizeof text)) {
        return 0;
    }
    const char *name_end = strrchr(text, ')');
    return name_end != NULL && name_end[1] == ' ' && name_end[2] == 'R';
}
#endif

/* Tasks running or runnable and CPUs online, from /proc/loadavg's fourth
 * field ("running/total", about 1.3 us to read), and those of them that
 * are ours; unknown elsewhere.  Our workers' states (2 us each) are read
 * only when they can change the decision for a team of `most`: when the
 * tasks other than the caller leave fewer cores than that.  Called inside
 * the policy's critical section (it reads last_tids). */
static creg_team_load
look_at_load(int most)
{
    creg_team_load load = {-1, 1, 0};
#if defined(__linux__)
    char text[128];
    if (!read_proc("/proc/loadavg", text, sizeof text)) {
        return load;
    }
    /* "0.52 0.58 0.59 3/481 12345": skip three fields */
    const char *s = text;
    for (int field = 0; field < 3 && s != NULL; ++field) {
        s = strchr(s, ' ');
        s = s != NULL ? s + 1 : NULL;
    }
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (s == NULL || cpus <= 0) {
        return load;
    }
    load.runnable = (int)strtol(s, NULL, 10);
    load.cpus = (int)cpus;
    if (load.cpus - (load.runnable - 1) >= most) {
        return load; /* the team fits whoever the others are */
    }
    const int me = creg_team_tid();
    for (int t = 0; t < last_tid_count; ++t) {
        load.ours += last_tids[t] != me && last_tids[t] > 0
                     && thread_runs(last_tids[t]);
    }
#endif
    return load;
}

int
creg_team_size(int request)
{
    if (request > 0) {
        return request;
    }
    const double now = creg_team_now();
    int team;
#ifdef _OPENMP
#pragma omp critical(creg_team)
#endif
    {
        if (now >= cpus_read_at + CREG_TEAM_CPUS_SECONDS) {
#ifdef _OPENMP
            usable_cpus = omp_get_num_procs();
#endif
            usable_cpus = usable_cpus > 1 ? usable_cpus : 1;
            cpus_read_at = now;
        }
        const int most = -request < usable_cpus ? -request : usable_cpus;
        const creg_team_load unknown = {-1, 1, 0};
        team = creg_team_decide(&policy, most, now,
                                creg_team_look_due(&policy, now)
                                    ? look_at_load(most)
                                    : unknown);
    }
    return team;
}

void
creg_team_ran(const creg_team_clock *clock, int team)
{
    const int late = creg_team_late(clock, team);
    const double now = creg_team_now();
#ifdef _OPENMP
#pragma omp critical(creg_team)
#endif
    {
        creg_team_watch(&policy, team, late, now);
        last_tid_count = team < CREG_TEAM_WATCH ? team : CREG_TEAM_WATCH;
        memcpy(last_tids, clock->tid, sizeof(int) * (size_t)last_tid_count);
    }
}

void
creg_team_run_empty(int team)
{
    CREG_TEAM(team, (void)0);
}

creg_team_load
creg_team_look(int most)
{
    creg_team_load load;
#ifdef _OPENMP
#pragma omp critical(creg_team)
#endif
    load = look_at_load(most);
    return load;
}

void
creg_team_counts(long long *decided, long long *held)
{
#ifdef _OPENMP
#pragma omp critical(creg_team)
#endif
    {
        *decided = policy.decided;
        *held = policy.held;
    }
}

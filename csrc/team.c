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
#include <stdlib.h>
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
        /* the last team's workers run or spin for a while after their
         * region: they are ours, not another process's */
        const int ours = p->last_team > 0 ? p->last_team : 1;
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
    }
    p->last_team = team;
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
    for (int t = 1; t < watched; ++t) {
        late += clock->arrive[t] - clock->start > limit
                || clock->leave[t] - clock->leave[0] > limit;
    }
    return late;
}

void
creg_team_watch(creg_team_policy *p, int team, int late, double now)
{
    p->last_team = team;
    const int holding = now < p->hold_end;
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
    /* late again during a hold or soon after it: hold longer */
    const int recurs = now < p->hold_end + p->span;
    const int confirmed = holding || recurs || p->late_recent > 0;
    p->late_recent = CREG_TEAM_CONFIRM_RUNS;
    if (!confirmed) {
        return; /* a lone late team: wait for another */
    }
    const double span = recurs ? 2 * p->span : 0;
    p->span = span < CREG_TEAM_HOLD_MIN   ? CREG_TEAM_HOLD_MIN
              : span < CREG_TEAM_HOLD_MAX ? span
                                          : CREG_TEAM_HOLD_MAX;
    const int on_time = team - late > 1 ? team - late : 1;
    hold(p, holding && p->held_team < on_time ? p->held_team : on_time,
         now + p->span);
    p->probe_armed = 0;
}

/* Tasks running or runnable and CPUs online, from /proc/loadavg's fourth
 * field ("running/total", about 2 us to read); unknown elsewhere. */
static creg_team_load
look_at_load(void)
{
    creg_team_load load = {-1, 0};
#if defined(__linux__)
    char text[128];
    const int fd = open("/proc/loadavg", O_RDONLY);
    if (fd < 0) {
        return load;
    }
    const ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) {
        return load;
    }
    text[n] = '\0';
    /* "0.52 0.58 0.59 3/481 12345": skip three fields */
    const char *s = text;
    for (int field = 0; field < 3 && s != NULL; ++field) {
        s = strchr(s, ' ');
        s = s != NULL ? s + 1 : NULL;
    }
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (s != NULL && cpus > 0) {
        load.runnable = (int)strtol(s, NULL, 10);
        load.cpus = (int)cpus;
    }
#endif
    return load;
}

static creg_team_policy policy;

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
        const creg_team_load unknown = {-1, 0};
        team = creg_team_decide(&policy, -request, now,
                                creg_team_look_due(&policy, now)
                                    ? look_at_load()
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
    creg_team_watch(&policy, team, late, now);
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

/* threads.h -- running a share of work on an OpenMP team (CREG_TEAM), and
 * the team size from a caller's n_threads (<= 0: OpenMP's default; 1
 * without OpenMP). */
#ifndef CREG_THREADS_H
#define CREG_THREADS_H

#ifdef _OPENMP
#include <omp.h>
#endif

#include "blocking.h" /* CREG_PARALLEL_MIN and the other thresholds */

#define CREG_STR(x) #x
#define CREG_OMP_PARALLEL(nt) _Pragma(CREG_STR(omp parallel num_threads(nt)))

/* Runs `call` on a team of nt threads if `worth`, else directly on the
 * calling thread.  An OpenMP region is not free even with one thread (or a
 * false if clause): libgomp ends it in a barrier that makes a futex
 * syscall, several per step of a small network.  `call` may run orphaned
 * worksharing loops (omp for), which a lone thread runs whole. */
#define CREG_TEAM(nt, worth, call)                                            \
    do {                                                                      \
        if ((nt) > 1 && (worth)) {                                            \
            CREG_OMP_PARALLEL(nt)                                             \
            call;                                                             \
        } else {                                                              \
            call;                                                             \
        }                                                                     \
    } while (0)

/* This thread's number in the current team, and the team's size (0 and 1
 * outside a team). */
static inline void
creg_team_position(int *me, int *team)
{
#ifdef _OPENMP
    *me = omp_get_thread_num();
    *team = omp_get_num_threads();
#else
    *me = 0;
    *team = 1;
#endif
}

/* The part [*first, *first + *count) of n units of work that this thread
 * of the current team takes: a fixed split, so that each unit's result
 * does not depend on the team. */
static inline void
creg_my_share(ptrdiff_t n, ptrdiff_t *first, ptrdiff_t *count)
{
    int me, team;
    creg_team_position(&me, &team);
    *first = n * me / team;
    *count = n * (me + 1) / team - *first;
}

static inline int
creg_threads_for(int n_threads)
{
#ifdef _OPENMP
    return n_threads > 0 ? n_threads : omp_get_max_threads();
#else
    (void)n_threads;
    return 1;
#endif
}

#endif

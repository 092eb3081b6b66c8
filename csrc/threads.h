/* threads.h -- running a share of work on an OpenMP team (CREG_TEAM), and
 * the team request from a caller's n_threads (creg_threads_for).
 *
 * A request k > 0 is a team of exactly k threads.  The default (n_threads
 * <= 0) is the request -T, T = OpenMP's default team (OMP_NUM_THREADS,
 * threadpoolctl, else the cores): at most T threads and the CPUs the
 * process may run on, as many as team.c's policy finds cores for when
 * other processes hold some.  Without OpenMP
 * every request is 1. */
#ifndef CREG_THREADS_H
#define CREG_THREADS_H

#include <stddef.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "blocking.h" /* CREG_PARALLEL_MIN and the other thresholds */
#include "team.h"     /* the default team's size */

#define CREG_STR(x) #x
#define CREG_OMP_PARALLEL(nt) _Pragma(CREG_STR(omp parallel num_threads(nt)))

/* Runs `call` on the team `request` asks for (creg_threads_for, or
 * creg_threads_for_work), or directly on the calling thread if it asks
 * for 1.  An OpenMP region is not free even with one thread
 * (or a false if clause): libgomp ends it in a barrier that makes a futex
 * syscall, several per step of a small network.  `call` may run orphaned
 * worksharing loops (omp for), which a lone thread runs whole.  Each thread
 * clocks its share, so that the policy sees workers that another process
 * kept from their core.  `call`'s share functions split their work among
 * the team they find themselves in, so a function that may itself run on
 * a team's thread calls the loops of a single thread, never CREG_TEAM
 * with a request of 1. */
#define CREG_TEAM(request, call)                                              \
    do {                                                                      \
        const int team_ = (request) != 1 ? creg_team_size(request) : 1;       \
        if (team_ > 1) {                                                      \
            creg_team_clock clock_;                                           \
            clock_.start = creg_team_now();                                   \
            CREG_OMP_PARALLEL(team_)                                          \
            {                                                                 \
                const int me_ = creg_team_me();                               \
                creg_team_mark(clock_.arrive, me_);                           \
                creg_team_sign(clock_.tid, me_);                              \
                call;                                                         \
                creg_team_mark(clock_.leave, me_);                            \
            }                                                                 \
            creg_team_ran(&clock_, team_);                                    \
        } else {                                                              \
            call;                                                             \
        }                                                                     \
    } while (0)

static inline double
creg_team_now(void)
{
#ifdef _OPENMP
    return omp_get_wtime();
#else
    return 0;
#endif
}

static inline int
creg_team_me(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static inline void
creg_team_mark(double *when, int me)
{
    if (me < CREG_TEAM_WATCH) {
        when[me] = creg_team_now();
    }
}

static inline void
creg_team_sign(int *tid, int me)
{
    if (me < CREG_TEAM_WATCH) {
        tid[me] = creg_team_tid();
    }
}

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

/* This thread's part of n elements split in whole blocks of `block` (so
 * that threads do not share cache lines, and a kernel that works block by
 * block starts where it would alone). */
static inline void
creg_my_elements(ptrdiff_t n, ptrdiff_t block, ptrdiff_t *first,
                 ptrdiff_t *count)
{
    ptrdiff_t b0, nb;
    creg_my_share((n + block - 1) / block, &b0, &nb);
    *first = b0 * block < n ? b0 * block : n;
    *count = (b0 + nb) * block < n ? nb * block : n - *first;
}

/* The team request for a caller's n_threads (see the top of the file). */
static inline int
creg_threads_for(int n_threads)
{
#ifdef _OPENMP
    if (n_threads > 0) {
        return n_threads;
    }
    const int most = omp_get_max_threads();
    return most > 1 ? -most : 1;
#else
    (void)n_threads;
    return 1;
#endif
}

/* The team request for an elementwise pass over `count` elements that
 * splits into `parts` pieces (its rows, or the elements themselves): the
 * caller's from CREG_ELEMENTWISE_PARALLEL_MIN elements and two pieces on,
 * else 1. */
static inline int
creg_threads_for_elements(int n_threads, ptrdiff_t count, ptrdiff_t parts)
{
    return count >= CREG_ELEMENTWISE_PARALLEL_MIN && parts > 1
               ? creg_threads_for(n_threads)
               : 1;
}

/* The team request for a job of `work` units that splits into at most
 * `parts` pieces: the caller's (creg_threads_for), but no more threads than
 * pieces, nor than one per `share` units (blocking.h); 1, no team, when
 * that is one. */
static inline int
creg_threads_for_work(int n_threads, double work, double share,
                      double parts)
{
    const int request = creg_threads_for(n_threads);
    const double most = work / share < parts ? work / share : parts;
    if (most < 2) {
        return 1;
    }
    const int wanted = request > 0 ? request : -request;
    if (wanted <= most) {
        return request;
    }
    return request > 0 ? (int)most : -(int)most;
}

#endif

/* threads.h -- running a share of work on an OpenMP team (CREG_TEAM), and
 * the team size from a caller's n_threads (<= 0: OpenMP's default; 1
 * without OpenMP). */
#ifndef CREG_THREADS_H
#define CREG_THREADS_H

#ifdef _OPENMP
#include <omp.h>
#endif

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

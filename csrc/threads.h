/* threads.h -- the team size of an OpenMP region, from a caller's
 * n_threads (<= 0: OpenMP's default; 1 without OpenMP). */
#ifndef CREG_THREADS_H
#define CREG_THREADS_H

#ifdef _OPENMP
#include <omp.h>
#endif

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

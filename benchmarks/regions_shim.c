/* regions_shim.c -- counts and times libgomp's parallel regions and
 * barriers from outside creg (benchmarks/regions.py preloads it).
 *
 * GCC compiles `omp parallel` to a call of GOMP_parallel(fn, data, n,
 * flags) and the barrier ending an `omp for` to GOMP_barrier(); both go
 * through the PLT of creg's extension, so a library preloaded before
 * libgomp sees every call: it wraps fn to clock each thread's share and
 * forwards to libgomp.  Nothing in creg's build changes.  The shim links
 * libgomp (the system's: a wheel that bundles its own is not covered),
 * since creg's copy, loaded with the extension, is not visible to
 * RTLD_NEXT.  Regions of one process are assumed not to overlap (one
 * calling thread), as in a fit.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <time.h>

typedef void (*region_fn)(void *);
typedef void (*parallel_fn)(region_fn, void *, unsigned, unsigned);
typedef void (*barrier_fn)(void);

int omp_get_thread_num(void);

#define MAX_WATCHED 256

static struct {
    region_fn fn;
    void *data;
    double arrive[MAX_WATCHED], leave[MAX_WATCHED];
} current;

/* regions, barriers inside them (counted once, by thread 0), seconds
 * inside regions, summed worker lateness, summed wait of the master for
 * the last thread to finish, summed team size */
static double totals[6];
static __thread int in_region;

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void
clocked(void *unused)
{
    (void)unused;
    const int me = omp_get_thread_num();
    in_region = 1;
    if (me < MAX_WATCHED) {
        current.arrive[me] = now();
    }
    current.fn(current.data);
    if (me < MAX_WATCHED) {
        current.leave[me] = now();
    }
    in_region = 0;
}

void
GOMP_parallel(region_fn fn, void *data, unsigned n, unsigned flags)
{
    static parallel_fn forward;
    if (forward == NULL) {
        forward = (parallel_fn)dlsym(RTLD_NEXT, "GOMP_parallel");
    }
    const unsigned team = n < MAX_WATCHED ? n : MAX_WATCHED;
    current.fn = fn;
    current.data = data;
    for (unsigned t = 0; t < team; ++t) {
        current.arrive[t] = current.leave[t] = 0;
    }
    const double start = now();
    forward(clocked, NULL, n, flags);
    const double end = now();
    double late = 0, last = 0;
    for (unsigned t = 1; t < team; ++t) {
        late = current.arrive[t] - start > late ? current.arrive[t] - start
                                                : late;
    }
    for (unsigned t = 0; t < team; ++t) {
        last = current.leave[t] > last ? current.leave[t] : last;
    }
    totals[0] += 1;
    totals[2] += end - start;
    totals[3] += late;
    totals[4] += last - current.leave[0];
    totals[5] += n;
}

void
GOMP_barrier(void)
{
    static barrier_fn forward;
    if (forward == NULL) {
        forward = (barrier_fn)dlsym(RTLD_NEXT, "GOMP_barrier");
    }
    if (in_region && omp_get_thread_num() == 0) {
        totals[1] += 1;
    }
    forward();
}

/* The totals since the last reset (6 doubles, in the order above). */
void
regions_read(double *out)
{
    memcpy(out, totals, sizeof totals);
}

void
regions_reset(void)
{
    memset(totals, 0, sizeof totals);
}

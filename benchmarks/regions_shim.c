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
 * calling thread), as in a fit.  Each region is also recorded on its own
 * (the function it ran, the time since the previous region ended, its
 * length, its latest worker's arrival and the master's wait), so that
 * regions.py --by-region can say which of a step's regions the serial
 * time and the waits belong to.
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
 * the last thread to finish, summed team size, and the seconds the shim
 * spent on its own records after each region (dladdr takes microseconds:
 * regions.py counts it neither inside nor outside the regions) */
static double totals[7];

/* The regions since the last reset, one record each (the first
 * MAX_RECORDS): the outlined function's offset in its object and the
 * object's path, then RECORD_FIELDS values: seconds since the previous
 * region ended (0 for the first), inside, the latest worker's lateness,
 * the master's wait, the team. */
#define MAX_RECORDS 65536
#define RECORD_FIELDS 5
static struct {
    unsigned long offset;
    const char *object;
    double values[RECORD_FIELDS];
} records[MAX_RECORDS];
static int n_records;
static double last_end;
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
    if (n_records < MAX_RECORDS) {
        Dl_info info;
        const int found = dladdr((void *)fn, &info);
        records[n_records].offset =
            found ? (unsigned long)((char *)fn - (char *)info.dli_fbase) : 0;
        records[n_records].object = found ? info.dli_fname : NULL;
        const double values[RECORD_FIELDS] = {
            n_records > 0 ? start - last_end : 0, end - start, late,
            last - current.leave[0], (double)n};
        memcpy(records[n_records].values, values, sizeof values);
        ++n_records;
    }
    /* the next region's serial time starts after this bookkeeping */
    last_end = now();
    totals[6] += last_end - end;
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

/* The totals since the last reset (7 doubles, in the order above). */
void
regions_read(double *out)
{
    memcpy(out, totals, sizeof totals);
}

void
regions_reset(void)
{
    memset(totals, 0, sizeof totals);
    n_records = 0;
}

/* The regions recorded since the last reset. */
int
regions_count(void)
{
    return n_records;
}

/* Region i's RECORD_FIELDS values into out; returns its function's offset
 * in its object (0 if unknown) and sets *object to the object's path. */
unsigned long
regions_record(int i, double *out, const char **object)
{
    memcpy(out, records[i].values, sizeof records[i].values);
    *object = records[i].object;
    return records[i].offset;
}

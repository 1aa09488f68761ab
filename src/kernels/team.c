/* The thread team of frost's kernels: the OpenMP runtime oneDNN loaded
 * (libgomp), found at run time, so that frost's kernels run on the same
 * threads as oneDNN's; the calling thread alone where there is none.
 *
 * libgomp does not survive fork(): a child forked after its threads were
 * started waits forever in its first parallel region (the pool it inherited
 * names threads that were not copied).  So a process that forks after frost
 * ran a team of more than one thread runs every team of the child on the
 * calling thread alone: slower, never hung (a child forked after compiles
 * alone, which start no threads, keeps its teams).  That is process-wide by
 * nature (the runtime's threads are), the one state here that is not per
 * model. */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "kernels/kernels.h"

/* A symbol of the process as a function pointer of dst's type (NULL when
 * absent).  RTLD_DEFAULT from this library also sees its own dependencies
 * where it was opened with RTLD_LOCAL (Python's ctypes). */
#define TEAM_SYM(dst, name)                                                                                           \
    do {                                                                                                              \
        void *sym_ = dlsym(RTLD_DEFAULT, name);                                                                       \
        if (sym_) memcpy(&(dst), &sym_, sizeof(dst));                                                                 \
    } while (0)

static pthread_once_t team_fork_once = PTHREAD_ONCE_INIT;
static volatile sig_atomic_t team_started; /* this process ran a team of more than one thread */
static volatile sig_atomic_t team_forked;  /* ... and was forked since: its threads are not here */

/* omp_set_max_active_levels: 0 makes every parallel region of the child
 * one thread, whatever its num_threads clause (oneDNN's kernels ask for the
 * thread count they were made for) */
static void (*volatile team_set_levels)(int);

static void team_fork_child(void) {
    if (!team_started) return;
    team_forked = 1;
    if (team_set_levels) team_set_levels(0);
}

static void team_fork_watch(void) {
    (void)pthread_atfork(NULL, NULL, team_fork_child);
}

int fr_team_threads(const fr_team *t, int threads) {
    return t->parallel && threads > 1 && team_forked ? 1 : threads;
}

void fr_team_starting(const fr_team *t, int threads) {
    if (t->parallel && threads > 1 && !team_forked) team_started = 1;
}

void fr_team_init(fr_team *t) {
    (void)pthread_once(&team_fork_once, team_fork_watch);
    memset(t, 0, sizeof(*t));
    TEAM_SYM(t->set_max_threads, "omp_set_num_threads");
    TEAM_SYM(t->max_threads, "omp_get_max_threads");
    TEAM_SYM(t->in_parallel, "omp_in_parallel");
    fr_team team = {0};
    TEAM_SYM(team.parallel, "GOMP_parallel");
    TEAM_SYM(team.thread_num, "omp_get_thread_num");
    TEAM_SYM(team.team_size, "omp_get_num_threads");
    TEAM_SYM(team.barrier, "GOMP_barrier");
    void (*levels)(int) = NULL;
    TEAM_SYM(levels, "omp_set_max_active_levels");
    if (levels) team_set_levels = levels;
    if (team.parallel && team.thread_num && team.team_size && team.barrier) { /* all four or none */
        t->parallel = team.parallel;
        t->thread_num = team.thread_num;
        t->team_size = team.team_size;
        t->barrier = team.barrier;
    }
}

typedef struct {
    const fr_team *t;
    fr_team_task_fn fn;
    void *data;
} team_task;

static void team_entry(void *arg) {
    const team_task *k = arg;
    int team = k->t->team_size(), ithr = k->t->thread_num();
    if (team < 1 || ithr < 0 || ithr >= team) team = 1, ithr = 0;
    k->fn(k->data, ithr, team);
}

void fr_team_run(const fr_team *t, int threads, fr_team_task_fn fn, void *data) {
    if (fr_team_threads(t, threads) > 1 && !fr_team_nested(t)) {
        fr_team_starting(t, threads);
        team_task k = {t, fn, data};
        t->parallel(team_entry, &k, (unsigned)threads, 0);
    } else {
        fn(data, 0, 1);
    }
}

int fr_team_max_threads(const fr_team *t) {
    return t->max_threads ? t->max_threads() : 0;
}

void fr_team_set_max_threads(const fr_team *t, int threads) {
    if (t->set_max_threads) t->set_max_threads(fr_team_threads(t, threads));
}

void fr_team_barrier(const fr_team *t, int team) {
    if (team > 1 && t->barrier) t->barrier();
}

int fr_team_nested(const fr_team *t) {
    return t->in_parallel ? t->in_parallel() != 0 : 0;
}

#include "wait_policy.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const char *const wait_policy_names[WAIT_POLICIES] = {"auto", "passive", "active"};

/* argv[*i] as --wait-policy / --wait_policy; cli_flag's return values. */
static int wait_flag(int argc, char **argv, int *i, const char **v) {
    int r = cli_flag(argc, argv, i, "wait-policy", v);
    return r ? r : cli_flag(argc, argv, i, "wait_policy", v);
}

/* Whether variable `name` is `want` (NULL: unset); if not, sets it so. */
static int env_is(const char *name, const char *want) {
    const char *v = getenv(name);
    if (want ? v && !strcmp(v, want) : !v) return 1;
    if (want) setenv(name, want, 1);
    else unsetenv(name);
    return 0;
}

/* The environment of each policy: OMP_WAIT_POLICY, GOMP_SPINCOUNT (NULL:
 * unset).  auto: 1000 spins (~20 us on Zen 5) instead of libgomp's 300,000,
 * then sleep: the idle speed of spinning between a run's steps, and nearly
 * passive's under other load (docs/performance.md). */
static const char *const policy_env[WAIT_POLICIES][2] = {
    [WAIT_AUTO] = {NULL, "1000"},
    [WAIT_PASSIVE] = {"passive", NULL},
    [WAIT_ACTIVE] = {"active", NULL},
};

void wait_policy_enforce(int argc, char **argv) {
    int policy = WAIT_AUTO;
    for (int i = 1; i < argc;) {
        const char *v = NULL;
        int r = wait_flag(argc, argv, &i, &v);
        if (r < 0) return;
        if (r == 0) {
            i++;
            continue;
        }
        for (int k = 0; k < WAIT_POLICIES; k++)
            if (!strcmp(v, wait_policy_names[k])) policy = k;
    }
    if (policy == WAIT_AUTO && (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT"))) return;
    int same = env_is("OMP_WAIT_POLICY", policy_env[policy][0]);
    same &= env_is("GOMP_SPINCOUNT", policy_env[policy][1]);
    if (same) return;
    fflush(NULL);
    execv("/proc/self/exe", argv);
}

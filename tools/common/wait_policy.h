/* How the threads of the OpenMP team (oneDNN's primitives and frost's own
 * kernels run on it) wait between and inside parallel steps: the engine flag
 * --wait-policy, taken by every command that takes --threads.
 *
 *   auto     (the default) the environment's OMP_WAIT_POLICY / GOMP_SPINCOUNT
 *            where it sets either, else GOMP_SPINCOUNT=1000: a thread with no
 *            work spins briefly (~20 us, not libgomp's milliseconds), then
 *            sleeps, so that another process (or a thread of the team held
 *            back on a busy core) gets its core
 *   passive  OMP_WAIT_POLICY=passive (GOMP_SPINCOUNT unset): sleep at once
 *   active   OMP_WAIT_POLICY=active (GOMP_SPINCOUNT unset): threads spin
 *
 * libgomp reads these variables once, when it loads (with oneDNN, before
 * main), so no library call can change them afterwards: the CLI sets them
 * in its environment and restarts itself (execv of /proc/self/exe) before a
 * command runs, when they differ from the policy's.  Measured in
 * docs/performance.md (bench/foreign_load.py). */
#ifndef FROST_WAIT_POLICY_H
#define FROST_WAIT_POLICY_H

enum { WAIT_AUTO, WAIT_PASSIVE, WAIT_ACTIVE, WAIT_POLICIES };
extern const char *const wait_policy_names[WAIT_POLICIES];

/* The flag's value in argv[1 ..] (its last valid occurrence; WAIT_AUTO
 * without one): when the environment differs from that policy's, sets it
 * and restarts the program with the same arguments.  Returns where no
 * restart is needed or it fails (the process then keeps the runtime's
 * policy).  A bad value is left to the command's parser to refuse. */
void wait_policy_enforce(int argc, char **argv);

#endif

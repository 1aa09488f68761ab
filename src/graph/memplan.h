/* frost's memory planner: where each activation lives in the arena.
 *
 * Every run-time value of a plan (fr_value with kind FR_VALUE_ARENA) gets a
 * byte offset in ONE activation arena of plan->arena_bytes bytes, allocated
 * by each context (plan.h).  Values that are never needed at the same time
 * share bytes, so the arena is far smaller than the sum of the activations.
 *
 * Time
 * ----
 *   Step i of the plan runs at time i.  The runtime copies the model's inputs
 *   into the arena at time -1, before the first step, one input after the
 *   other in the plan's input order, and copies the outputs out at time
 *   n_steps, after the last step.
 *
 * Lifetimes (fr_value_lifetimes)
 * ---------
 *   A value's lifetime is the closed interval [first, last]:
 *     first  the step that writes it; -1 for a model input; n_steps for a
 *            value no step writes (a constant);
 *     last   the last step that reads it (as an input or as a fused
 *            residual, fr_step_residual()), or writes it when nothing later
 *            reads it; n_steps for a model output; -1 for an input that no
 *            step reads.
 *   Every step writes exactly one value and no value has two writers, so for
 *   an arena value first <= last.  Only arena values' lifetimes mean
 *   anything; a value is live at step s when first <= s <= last.
 *   The planner and fr_plan_arena_gap() (plan.h: where a kernel may keep
 *   temporaries during its step) both read lifetimes from this one function,
 *   so a kernel's temporaries never land on a value the planner considers
 *   live.
 *
 * Sizes (fr_value_arena_bytes)
 * -----
 *   A value takes count x 4 bytes rounded up to FR_ARENA_ALIGN (64), and at
 *   least FR_ARENA_ALIGN (an empty value still gets an offset of its own).
 *
 * Strategy (fr_memplan_place)
 * --------
 *   Input: blocks (size + lifetime) in order of definition, output: an offset
 *   per block and the arena's size.  The contract any strategy must keep:
 *     - every offset is a multiple of FR_ARENA_ALIGN and
 *       offset + bytes <= the returned arena size <= cap;
 *     - blocks j < k occupy disjoint bytes whenever block j is still live when
 *       block k is written: last_j >= max(first_k, 0).  (Time -1 is not
 *       shared: the inputs are copied in one after the other, so an input no
 *       step reads may hand its bytes to the inputs after it.)
 *   Today's strategy is greedy best fit over lifetimes: blocks are placed in
 *   order; before placing block k, the blocks that died before first_k (or
 *   before step 0) are released; block k then takes the smallest gap between
 *   the live blocks (ordered by offset) that fits it, the lowest such gap on
 *   a tie, or else the end of the last live block.  Deterministic: the same
 *   plan always gets the same offsets.  A later strategy (for example one
 *   that places the largest blocks first) replaces fr_memplan_place() alone.
 *
 * fr_memplan_arena() joins the three for a finished plan: lifetimes, one
 * block per arena value in order of definition (the inputs in plan order,
 * each once, then each step's output in step order), the strategy, and the
 * offsets per value.
 */
#ifndef FR_MEMPLAN_H
#define FR_MEMPLAN_H

#include <stddef.h>

#include "graph/plan.h"

/* Fills first[v] and last[v] for every value v < p->n_values of p (see
 * Lifetimes above).  The arrays have p->n_values entries. */
void fr_value_lifetimes(const fr_plan *p, int *first, int *last);

/* The arena bytes value v takes (see Sizes above). */
static inline size_t fr_value_arena_bytes(const fr_value *v) {
    size_t size = (v->count * sizeof(float) + FR_ARENA_ALIGN - 1) & ~(size_t)(FR_ARENA_ALIGN - 1);
    return size ? size : FR_ARENA_ALIGN;
}

/* One block for the strategy. */
typedef struct fr_mem_block {
    size_t bytes;  /* in: > 0, a multiple of FR_ARENA_ALIGN */
    int first;     /* in: written at this time (-1 .. n_steps - 1) */
    int last;      /* in: last read at this time (>= first; n_steps: read after the last step) */
    size_t offset; /* out: byte offset in the arena */
} fr_mem_block;

/* Gives blocks[0..n-1] (ordered by first, ties in any order) their offsets
 * (see Strategy above) and *arena_bytes the end of the highest block (0 when
 * n is 0).  FROST_E_LIMIT when a block would end beyond `cap` bytes: *failed
 * is its index and the offsets are incomplete; FROST_E_NO_MEMORY. */
frost_status fr_memplan_place(fr_mem_block *blocks, int n, size_t cap, size_t *arena_bytes, int *failed);

/* Plans p's arena: offsets[v] (p->n_values entries) for every arena value v
 * of p, 0 for the other values, and *arena_bytes the arena's size (at least
 * FR_ARENA_ALIGN).  p's own offsets and arena_bytes are not read.
 * FROST_E_LIMIT when the activations need more than `cap` bytes: *failed_value
 * is the value that does not fit; FROST_E_NO_MEMORY (*failed_value -1). */
frost_status fr_memplan_arena(const fr_plan *p, size_t cap, size_t *offsets, size_t *arena_bytes,
                              int *failed_value);

#endif

/* Internal state of the compiler while it lowers graph nodes to plan steps.
 * Op lowering functions (src/ops/ family files) use this API: read inputs (constant or
 * not), infer the output shape, then either emit a step or produce a constant. */
#ifndef FR_BUILDER_H
#define FR_BUILDER_H

#include "graph/graph.h"
#include "graph/plan.h"

#define FR_MAX_OUTPUTS 8
/* Largest tensor (elements) the compiler accepts: 1 GiB of floats, the same
 * bound as for a constant in the file (FR_PB_MAX_ELEMENTS). */
#define FR_MAX_ELEMENTS ((size_t)FR_PB_MAX_ELEMENTS)
/* Compile-time data budget: the bytes the compiler allocates for one plan
 * (folded constants, decoded / converted constants, fused weights, scale and
 * shift vectors) may not exceed max(FR_MIN_DATA_BUDGET, FR_DATA_BUDGET_FACTOR x
 * the GraphDef's size) -- a small file cannot make the compiler materialise
 * gigabytes (FROST_E_LIMIT, naming the node). */
#define FR_MIN_DATA_BUDGET ((size_t)64 << 20)
#define FR_DATA_BUDGET_FACTOR 8
/* Activation arena of one plan: at most max(FR_MAX_ARENA_BYTES,
 * batch x FR_MAX_ARENA_BYTES_PER_ITEM) (FROST_E_LIMIT beyond, naming the value). */
#define FR_MAX_ARENA_BYTES ((size_t)4 << 30)
#define FR_MAX_ARENA_BYTES_PER_ITEM ((size_t)256 << 20)

typedef struct fr_ival {
    fr_value v;
    int dtype;      /* TensorFlow dtype (constants may be integer; runtime values are float) */
    int producer;   /* step index or -1 */
    int uses;       /* readers among live steps */
    int is_output;  /* a model output */
    int is_input;   /* a model input */
    int owned;      /* v.data is a block owned by the builder (may be modified in place) */
    const uint8_t *raw; /* lazy constant: unaligned little-endian float32 bytes in the file map, v.data NULL
                           until fr_b_data() copies them (conv filters take the bytes as they are) */
    int batch_lead; /* run-time value whose dims[0] is the batch: a model input, or the output of a
                       step that has such an input with the same dims[0] (see fr_b_emit) */
} fr_ival;

typedef struct fr_builder {
    const frost_graph *g;
    int batch;
    int optimize;
    int int8; /* FROST_PRECISION_INT8: fr_fuse_int8 (fuse.h) runs */
    fr_ival *vals;
    int nv, cap_v;
    fr_step *steps;
    int ns, cap_s;
    int (*node_out)[FR_MAX_OUTPUTS]; /* value id per node output, -1 if none */
    const fr_node *node;             /* node being lowered (for messages) */
    void **blocks;                   /* owned allocations */
    size_t *block_sizes;
    int nb, cap_b;
    size_t alloc_bytes, alloc_budget; /* see FR_MIN_DATA_BUDGET */
    char **err;
    frost_status status;
    /* statistics */
    int folded_nodes, folded_batchnorms, fused_ops, identity_nodes;
} fr_builder;

/* Allocation owned by the plan; NULL (and status set) on failure. */
void *fr_b_alloc(fr_builder *b, size_t size);
/* Tells the kernel that the bytes [p, p + bytes) of the memory-mapped GraphDef
 * are not needed any more (their data was copied or folded): the whole pages
 * inside the range are dropped from the resident set (madvise DONTNEED on the
 * read-only mapping; a later read faults them in again from the file).  Does
 * nothing for memory that is not the graph's file mapping. */
void fr_graph_release_range(const frost_graph *g, const void *p, size_t bytes);

/* Fail lowering of the current node; always returns -1. */
int fr_b_fail(fr_builder *b, frost_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Value of data input `i` of the current node (-1 after fr_b_fail if missing). */
int fr_b_input(fr_builder *b, int i);
static inline fr_ival *fr_b_val(fr_builder *b, int id) { return &b->vals[id]; }
static inline int fr_b_is_const(fr_builder *b, int id) { return b->vals[id].v.kind == FR_VALUE_CONST; }
/* The elements of constant `id` (copied out of the file first if it is lazy,
 * see fr_ival.raw); NULL after fr_b_fail. */
const float *fr_b_data(fr_builder *b, int id);
/* Reads a constant as integers (up to max); returns the count or -1 (fails the node). */
int fr_b_const_ints(fr_builder *b, int id, int64_t *out, int max, const char *what);

/* A new constant value; `data` has the shape's count of floats and is taken
 * over if owned (allocated with fr_b_alloc) or referenced if not. */
int fr_b_const(fr_builder *b, int dtype, int rank, const int64_t *dims, const float *data, int owned);
/* A new runtime value (float) of the given shape. */
int fr_b_value(fr_builder *b, int rank, const int64_t *dims);

/* Emits step `s` (kind, params, label set by the caller) reading `inputs`
 * and producing a new value of the given shape.  If every input is constant
 * the step is executed right away (constant folding, in every mode) and the
 * result is a constant.  `force_fold` is reserved (pass 0).  Returns the
 * output value id or -1. */
int fr_b_emit(fr_builder *b, fr_step *s, const int *inputs, int n_inputs, int rank, const int64_t *dims, int force_fold);

/* Sets output `k` of the current node. */
void fr_b_set_output(fr_builder *b, int k, int value);

/* Attribute helpers for the current node; defaults when absent, fail on malformed. */
int64_t fr_b_attr_int(fr_builder *b, const char *key, int64_t dflt);
float fr_b_attr_float(fr_builder *b, const char *key, float dflt);
/* Copies string attr into buf (NUL-terminated, truncated); returns 1 present, 0 absent. */
int fr_b_attr_str(fr_builder *b, const char *key, char *buf, size_t cap);
/* List of ints; returns count (0 when absent). */
int fr_b_attr_ints(fr_builder *b, const char *key, int64_t *out, int max);

static inline size_t fr_shape_count(int rank, const int64_t *dims) {
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    return n;
}

#endif

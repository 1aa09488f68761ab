/* The freezing of a signature (freeze.c and its parts), private to
 * src/savedmodel/: the context every part works on and what the parts call
 * of each other.
 *   freeze_parse.c   maps, errors, NodeDef / FunctionDef / OpDef parsing,
 *                    attributes, call targets
 *   freeze_state.c   the check that a signature leaves the state alone
 *   freeze_vars.c    variables: checkpoint keys from the object graphs,
 *                    each variable's value as one Const
 *   freeze_inline.c  the resolution of tensors: function calls inlined
 *                    (scopes), nodes emitted, on an explicit stack
 *   freeze.c         the driver: inputs, outputs, pruning, the GraphDef
 *                    written */
#ifndef FR_SM_FREEZE_H
#define FR_SM_FREEZE_H

#include <stddef.h>
#include <stdint.h>

#include "pb/pb.h"
#include "savedmodel/savedmodel.h"

#define FZ_MAX_DEPTH 64            /* nested function calls */
#define FZ_MAX_NODES FR_MAX_NODES  /* nodes of all scopes together */
#define FZ_MAX_FUNCTIONS (1 << 18)
#define FZ_MAX_OBJECTS (1 << 20)

/* string -> int, open addressing (keys owned elsewhere); each slot keeps
 * its key's hash and length, so that a probe compares strings only when
 * both match */
typedef struct {
    const char *key;
    uint32_t hash, len;
    int val;
} fz_slot;

typedef struct {
    fz_slot *slots;
    size_t cap, n;
} fz_map;

typedef struct {
    const char *key; /* in the parsed bytes: key_len bytes, not terminated */
    size_t key_len;
    const uint8_t *val;
    size_t len;
} fz_attr;

typedef struct {
    const char *name, *op;
    int n_in;         /* data inputs */
    const char **in;  /* as written */
    int n_ctrl;       /* control inputs, without the '^' */
    const char **ctrl;
    int n_attr;
    fz_attr *attr;
    const char *callee; /* cache of fz_call_target() */
    int callee_known;
    /* lazy: only name and op parsed yet (the outer graph's nodes, made by
     * fz_outer() as the signature reaches them); fz_ndef_full() parses the
     * rest */
    int lazy;
    const uint8_t *raw;
    size_t raw_len;
} fz_ndef;

typedef struct fz_fn {
    const char *name;
    const uint8_t *raw;
    size_t len;
    int parsed;
    int n_nodes;
    fz_ndef *nodes;
    fz_map idx;
    const uint8_t *sig; /* OpDef */
    size_t sig_len;
    int n_args;
    const char **args;
    fz_map arg_idx;
    int list_args; /* an argument of list type (number_attr / type_list_attr) */
    int n_rets;
    const char **rets; /* per output arg, in the signature's order */
    int mut;           /* state check: 0 not yet, 1 in progress, 2 clean, 3 changes state */
    const char *mut_node, *mut_op, *mut_fn;
} fz_fn;

typedef struct {
    const char *t; /* tensor in the frozen graph, or NULL for a variable handle */
    int var;       /* variable index when t is NULL */
    int e;         /* emitted node of t */
} fz_val;

typedef struct fz_scope {
    struct fz_scope *parent;
    fz_fn *fn; /* NULL: the meta graph's graph_def */
    int call;  /* the call node in parent */
    const char *prefix;
    int depth;
    int n;
    const fz_ndef *nodes;
    const fz_map *idx;
    unsigned char *state; /* 0 white, 1 gray, 2 black */
    int *emitted;         /* emitted node, -1 */
    fz_val **fwd;         /* forwarded outputs */
    int *n_fwd;
    struct fz_scope **child;
} fz_scope;

enum { EM_NODE, EM_VAR, EM_INPUT, EM_IDENTITY };

typedef struct {
    const char *name, *op;
    int kind;
    int n_in;
    fz_val *in;
    const fz_ndef *src; /* attributes (EM_NODE) */
    int var;            /* EM_VAR */
    int input;          /* EM_INPUT: signature input; EM_IDENTITY: output index */
    int keep, consumed, claimed;
} fz_emit;

typedef struct {
    int node; /* in the outer graph */
    const char *key;
    const fr_bundle_entry *entry;
    const uint8_t *data; /* CRC-32C checked, unless it stays in the shard (fz_var_external) */
    const char *final; /* the Const's name, once emitted */
    int e;
} fz_var;

typedef struct {
    const frost_savedmodel *sm;
    const fr_sm_meta_graph *mg;
    const fr_sm_signature *sig;
    char *desc;
    char **err;
    fr_pool pool;
    /* the outer graph: its NodeDefs indexed by name (the keys in the
     * saved_model.pb bytes), each made an fz_ndef by fz_outer() when first
     * used: a Keras export's outer graph is mostly the variables' and the
     * saver's nodes, which a signature does not reach, and every page of
     * fresh memory costs (a page fault, on virtual machines an exit too) */
    int n_nodes;
    fz_ndef *nodes;             /* malloc'ed, entry i valid once made[i] */
    unsigned char *made;
    const uint8_t **outer_raw; /* NodeDef i's bytes */
    size_t *outer_len;
    fz_map idx;
    fz_scope *outer;
    /* the function library and the op definitions */
    int n_fns;
    fz_fn *fns;
    fz_map fn_idx;
    fz_map op_idx;
    const uint8_t **op_raw;
    size_t *op_len;
    /* variables */
    const char **var_key; /* per outer node: checkpoint key from the object graph */
    int *var_of;          /* per outer node: variable index, -1 */
    unsigned char *reached; /* per outer node: reached by the outputs (the state check's walk) */
    int n_vars, cap_vars;
    fz_var *vars;
    /* signature inputs: "node:k" -> index */
    fz_map in_idx;
    fz_val *in_val;
    /* what is written */
    int n_em, cap_em;
    fz_emit *em;
    int external;       /* FR_SM_FREEZE_EXTERNAL */
    fr_sm_frozen *out;  /* its ext_name/ext_entry filled as variables are written */
    const char **ext_name; /* their Consts' names (pool strings) */
    fz_map names;
    long instantiated;
    /* the resolution stack */
    int sp, cap_sp;
    struct {
        fz_scope *s;
        int n;
    } *stack;
    fz_val *tmp; /* scratch for a node's inputs */
    int tmp_cap;
    frost_status status;
} fz_ctx;


/* ArgDef: name = 1, number_attr = 5, type_list_attr = 6. */
typedef struct {
    const uint8_t *name;
    size_t name_len;
    const uint8_t *number_attr, *list_attr;
    size_t number_len, list_len;
} fz_arg;


/* Whether a variable of entry `ent` whose bytes lie at `data` stays in its
 * mapped shard (FR_SM_FREEZE_EXTERNAL): float, more than one value, 4-byte
 * aligned, in a file mapping that the graph can keep (not a bundle in the
 * caller's memory).  Its CRC-32C is then left to the graph's owner
 * (fr_sm_frozen.ext_entry): the others' are checked as they are read. */
int fz_var_external(const fz_ctx *c, const fr_bundle_entry *ent, const uint8_t *data);

/* ---------------------------------------------------------------- freeze_parse.c */

/* The value of key[0..len), -1 when absent. */
int fz_map_get(const fz_map *m, const char *k, size_t len);
/* 0 added, 1 already there (value unchanged), -1 out of memory; _n: the
 * key k[0..len), not terminated (it must outlive the map) */
int fz_map_put(fz_map *m, const char *k, int v);
int fz_map_put_n(fz_map *m, const char *k, size_t len, int v);
/* Room for n keys in all without rehashing: 0, -1 out of memory. */
int fz_map_reserve(fz_map *m, size_t n);
void fz_map_free(fz_map *m);

/* Records the first failure (status and message, naming the signature);
 * returns st. */
frost_status fz_fail(fz_ctx *c, frost_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
frost_status fz_oom(fz_ctx *c);
/* The status of a failure already reported (never FROST_OK). */
frost_status fz_failed(const fz_ctx *c);
/* Strings in the context's pool (NULL when memory ran out). */
const char *fz_str(fz_ctx *c, const void *p, size_t n);
/* a[0..an) b[0..bn) c0 (c0 = 0: nothing) and, when k >= 0, the decimal k: in
 * the pool (the hot cases of fz_fmt: "node:1", "scope/node", "call/"). */
const char *fz_cat(fz_ctx *c, const char *a, size_t an, const char *b, size_t bn, char c0, long k);
const char *fz_fmt(fz_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Makes room for one more element in a growable array: 0, or -1 (reported). */
int fz_grow(fz_ctx *c, void **p, int *cap, int n, size_t size);

/* The nodes (field `field` of p) into a pool array indexed by name. */
frost_status fz_parse_nodes(fz_ctx *c, const uint8_t *p, size_t len, uint32_t field, const char *where, int *n_out,
                            fz_ndef **out, fz_map *idx);
/* The outer graph's nodes indexed by name (c->idx), each checked to have a
 * name and an op; none made yet. */
frost_status fz_parse_outer(fz_ctx *c);
/* Outer node i with its name and op (lazy: the rest by fz_ndef_full), made
 * on first use; out of memory: reported, and a node of no name and op. */
const fz_ndef *fz_outer(fz_ctx *c, int i);
/* Parses the inputs and attributes of a lazy node (in place; the nodes are
 * the context's): 0, or -1 (reported; the node stays without inputs). */
int fz_ndef_full(fz_ctx *c, const fz_ndef *n);
frost_status fz_parse_library(fz_ctx *c); /* the FunctionDefLibrary's names (bodies parsed on demand) */
frost_status fz_parse_op_list(fz_ctx *c); /* stripped_op_list's OpDefs by name */
int fz_parse_arg(const uint8_t *p, size_t len, fz_arg *a);
frost_status fz_fn_parse(fz_ctx *c, fz_fn *fn); /* a function's signature, rets and nodes (once) */

const fz_attr *fz_attr_find(const fz_ndef *n, const char *key);
/* The AttrValue field `number` (first occurrence); 0 when absent. */
int fz_attr_field(const fz_attr *a, uint32_t number, pb_field *out);
int64_t fz_attr_int(const fz_ndef *n, const char *key, int64_t dflt);
int fz_attr_type(const fz_ndef *n, const char *key); /* 0 when absent; reference types as their base */
int fz_attr_list_types(const fz_ndef *n, const char *key);

int fz_is_call_op(const char *op); /* StatefulPartitionedCall, PartitionedCall */
/* The function a node calls, NULL when it calls none. */
const char *fz_call_target(fz_ctx *c, const fz_ndef *n);
fz_fn *fz_fn_find(fz_ctx *c, const char *name);

/* ---------------------------------------------------------------- freeze_state.c */

int fz_changes_state(const char *op); /* Assign*, scatter, optimizer updates, tables, saves */
/* The outer graph's node of tensor "node[:k]", -1. */
int fz_outer_node_of(fz_ctx *c, const char *tensor);
/* FROST_E_UNSUPPORTED_OP when what the roots reach (data and control edges,
 * called functions whole) changes state; c->reached marks the outer nodes
 * reached. */
frost_status fz_check_signature_state(fz_ctx *c, const int *roots, int n_roots);

/* ---------------------------------------------------------------- freeze_vars.c */

/* c->var_key of the VarHandleOps that the calls the signature reaches
 * (c->reached) capture, from the object graphs. */
frost_status fz_map_captures(fz_ctx *c);
/* The variable of outer node `node` (created on first use); -1 on failure. */
int fz_var_of_node(fz_ctx *c, int node);
/* The Const holding variable v's value (emitted the first time): 0, -1. */
int fz_var_const(fz_ctx *c, int v, fz_val *out);

/* ---------------------------------------------------------------- freeze_inline.c */

/* Appends a node named after `base` (made unique); its index, -1 on failure. */
int fz_emit_node(fz_ctx *c, const char *base, const char *op, int kind);
/* The decimal n[0..n) (at most 7 digits): 0, -1. */
int fz_parse_uint(const char *p, size_t n, int *out);
/* The scope of the outer graph (parent NULL) or of a function call. */
fz_scope *fz_scope_new(fz_ctx *c, fz_scope *parent, fz_fn *fn, int call, const char *prefix);
/* Resolves an output tensor of the outer graph (everything it needs
 * emitted): 0, or -1 with c->status set. */
int fz_resolve_root(fz_ctx *c, const char *tensor, fz_val *out);

#endif

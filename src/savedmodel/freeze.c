/* One signature of a SavedModel frozen into a GraphDef.
 *
 * Starting from the signature's output tensors, every tensor is resolved on
 * demand (an explicit stack, no recursion over graph depth):
 *   - the signature's input tensors become Placeholders;
 *   - calls (StatefulPartitionedCall, PartitionedCall, or a node whose op is
 *     a function of the library) are inlined: a scope per call whose
 *     arguments are bound to the call's inputs, whose outputs are the
 *     function's `ret` tensors, and whose nodes are named "CALL/NODE";
 *     FunctionDef inputs ("node:arg:index", "arg") are translated to GraphDef
 *     tensors ("node:flat_index") with the OpDefs of stripped_op_list;
 *   - VariableV2 / VarHandleOp values come from the variables bundle as one
 *     Const per variable (ReadVariableOp forwards to it), the checkpoint key
 *     found through the SavedObjectGraph (the captures of the called
 *     concrete function) and the bundle's TrackableObjectGraph, else the
 *     variable's shared_name or name (TF1);
 *   - IdentityN and PlaceholderWithDefault forward their inputs, control
 *     inputs are dropped, NoOps vanish.
 * Before that, the signature is checked for state changes: an Assign*, a
 * scatter or optimizer update reachable from its outputs (over data and
 * control edges; any node of a called function, as functions run all their
 * stateful ops) refuses the signature.  Recursive functions, calls to
 * missing functions, cycles and absurd nesting are errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb/pbwriter.h"
#include "savedmodel/error.h"
#include "savedmodel/savedmodel.h"

#define FZ_MAX_DEPTH 64            /* nested function calls */
#define FZ_MAX_NODES FR_MAX_NODES  /* nodes of all scopes together */
#define FZ_MAX_FUNCTIONS (1 << 18)
#define FZ_MAX_OBJECTS (1 << 20)

/* ---------------------------------------------------------------- maps */

/* string -> int, open addressing (keys owned elsewhere) */
typedef struct {
    const char **keys;
    int *vals;
    size_t cap, n;
} fz_map;

static uint64_t fz_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int map_get(const fz_map *m, const char *k, size_t len) {
    if (!m->cap) return -1;
    for (size_t i = fz_hash(k, len) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const char *s = m->keys[i];
        if (!s) return -1;
        if (!strncmp(s, k, len) && !s[len]) return m->vals[i];
    }
}

/* 0 added, 1 already there (value unchanged), -1 out of memory */
static int map_put(fz_map *m, const char *k, int v) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        const char **keys = calloc(cap, sizeof *keys);
        int *vals = calloc(cap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i]) continue;
            size_t j = fz_hash(m->keys[i], strlen(m->keys[i])) & (cap - 1);
            while (keys[j]) j = (j + 1) & (cap - 1);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    size_t len = strlen(k), i = fz_hash(k, len) & (m->cap - 1);
    for (; m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (!strcmp(m->keys[i], k)) return 1;
    m->keys[i] = k;
    m->vals[i] = v;
    m->n++;
    return 0;
}

static void map_free(fz_map *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- graph pieces */

typedef struct {
    const char *key;
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
    const char *callee; /* cache of call_target() */
    int callee_known;
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
    const uint8_t *data;
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
    /* the outer graph */
    int n_nodes;
    fz_ndef *nodes;
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
    int n_vars, cap_vars;
    fz_var *vars;
    /* signature inputs: "node:k" -> index */
    fz_map in_idx;
    fz_val *in_val;
    /* what is written */
    int n_em, cap_em;
    fz_emit *em;
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

static frost_status fz_fail(fz_ctx *c, frost_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static frost_status fz_fail(fz_ctx *c, frost_status st, const char *fmt, ...) {
    if (c->status == FROST_OK) c->status = st;
    if (c->err && !*c->err) {
        va_list ap;
        va_start(ap, fmt);
        fr_sm_verrorf(c->err, c->desc, fmt, ap);
        va_end(ap);
    }
    return st;
}

static frost_status oom(fz_ctx *c) { return fz_fail(c, FROST_E_NO_MEMORY, "out of memory"); }

/* The status of a failure already reported (never FROST_OK). */
static frost_status failed(const fz_ctx *c) { return c->status != FROST_OK ? c->status : FROST_E_INTERNAL; }

static const char *pstr(fz_ctx *c, const void *p, size_t n) { return fr_pool_strndup(&c->pool, p, n); }

static const char *pfmt(fz_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *pfmt(fz_ctx *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = fr_pool_alloc(&c->pool, (size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Makes room for one more element in a growable array (*p of *cap elements
 * of `size` bytes, n in use): 0, or -1 when memory ran out (reported). */
static int grow(fz_ctx *c, void **p, int *cap, int n, size_t size) {
    if (n < *cap) return 0;
    int ncap = *cap ? 2 * *cap : 64;
    void *q = realloc(*p, size * (size_t)ncap);
    if (!q) return oom(c), -1;
    *p = q;
    *cap = ncap;
    return 0;
}

/* ---------------------------------------------------------------- parsing */

static const char *no_name = "";

/* NodeDef: name = 1, op = 2, input = 3, attr = 5 {key = 1, value = 2}. */
static frost_status parse_ndef(fz_ctx *c, const uint8_t *p, size_t len, fz_ndef *n, const char *where) {
    memset(n, 0, sizeof *n);
    pb_reader r = pb_make(p, len);
    pb_field f;
    int n_in = 0, n_attr = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return fz_fail(c, FROST_E_PARSE, "malformed NodeDef in %s", where);
        if (f.wire != PB_LEN) continue;
        if (f.number == 3) n_in++;
        if (f.number == 5) n_attr++;
    }
    const char **ins = fr_pool_alloc(&c->pool, sizeof *ins * (size_t)(n_in + 1));
    n->attr = fr_pool_alloc(&c->pool, sizeof *n->attr * (size_t)(n_attr + 1));
    if (!ins || !n->attr) return oom(c);
    int nd = 0, nc = 0;
    n->name = n->op = no_name;
    r = pb_make(p, len);
    while (pb_more(&r)) {
        pb_next(&r, &f);
        if (f.wire != PB_LEN) continue;
        if (f.number == 1 && !(n->name = pstr(c, f.ptr, f.len))) return oom(c);
        else if (f.number == 2 && !(n->op = pstr(c, f.ptr, f.len))) return oom(c);
        else if (f.number == 3) {
            int ctrl = f.len && f.ptr[0] == '^';
            const char *s = ctrl ? pstr(c, f.ptr + 1, f.len - 1) : pstr(c, f.ptr, f.len);
            if (!s) return oom(c);
            if (ctrl) ins[n_in - 1 - nc++] = s; /* control inputs from the back */
            else ins[nd++] = s;
        } else if (f.number == 5) {
            pb_reader m = pb_make(f.ptr, f.len);
            pb_field g;
            fz_attr *a = &n->attr[n->n_attr++];
            a->key = "";
            a->val = (const uint8_t *)"";
            while (pb_more(&m)) {
                if (pb_next(&m, &g)) return fz_fail(c, FROST_E_PARSE, "malformed attribute in %s", where);
                if (g.number == 1 && g.wire == PB_LEN) a->key = pstr(c, g.ptr, g.len);
                else if (g.number == 2 && g.wire == PB_LEN) a->val = g.ptr, a->len = g.len;
            }
            if (!a->key) return oom(c);
        }
    }
    if (!n->name[0]) return fz_fail(c, FROST_E_PARSE, "a node of %s has no name", where);
    if (!n->op[0]) return fz_fail(c, FROST_E_PARSE, "node '%s' of %s has no op", n->name, where);
    n->n_in = nd;
    n->in = ins;
    n->n_ctrl = nc;
    n->ctrl = ins + nd;
    return FROST_OK;
}

static frost_status parse_nodes(fz_ctx *c, const uint8_t *p, size_t len, uint32_t field, const char *where,
                                int *n_out, fz_ndef **out, fz_map *idx) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    long n = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return fz_fail(c, FROST_E_PARSE, "malformed %s", where);
        if (f.number == field && f.wire == PB_LEN) n++;
    }
    if (n + c->instantiated > FZ_MAX_NODES)
        return fz_fail(c, FROST_E_LIMIT, "%s: more than %d nodes in all (the limit)", where, FZ_MAX_NODES);
    c->instantiated += n;
    *out = fr_pool_alloc(&c->pool, sizeof **out * (size_t)(n + 1));
    if (!*out) return oom(c);
    *n_out = 0;
    r = pb_make(p, len);
    while (pb_more(&r)) {
        pb_next(&r, &f);
        if (f.number != field || f.wire != PB_LEN) continue;
        fz_ndef *nd = &(*out)[*n_out];
        frost_status st = parse_ndef(c, f.ptr, f.len, nd, where);
        if (st != FROST_OK) return st;
        int rc = map_put(idx, nd->name, *n_out);
        if (rc < 0) return oom(c);
        if (rc > 0) return fz_fail(c, FROST_E_GRAPH, "two nodes of %s are named '%s'", where, nd->name);
        (*n_out)++;
    }
    return FROST_OK;
}

/* The name = 1 of an OpDef (or "" when absent). */
static const char *opdef_name(fz_ctx *c, const uint8_t *p, size_t len) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return NULL;
        if (f.number == 1 && f.wire == PB_LEN) return pstr(c, f.ptr, f.len);
    }
    return no_name;
}

static frost_status parse_library(fz_ctx *c) {
    pb_reader r = pb_make(c->mg->graph_def, c->mg->graph_def_len);
    pb_field f;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return fz_fail(c, FROST_E_PARSE, "malformed GraphDef");
        if (f.number != 2 || f.wire != PB_LEN) continue;
        /* FunctionDefLibrary: function = 1 */
        pb_reader l = pb_make(f.ptr, f.len);
        pb_field g;
        while (pb_more(&l)) {
            if (pb_next(&l, &g)) return fz_fail(c, FROST_E_PARSE, "malformed function library");
            if (g.number != 1 || g.wire != PB_LEN) continue;
            if (c->n_fns == FZ_MAX_FUNCTIONS)
                return fz_fail(c, FROST_E_LIMIT, "more than %d functions in the library", FZ_MAX_FUNCTIONS);
            if (c->n_fns % 256 == 0) {
                fz_fn *fns = realloc(c->fns, sizeof *fns * (size_t)(c->n_fns + 256));
                if (!fns) return oom(c);
                c->fns = fns;
            }
            fz_fn *fn = &c->fns[c->n_fns];
            memset(fn, 0, sizeof *fn);
            fn->raw = g.ptr;
            fn->len = g.len;
            fn->name = no_name;
            fn->sig = (const uint8_t *)"";
            pb_reader d = pb_make(g.ptr, g.len);
            pb_field h;
            while (pb_more(&d)) {
                if (pb_next(&d, &h)) return fz_fail(c, FROST_E_PARSE, "malformed FunctionDef");
                if (h.number == 1 && h.wire == PB_LEN) {
                    fn->sig = h.ptr;
                    fn->sig_len = h.len;
                    if (!(fn->name = opdef_name(c, h.ptr, h.len))) return fz_fail(c, FROST_E_PARSE, "malformed FunctionDef");
                }
            }
            if (!fn->name[0]) return fz_fail(c, FROST_E_PARSE, "a function of the library has no name");
            int rc = map_put(&c->fn_idx, fn->name, c->n_fns);
            if (rc < 0) return oom(c);
            if (rc > 0) return fz_fail(c, FROST_E_GRAPH, "two functions of the library are named '%s'", fn->name);
            c->n_fns++;
        }
    }
    return FROST_OK;
}

static frost_status parse_op_list(fz_ctx *c) {
    pb_reader r = pb_make(c->mg->op_list, c->mg->op_list_len);
    pb_field f;
    int n = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return fz_fail(c, FROST_E_PARSE, "malformed stripped_op_list");
        if (f.number == 1 && f.wire == PB_LEN) n++;
    }
    c->op_raw = fr_pool_alloc(&c->pool, sizeof *c->op_raw * (size_t)(n + 1));
    c->op_len = fr_pool_alloc(&c->pool, sizeof *c->op_len * (size_t)(n + 1));
    if (!c->op_raw || !c->op_len) return oom(c);
    int k = 0;
    r = pb_make(c->mg->op_list, c->mg->op_list_len);
    while (pb_more(&r)) {
        pb_next(&r, &f);
        if (f.number != 1 || f.wire != PB_LEN) continue;
        const char *name = opdef_name(c, f.ptr, f.len);
        if (!name) return fz_fail(c, FROST_E_PARSE, "malformed OpDef in stripped_op_list");
        c->op_raw[k] = f.ptr;
        c->op_len[k] = f.len;
        if (map_put(&c->op_idx, name, k) < 0) return oom(c);
        k++;
    }
    return FROST_OK;
}

/* ArgDef: name = 1, number_attr = 5, type_list_attr = 6. */
typedef struct {
    const uint8_t *name;
    size_t name_len;
    const uint8_t *number_attr, *list_attr;
    size_t number_len, list_len;
} fz_arg;

static int parse_arg(const uint8_t *p, size_t len, fz_arg *a) {
    memset(a, 0, sizeof *a);
    pb_reader r = pb_make(p, len);
    pb_field f;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return -1;
        if (f.wire != PB_LEN) continue;
        if (f.number == 1) a->name = f.ptr, a->name_len = f.len;
        else if (f.number == 5 && f.len) a->number_attr = f.ptr, a->number_len = f.len;
        else if (f.number == 6 && f.len) a->list_attr = f.ptr, a->list_len = f.len;
    }
    return 0;
}

/* FunctionDef: signature = 1 (OpDef: input_arg = 2, output_arg = 3), node_def = 3, ret = 4. */
static frost_status fn_parse(fz_ctx *c, fz_fn *fn) {
    if (fn->parsed) return FROST_OK;
    char where[512];
    snprintf(where, sizeof where, "function '%.400s'", fn->name);
    int n_args = 0, n_rets = 0;
    pb_reader r = pb_make(fn->sig, fn->sig_len);
    pb_field f;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return fz_fail(c, FROST_E_PARSE, "malformed signature of %s", where);
        if (f.number == 2 && f.wire == PB_LEN) n_args++;
        if (f.number == 3 && f.wire == PB_LEN) n_rets++;
    }
    fn->args = fr_pool_alloc(&c->pool, sizeof *fn->args * (size_t)(n_args + 1));
    fn->rets = fr_pool_alloc(&c->pool, sizeof *fn->rets * (size_t)(n_rets + 1));
    if (!fn->args || !fn->rets) return oom(c);
    r = pb_make(fn->sig, fn->sig_len);
    while (pb_more(&r)) {
        pb_next(&r, &f);
        if ((f.number != 2 && f.number != 3) || f.wire != PB_LEN) continue;
        fz_arg a;
        if (parse_arg(f.ptr, f.len, &a)) return fz_fail(c, FROST_E_PARSE, "malformed argument of %s", where);
        const char *name = pstr(c, a.name ? a.name : (const uint8_t *)"", a.name_len);
        if (!name) return oom(c);
        if (a.number_attr || a.list_attr) fn->list_args = 1;
        if (f.number == 2) {
            if (map_put(&fn->arg_idx, name, fn->n_args) < 0) return oom(c);
            fn->args[fn->n_args++] = name;
        } else {
            fn->rets[fn->n_rets++] = name; /* replaced by the ret map's value below */
        }
    }
    /* ret = 4: map<string, string> from output arg name to tensor */
    const char **vals = fr_pool_alloc(&c->pool, sizeof *vals * (size_t)(fn->n_rets + 1));
    if (!vals) return oom(c);
    r = pb_make(fn->raw, fn->len);
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return fz_fail(c, FROST_E_PARSE, "malformed %s", where);
        if (f.number != 4 || f.wire != PB_LEN) continue;
        pb_reader m = pb_make(f.ptr, f.len);
        pb_field g;
        const uint8_t *k = (const uint8_t *)"", *v = (const uint8_t *)"";
        size_t kl = 0, vl = 0;
        while (pb_more(&m)) {
            if (pb_next(&m, &g)) return fz_fail(c, FROST_E_PARSE, "malformed ret of %s", where);
            if (g.number == 1 && g.wire == PB_LEN) k = g.ptr, kl = g.len;
            if (g.number == 2 && g.wire == PB_LEN) v = g.ptr, vl = g.len;
        }
        for (int i = 0; i < fn->n_rets; i++)
            if (strlen(fn->rets[i]) == kl && !memcmp(fn->rets[i], k, kl) && !(vals[i] = pstr(c, v, vl))) return oom(c);
    }
    for (int i = 0; i < fn->n_rets; i++) {
        if (!vals[i]) return fz_fail(c, FROST_E_GRAPH, "%s: output '%s' has no ret entry", where, fn->rets[i]);
        fn->rets[i] = vals[i];
    }
    frost_status st = parse_nodes(c, fn->raw, fn->len, 3, where, &fn->n_nodes, &fn->nodes, &fn->idx);
    if (st != FROST_OK) return st;
    fn->parsed = 1;
    return FROST_OK;
}

/* ---------------------------------------------------------------- attributes */

static const fz_attr *attr_find(const fz_ndef *n, const char *key) {
    for (int i = 0; i < n->n_attr; i++)
        if (!strcmp(n->attr[i].key, key)) return &n->attr[i];
    return NULL;
}

/* The AttrValue field `number` (first occurrence); 0 when absent. */
static int attr_field(const fz_attr *a, uint32_t number, pb_field *out) {
    if (!a) return 0;
    pb_reader r = pb_make(a->val, a->len);
    pb_field f;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return 0;
        if (f.number == number) {
            *out = f;
            return 1;
        }
    }
    return 0;
}

static int64_t attr_int(const fz_ndef *n, const char *key, int64_t dflt) {
    pb_field f;
    return attr_field(attr_find(n, key), 3, &f) && f.wire == PB_VARINT ? (int64_t)f.u : dflt;
}

static int attr_type(const fz_ndef *n, const char *key) {
    pb_field f;
    if (!attr_field(attr_find(n, key), 6, &f) || f.wire != PB_VARINT) return 0;
    int t = (int)(f.u & 0x7fffffff);
    return t > 100 ? t - 100 : t;
}

/* Entries of list(type) (ListValue.type = 6, packed or not). */
static int attr_list_types(const fz_ndef *n, const char *key) {
    pb_field f;
    if (!attr_field(attr_find(n, key), 1, &f) || f.wire != PB_LEN) return 0;
    pb_reader r = pb_make(f.ptr, f.len);
    pb_field g;
    int k = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &g)) return k;
        if (g.number != 6) continue;
        if (g.wire == PB_VARINT) k++;
        else if (g.wire == PB_LEN)
            for (size_t i = 0; i < g.len; i++) k += !(g.ptr[i] & 0x80);
    }
    return k;
}

/* The function a node calls: attribute f (AttrValue.func = 10, NameAttrList
 * name = 1) of StatefulPartitionedCall / PartitionedCall, or its op when
 * that names a function of the library.  NULL when it calls none. */
static int is_call_op(const char *op) { return !strcmp(op, "StatefulPartitionedCall") || !strcmp(op, "PartitionedCall"); }

static const char *call_target_uncached(fz_ctx *c, const fz_ndef *n) {
    if (is_call_op(n->op)) {
        pb_field f;
        if (!attr_field(attr_find(n, "f"), 10, &f) || f.wire != PB_LEN) return no_name;
        pb_reader r = pb_make(f.ptr, f.len);
        pb_field g;
        while (pb_more(&r)) {
            if (pb_next(&r, &g)) break;
            if (g.number == 1 && g.wire == PB_LEN) return pstr(c, g.ptr, g.len);
        }
        return no_name;
    }
    return map_get(&c->fn_idx, n->op, strlen(n->op)) >= 0 ? n->op : NULL;
}

static const char *call_target(fz_ctx *c, const fz_ndef *cn) {
    fz_ndef *n = (fz_ndef *)(uintptr_t)cn; /* the cache only */
    if (!n->callee_known) {
        n->callee = call_target_uncached(c, n);
        n->callee_known = 1;
    }
    return n->callee;
}

static fz_fn *fn_find(fz_ctx *c, const char *name) {
    int i = map_get(&c->fn_idx, name, strlen(name));
    return i < 0 ? NULL : &c->fns[i];
}

/* Ops that change state: variables, tables, files, checkpoints. */
static int changes_state(const char *op) {
    static const char *const prefixes[] = {"Assign", "ResourceScatter", "Apply", "ResourceApply", "SparseApply",
                                           "ResourceSparseApply", "LookupTableInsert", "LookupTableRemove",
                                           "LookupTableImport", "InitializeTable"};
    static const char *const ops[] = {"CountUpTo", "ResourceCountUpTo", "DestroyResourceOp", "SaveV2", "Save",
                                      "SaveSlices", "MergeV2Checkpoints", "WriteFile", "StridedSliceAssign",
                                      "ResourceStridedSliceAssign", "TensorArrayWriteV3", "StackPushV2"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (!strncmp(op, prefixes[i], strlen(prefixes[i]))) return 1;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(op, ops[i])) return 1;
    /* ScatterUpdate, ScatterNdAdd ... write a ref variable; ScatterNd itself is pure */
    return !strncmp(op, "Scatter", 7) && strcmp(op, "ScatterNd") && strcmp(op, "ScatterNdNonAliasingAdd");
}

/* ---------------------------------------------------------------- state check */

/* Every function a node refers to: the callee, and func-valued attributes
 * (If / While branches and bodies).  Calls fn_cb for each; nonzero stops. */
typedef int (*callee_fn)(fz_ctx *c, const char *name, void *arg);

static int for_callees(fz_ctx *c, const fz_ndef *n, callee_fn cb, void *arg) {
    const char *t = call_target(c, n);
    if (t) {
        int rc = cb(c, t, arg);
        if (rc) return rc;
    }
    if (t && is_call_op(n->op)) return 0; /* f was that callee */
    for (int i = 0; i < n->n_attr; i++) {
        pb_field f;
        if (!attr_field(&n->attr[i], 10, &f) || f.wire != PB_LEN) continue;
        pb_reader r = pb_make(f.ptr, f.len);
        pb_field g;
        while (pb_more(&r)) {
            if (pb_next(&r, &g)) break;
            if (g.number == 1 && g.wire == PB_LEN) {
                const char *name = pstr(c, g.ptr, g.len);
                if (!name) return -1;
                int rc = cb(c, name, arg);
                if (rc) return rc;
            }
        }
    }
    return 0;
}

typedef struct {
    fz_fn *fn;
    int pos;
} fn_frame;

typedef struct {
    fn_frame *st;
    int sp, cap;
    fz_fn *caller;
    frost_status status;
    const char *node;
} check_state_t;

static int check_callee(fz_ctx *c, const char *name, void *arg) {
    check_state_t *k = arg;
    fz_fn *g = fn_find(c, name);
    if (!g) {
        k->status = fz_fail(c, FROST_E_GRAPH, "node '%s'%s%s%s calls the function '%s', which is not in the library",
                            k->node, k->caller ? " of function '" : "", k->caller ? k->caller->name : "",
                            k->caller ? "'" : "", name);
        return 1;
    }
    if (g->mut == 1) {
        k->status = fz_fail(c, FROST_E_GRAPH, "function '%s' calls itself (through node '%s'%s%s%s): recursion is not supported",
                            g->name, k->node, k->caller ? " of function '" : "", k->caller ? k->caller->name : "",
                            k->caller ? "'" : "");
        return 1;
    }
    if (g->mut == 3 && k->caller && k->caller->mut != 3) {
        k->caller->mut = 3;
        k->caller->mut_node = g->mut_node;
        k->caller->mut_op = g->mut_op;
        k->caller->mut_fn = g->mut_fn;
    }
    if (g->mut == 0) {
        if (k->sp == k->cap) {
            int cap = k->cap ? 2 * k->cap : 64;
            fn_frame *s = realloc(k->st, sizeof *s * (size_t)cap);
            if (!s) {
                k->status = oom(c);
                return 1;
            }
            k->st = s;
            k->cap = cap;
        }
        k->st[k->sp++] = (fn_frame){g, 0};
        g->mut = 1;
        return 2; /* descend now */
    }
    return 0;
}

/* Whether `fn` (or anything it calls) changes state: any node of a function
 * body runs (TensorFlow runs every stateful op of a function), so every
 * node counts.  Iterative over the call graph. */
static frost_status fn_check_state(fz_ctx *c, fz_fn *root) {
    if (root->mut >= 2) return FROST_OK;
    check_state_t k = {NULL, 0, 0, NULL, FROST_OK, ""};
    k.st = malloc(sizeof *k.st * 64);
    if (!k.st) return oom(c);
    k.cap = 64;
    k.st[k.sp++] = (fn_frame){root, 0};
    root->mut = 1;
    while (k.sp && k.status == FROST_OK) {
        fn_frame *fr = &k.st[k.sp - 1];
        fz_fn *fn = fr->fn;
        if (fr->pos == 0 && (k.status = fn_parse(c, fn)) != FROST_OK) break;
        if (fr->pos >= fn->n_nodes) {
            if (fn->mut != 3) fn->mut = 2;
            k.sp--;
            if (k.sp && fn->mut == 3) { /* tell the caller */
                fz_fn *caller = k.st[k.sp - 1].fn;
                if (caller->mut != 3) {
                    caller->mut = 3;
                    caller->mut_node = fn->mut_node;
                    caller->mut_op = fn->mut_op;
                    caller->mut_fn = fn->mut_fn;
                }
            }
            continue;
        }
        const fz_ndef *n = &fn->nodes[fr->pos++];
        if (changes_state(n->op) && fn->mut != 3) {
            fn->mut = 3;
            fn->mut_node = n->name;
            fn->mut_op = n->op;
            fn->mut_fn = fn->name;
        }
        k.caller = fn;
        k.node = n->name;
        int rc = for_callees(c, n, check_callee, &k);
        if (rc < 0) k.status = oom(c);
        if (rc == 2) k.st[k.sp - 2].pos--; /* back to this node's other callees after the one pushed */
    }
    free(k.st);
    if (k.status != FROST_OK) {
        /* leave no function marked "in progress" */
        for (int i = 0; i < c->n_fns; i++)
            if (c->fns[i].mut == 1) c->fns[i].mut = 0;
    }
    return k.status;
}

static int outer_node_of(fz_ctx *c, const char *tensor) {
    const char *colon = strrchr(tensor, ':');
    size_t len = strlen(tensor);
    if (colon && colon[1]) {
        const char *d = colon + 1;
        while (*d >= '0' && *d <= '9') d++;
        if (!*d) len = (size_t)(colon - tensor);
    }
    return map_get(&c->idx, tensor, len);
}

static int is_fed_node(fz_ctx *c, int node) {
    for (int i = 0; i < c->sig->n_inputs; i++)
        if (c->sig->inputs[i].name[0] && outer_node_of(c, c->sig->inputs[i].name) == node) return 1;
    return 0;
}

typedef struct {
    int node;
    frost_status status;
} outer_check_t;

static int outer_callee(fz_ctx *c, const char *name, void *arg) {
    outer_check_t *o = arg;
    fz_fn *fn = fn_find(c, name);
    const fz_ndef *n = &c->nodes[o->node];
    if (!fn) {
        o->status = fz_fail(c, FROST_E_GRAPH, "node '%s' calls the function '%s', which is not in the library", n->name, name);
        return 1;
    }
    if ((o->status = fn_check_state(c, fn)) != FROST_OK) return 1;
    if (fn->mut == 3) {
        o->status = fz_fail(c, FROST_E_UNSUPPORTED_OP,
                            "the signature changes the model's state: node '%s' calls function '%s', whose node '%s' "
                            "(%s, in function '%s') writes a variable or resource; frost runs read-only signatures only",
                            n->name, fn->name, fn->mut_node, fn->mut_op, fn->mut_fn);
        return 1;
    }
    return 0;
}

/* Everything the outputs reach in the graph_def (data and control edges; not
 * through fed nodes) must leave the state alone. */
static frost_status check_signature_state(fz_ctx *c, const int *roots, int n_roots) {
    unsigned char *seen = calloc((size_t)c->n_nodes + 1, 1);
    int *stack = malloc(sizeof(int) * ((size_t)c->n_nodes + 1));
    frost_status st = FROST_OK;
    if (!seen || !stack) {
        free(seen);
        free(stack);
        return oom(c);
    }
    int sp = 0;
    for (int i = 0; i < n_roots; i++)
        if (!seen[roots[i]]) seen[roots[i]] = 1, stack[sp++] = roots[i];
    while (sp && st == FROST_OK) {
        int v = stack[--sp];
        const fz_ndef *n = &c->nodes[v];
        if (changes_state(n->op)) {
            st = fz_fail(c, FROST_E_UNSUPPORTED_OP,
                         "the signature changes the model's state: its outputs depend on node '%s' (%s), which writes "
                         "a variable or resource; frost runs read-only signatures only",
                         n->name, n->op);
            break;
        }
        outer_check_t o = {v, FROST_OK};
        if (for_callees(c, n, outer_callee, &o)) {
            st = o.status != FROST_OK ? o.status : oom(c);
            break;
        }
        if (is_fed_node(c, v)) continue;
        for (int k = 0; k < n->n_in + n->n_ctrl; k++) {
            const char *in = k < n->n_in ? n->in[k] : n->ctrl[k - n->n_in];
            int u = outer_node_of(c, in);
            if (u < 0) {
                st = fz_fail(c, FROST_E_GRAPH, "node '%s' has the input '%s', which is not a node of the graph", n->name, in);
                break;
            }
            if (!seen[u]) seen[u] = 1, stack[sp++] = u;
        }
    }
    free(seen);
    free(stack);
    return st;
}

/* ---------------------------------------------------------------- checkpoint keys from the object graph */

/* A SavedObjectGraph or TrackableObjectGraph: nodes = 1, each with children
 * = 1 {node_id = 1, local_name = 2}; a SavedObject's variable = 7; a
 * TrackableObject's attributes = 2 {name = 1, checkpoint_key = 3}. */
typedef struct {
    int n;
    int *first, *count;
    int *edge_id, *edge_src; /* the node an edge leads to / leaves */
    const uint8_t **edge_name;
    size_t *edge_len;
    unsigned char *is_var;
    const uint8_t **key;
    size_t *key_len;
} og_t;

static int og_parse(fz_ctx *c, const uint8_t *p, size_t len, og_t *g) {
    memset(g, 0, sizeof *g);
    pb_reader r = pb_make(p, len);
    pb_field f, h;
    long nodes = 0, edges = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return -1;
        if (f.number != 1 || f.wire != PB_LEN) continue;
        nodes++;
        pb_reader m = pb_make(f.ptr, f.len);
        while (pb_more(&m)) {
            if (pb_next(&m, &h)) return -1;
            if (h.number == 1 && h.wire == PB_LEN) edges++;
        }
    }
    if (nodes > FZ_MAX_OBJECTS || edges > 4L * FZ_MAX_OBJECTS) return -2;
    g->first = fr_pool_alloc(&c->pool, sizeof(int) * (size_t)(nodes + 1));
    g->count = fr_pool_alloc(&c->pool, sizeof(int) * (size_t)(nodes + 1));
    g->is_var = fr_pool_alloc(&c->pool, (size_t)nodes + 1);
    g->key = fr_pool_alloc(&c->pool, sizeof *g->key * (size_t)(nodes + 1));
    g->key_len = fr_pool_alloc(&c->pool, sizeof *g->key_len * (size_t)(nodes + 1));
    g->edge_id = fr_pool_alloc(&c->pool, sizeof(int) * (size_t)(edges + 1));
    g->edge_src = fr_pool_alloc(&c->pool, sizeof(int) * (size_t)(edges + 1));
    g->edge_name = fr_pool_alloc(&c->pool, sizeof *g->edge_name * (size_t)(edges + 1));
    g->edge_len = fr_pool_alloc(&c->pool, sizeof *g->edge_len * (size_t)(edges + 1));
    if (!g->first || !g->count || !g->is_var || !g->key || !g->key_len || !g->edge_id || !g->edge_src || !g->edge_name ||
        !g->edge_len)
        return -3;
    int e = 0;
    r = pb_make(p, len);
    while (pb_more(&r)) {
        pb_next(&r, &f);
        if (f.number != 1 || f.wire != PB_LEN) continue;
        int i = g->n++;
        g->first[i] = e;
        pb_reader m = pb_make(f.ptr, f.len);
        while (pb_more(&m)) {
            pb_next(&m, &h);
            if (h.number == 7 && h.wire == PB_LEN) g->is_var[i] = 1;
            if (h.number == 1 && h.wire == PB_LEN) {
                pb_reader q = pb_make(h.ptr, h.len);
                pb_field x;
                g->edge_id[e] = -1;
                g->edge_src[e] = i;
                g->edge_name[e] = (const uint8_t *)"";
                while (pb_more(&q)) {
                    if (pb_next(&q, &x)) return -1;
                    if (x.number == 1 && x.wire == PB_VARINT) g->edge_id[e] = x.u < (uint64_t)FZ_MAX_OBJECTS ? (int)x.u : -1;
                    if (x.number == 2 && x.wire == PB_LEN) g->edge_name[e] = x.ptr, g->edge_len[e] = x.len;
                }
                e++;
                g->count[i]++;
            }
            if (h.number == 2 && h.wire == PB_LEN) { /* SerializedTensor */
                pb_reader q = pb_make(h.ptr, h.len);
                pb_field x;
                const uint8_t *name = NULL, *key = NULL;
                size_t nl = 0, kl = 0;
                while (pb_more(&q)) {
                    if (pb_next(&q, &x)) return -1;
                    if (x.number == 1 && x.wire == PB_LEN) name = x.ptr, nl = x.len;
                    if (x.number == 3 && x.wire == PB_LEN) key = x.ptr, kl = x.len;
                }
                if (key && name && nl == 14 && !memcmp(name, "VARIABLE_VALUE", 14)) g->key[i] = key, g->key_len[i] = kl;
            }
        }
    }
    return 0;
}

/* The child of node `at` reached by the edge named name[0..len), -1. */
static int og_child(const og_t *g, int at, const uint8_t *name, size_t len) {
    for (int k = g->first[at]; k < g->first[at] + g->count[at]; k++)
        if (g->edge_len[k] == len && !memcmp(g->edge_name[k], name, len) && g->edge_id[k] >= 0 && g->edge_id[k] < g->n)
            return g->edge_id[k];
    return -1;
}

/* Checkpoint keys of the variables the graph's calls capture: a call of a
 * concrete function passes its captures as its last inputs, in the order of
 * SavedConcreteFunction.bound_inputs (SavedObjectGraph node ids).  Each
 * variable object is found in the checkpoint's TrackableObjectGraph by its
 * path of child names from the root (and by its id when no path matches),
 * whose VARIABLE_VALUE attribute holds the key. */
static frost_status map_captures(fz_ctx *c) {
    const fr_bundle *b = c->sm->bundle;
    if (!c->mg->object_graph_len || !b) return FROST_OK;
    const fr_bundle_entry *ent = fr_bundle_find(b, "_CHECKPOINTABLE_OBJECT_GRAPH");
    if (!ent) return FROST_OK;
    const uint8_t *tog_p;
    size_t tog_len;
    char *berr = NULL;
    frost_status st = fr_bundle_read_string(b, ent, &tog_p, &tog_len, &berr);
    if (st != FROST_OK) {
        fz_fail(c, st, "%s", berr ? berr : "cannot read the checkpoint's object graph");
        free(berr);
        return st;
    }
    og_t sv, tg;
    int rc = og_parse(c, c->mg->object_graph, c->mg->object_graph_len, &sv);
    if (!rc) rc = og_parse(c, tog_p, tog_len, &tg);
    if (rc == -1) return fz_fail(c, FROST_E_PARSE, "malformed object graph (SavedObjectGraph or the checkpoint's TrackableObjectGraph)");
    if (rc == -2) return fz_fail(c, FROST_E_LIMIT, "an object graph has more than %d objects", FZ_MAX_OBJECTS);
    if (rc) return oom(c);
    if (!sv.n) return FROST_OK;
    /* breadth-first tree of the saved objects: the parent edge of each */
    int *parent_edge = malloc(sizeof(int) * (size_t)sv.n), *queue = malloc(sizeof(int) * (size_t)sv.n);
    int *path = malloc(sizeof(int) * (size_t)sv.n);
    fz_map cf = {0};
    int *bound = NULL;
    if (!parent_edge || !queue || !path) {
        st = oom(c);
        goto done;
    }
    for (int i = 0; i < sv.n; i++) parent_edge[i] = -2;
    parent_edge[0] = -1;
    int qh = 0, qt = 0;
    queue[qt++] = 0;
    while (qh < qt) {
        int v = queue[qh++];
        for (int k = sv.first[v]; k < sv.first[v] + sv.count[v]; k++) {
            int u = sv.edge_id[k];
            if (u >= 0 && u < sv.n && parent_edge[u] == -2) parent_edge[u] = k, queue[qt++] = u;
        }
    }
    /* concrete_functions = 2: map<string, SavedConcreteFunction {bound_inputs = 2}> */
    int n_cf = 0;
    const uint8_t **cf_p = NULL;
    size_t *cf_len = NULL;
    pb_reader r = pb_make(c->mg->object_graph, c->mg->object_graph_len);
    pb_field f;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) break;
        if (f.number == 2 && f.wire == PB_LEN) n_cf++;
    }
    cf_p = fr_pool_alloc(&c->pool, sizeof *cf_p * (size_t)(n_cf + 1));
    cf_len = fr_pool_alloc(&c->pool, sizeof *cf_len * (size_t)(n_cf + 1));
    if (!cf_p || !cf_len) {
        st = oom(c);
        goto done;
    }
    int k_cf = 0;
    r = pb_make(c->mg->object_graph, c->mg->object_graph_len);
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) break;
        if (f.number != 2 || f.wire != PB_LEN) continue;
        pb_reader m = pb_make(f.ptr, f.len);
        pb_field g;
        const char *name = NULL;
        while (pb_more(&m)) {
            if (pb_next(&m, &g)) break;
            if (g.number == 1 && g.wire == PB_LEN) name = pstr(c, g.ptr, g.len);
            if (g.number == 2 && g.wire == PB_LEN) cf_p[k_cf] = g.ptr, cf_len[k_cf] = g.len;
        }
        if (!name) continue;
        if (map_put(&cf, name, k_cf) < 0) {
            st = oom(c);
            goto done;
        }
        k_cf++;
    }
    for (int v = 0; v < c->n_nodes; v++) {
        const fz_ndef *nd = &c->nodes[v];
        const char *callee = call_target(c, nd);
        if (!callee) continue;
        int i = map_get(&cf, callee, strlen(callee));
        if (i < 0 || !cf_p[i]) continue;
        /* bound_inputs, packed or not */
        int nb = 0;
        free(bound);
        bound = malloc(sizeof(int) * ((size_t)cf_len[i] + 1));
        if (!bound) {
            st = oom(c);
            goto done;
        }
        pb_reader m = pb_make(cf_p[i], cf_len[i]);
        pb_field g;
        while (pb_more(&m)) {
            if (pb_next(&m, &g)) break;
            if (g.number != 2) continue;
            if (g.wire == PB_VARINT) bound[nb++] = g.u < (uint64_t)sv.n ? (int)g.u : -1;
            else if (g.wire == PB_LEN) {
                pb_reader q = pb_make(g.ptr, g.len);
                uint64_t x;
                while (pb_more(&q) && !pb_read_varint(&q, &x)) bound[nb++] = x < (uint64_t)sv.n ? (int)x : -1;
            }
        }
        if (nb > nd->n_in) continue;
        for (int j = 0; j < nb; j++) {
            int obj = bound[j];
            int var = outer_node_of(c, nd->in[nd->n_in - nb + j]);
            if (obj < 0 || var < 0 || !sv.is_var[obj] || strcmp(c->nodes[var].op, "VarHandleOp") || c->var_key[var])
                continue;
            /* the path of child names from the root to obj, walked in the checkpoint's graph */
            int depth = 0, at = obj, tn = 0;
            while (at > 0 && parent_edge[at] >= 0 && depth < sv.n) {
                path[depth++] = parent_edge[at];
                at = sv.edge_src[parent_edge[at]];
            }
            int found = at == 0 && tg.n > 0;
            for (int d = depth - 1; found && d >= 0; d--) {
                tn = og_child(&tg, tn, sv.edge_name[path[d]], sv.edge_len[path[d]]);
                if (tn < 0) found = 0;
            }
            if (!found || !tg.key[tn]) tn = obj < tg.n && tg.key[obj] ? obj : -1; /* same id */
            if (tn < 0) continue;
            c->var_key[var] = pstr(c, tg.key[tn], tg.key_len[tn]);
            if (!c->var_key[var]) {
                st = oom(c);
                goto done;
            }
        }
    }
done:
    free(bound);
    free(parent_edge);
    free(queue);
    free(path);
    map_free(&cf);
    return st;
}

/* ---------------------------------------------------------------- emitted nodes */

static const char *uniq_name(fz_ctx *c, const char *base) {
    if (map_get(&c->names, base, strlen(base)) < 0) return base;
    for (long i = 1;; i++) {
        const char *s = pfmt(c, "%s_%ld", base, i);
        if (!s || map_get(&c->names, s, strlen(s)) < 0) return s;
    }
}

/* Appends a node named after `base` (made unique); its index, -1 on failure. */
static int emit(fz_ctx *c, const char *base, const char *op, int kind) {
    if (c->n_em >= FZ_MAX_NODES) {
        fz_fail(c, FROST_E_LIMIT, "the frozen graph would have more than %d nodes", FZ_MAX_NODES);
        return -1;
    }
    if (grow(c, (void **)&c->em, &c->cap_em, c->n_em, sizeof *c->em)) return -1;
    const char *name = uniq_name(c, base);
    if (!name || map_put(&c->names, name, c->n_em) < 0) return oom(c), -1;
    fz_emit *e = &c->em[c->n_em];
    memset(e, 0, sizeof *e);
    e->name = name;
    e->op = op;
    e->kind = kind;
    e->var = e->input = -1;
    return c->n_em++;
}

static const char *tensor_of(fz_ctx *c, int e, int k) {
    return k ? pfmt(c, "%s:%d", c->em[e].name, k) : c->em[e].name;
}

/* ---------------------------------------------------------------- variables */

static int var_of_node(fz_ctx *c, int node) {
    if (c->var_of[node] >= 0) return c->var_of[node];
    if (grow(c, (void **)&c->vars, &c->cap_vars, c->n_vars, sizeof *c->vars)) return -1;
    fz_var *v = &c->vars[c->n_vars];
    memset(v, 0, sizeof *v);
    v->node = node;
    v->e = -1;
    c->var_of[node] = c->n_vars;
    return c->n_vars++;
}

/* The AttrValue.s = 2 of an attribute, NULL when absent or empty. */
static const char *attr_str(fz_ctx *c, const fz_ndef *n, const char *key) {
    pb_field f;
    if (!attr_field(attr_find(n, key), 2, &f) || f.wire != PB_LEN || !f.len) return NULL;
    return pstr(c, f.ptr, f.len);
}

/* The Const holding variable v's value (emitted the first time). */
static int var_const(fz_ctx *c, int v, fz_val *out) {
    fz_var *x = &c->vars[v];
    if (x->e < 0) {
        const fz_ndef *n = &c->nodes[x->node];
        const fr_bundle *b = c->sm->bundle;
        if (!b) {
            fz_fail(c, FROST_E_GRAPH, "the outputs need variable '%s' (%s), but the SavedModel has no variables/", n->name,
                    n->op);
            return -1;
        }
        const char *key = c->var_key[x->node];
        if (!key && !strcmp(n->op, "VarHandleOp")) {
            const char *shared = attr_str(c, n, "shared_name");
            if (shared && fr_bundle_find(b, shared)) key = shared;
        }
        if (!key) key = n->name;
        const fr_bundle_entry *ent = fr_bundle_find(b, key);
        if (!ent) {
            fz_fail(c, FROST_E_GRAPH, "variable '%s' (%s): the variables bundle has no tensor '%s'", n->name, n->op, key);
            return -1;
        }
        int want = attr_type(n, "dtype");
        if (want && want != ent->dtype) {
            fz_fail(c, FROST_E_GRAPH, "variable '%s' is %s in the graph, but its checkpoint tensor '%s' is %s", n->name,
                    fr_dtype_name(want), key, fr_dtype_name(ent->dtype));
            return -1;
        }
        pb_field f;
        fr_pb_shape sh;
        const char *why;
        if (attr_field(attr_find(n, "shape"), 7, &f) && f.wire == PB_LEN && !fr_pb_parse_shape(f.ptr, f.len, &sh, &why) &&
            sh.rank >= 0) {
            int known = 1, same = sh.rank == ent->shape.rank;
            for (int i = 0; i < sh.rank; i++) {
                if (sh.dims[i] < 0) known = 0;
                else if (same && sh.dims[i] != ent->shape.dims[i]) same = 0;
            }
            if (known && !same) {
                fz_fail(c, FROST_E_SHAPE, "variable '%s': its checkpoint tensor '%s' has another shape than the graph declares",
                        n->name, key);
                return -1;
            }
        }
        if (!fr_dtype_size(ent->dtype)) {
            fz_fail(c, FROST_E_UNSUPPORTED_OP, "variable '%s' holds %s values (tensor '%s'): not supported", n->name,
                    fr_dtype_name(ent->dtype), key);
            return -1;
        }
        if (ent->count > FR_PB_MAX_ELEMENTS) {
            fz_fail(c, FROST_E_LIMIT, "variable '%s' (tensor '%s') has %lld elements (the limit is 2^28)", n->name, key,
                    (long long)ent->count);
            return -1;
        }
        char *berr = NULL;
        frost_status st = fr_bundle_read(b, ent, &x->data, &berr);
        if (st != FROST_OK) {
            fz_fail(c, st, "variable '%s': %s", n->name, berr ? berr : "unreadable");
            free(berr);
            c->status = st;
            return -1;
        }
        x->key = key;
        x->entry = ent;
        int e = emit(c, n->name, "Const", EM_VAR);
        if (e < 0) return -1;
        c->em[e].var = v;
        x->e = e;
    }
    *out = (fz_val){c->em[x->e].name, -1, x->e};
    return 0;
}

/* ---------------------------------------------------------------- scopes */

static fz_scope *scope_new(fz_ctx *c, fz_scope *parent, fz_fn *fn, int call, const char *prefix) {
    int n = fn ? fn->n_nodes : c->n_nodes;
    if (parent) {
        if (c->instantiated + n + 1 > FZ_MAX_NODES) {
            fz_fail(c, FROST_E_LIMIT, "inlining the functions would make more than %d nodes", FZ_MAX_NODES);
            return NULL;
        }
        c->instantiated += n + 1; /* an empty function costs a scope all the same */
    }
    fz_scope *s = fr_pool_alloc(&c->pool, sizeof *s);
    if (!s) return oom(c), NULL;
    s->parent = parent;
    s->fn = fn;
    s->call = call;
    s->prefix = prefix;
    s->depth = parent ? parent->depth + 1 : 0;
    s->n = n;
    s->nodes = fn ? fn->nodes : c->nodes;
    s->idx = fn ? &fn->idx : &c->idx;
    s->state = fr_pool_alloc(&c->pool, (size_t)n + 1);
    s->emitted = fr_pool_alloc(&c->pool, sizeof(int) * (size_t)(n + 1));
    s->fwd = fr_pool_alloc(&c->pool, sizeof *s->fwd * (size_t)(n + 1));
    s->n_fwd = fr_pool_alloc(&c->pool, sizeof(int) * (size_t)(n + 1));
    s->child = fr_pool_alloc(&c->pool, sizeof *s->child * (size_t)(n + 1));
    if (!s->state || !s->emitted || !s->fwd || !s->n_fwd || !s->child) return oom(c), NULL;
    for (int i = 0; i < n; i++) s->emitted[i] = -1;
    return s;
}

static const char *scope_name(const fz_scope *s, int node) { return s->nodes[node].name; }

/* The inlined body of call node `node` of scope s. */
static fz_scope *scope_child(fz_ctx *c, fz_scope *s, int node) {
    if (s->child[node]) return s->child[node];
    const fz_ndef *nd = &s->nodes[node];
    const char *callee = call_target(c, nd);
    fz_fn *fn = callee ? fn_find(c, callee) : NULL;
    if (!fn) {
        fz_fail(c, FROST_E_GRAPH, "node '%s%s' calls the function '%s', which is not in the library", s->prefix, nd->name,
                callee ? callee : "");
        return NULL;
    }
    for (fz_scope *a = s; a; a = a->parent)
        if (a->fn == fn) {
            fz_fail(c, FROST_E_GRAPH, "function '%s' calls itself (node '%s%s'): recursion is not supported", fn->name,
                    s->prefix, nd->name);
            return NULL;
        }
    if (s->depth + 1 > FZ_MAX_DEPTH) {
        fz_fail(c, FROST_E_LIMIT, "node '%s%s': function calls nested more than %d deep", s->prefix, nd->name, FZ_MAX_DEPTH);
        return NULL;
    }
    if (fn_parse(c, fn) != FROST_OK) return NULL;
    if (fn->list_args) {
        fz_fail(c, FROST_E_UNSUPPORTED_OP, "function '%s' has list-typed arguments: not supported", fn->name);
        return NULL;
    }
    if (nd->n_in != fn->n_args) {
        fz_fail(c, FROST_E_GRAPH, "node '%s%s' passes %d inputs to function '%s', which takes %d", s->prefix, nd->name,
                nd->n_in, fn->name, fn->n_args);
        return NULL;
    }
    const char *prefix = pfmt(c, "%s%s/", s->prefix, nd->name);
    if (!prefix) return oom(c), NULL;
    fz_scope *ch = scope_new(c, s, fn, node, prefix);
    s->child[node] = ch;
    return ch;
}

/* ---------------------------------------------------------------- resolution */

static int parse_uint(const char *p, size_t n, int *out) {
    if (!n || n > 7) return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* The flat output index of "node:arg:idx" (a FunctionDef input) from the
 * op's OpDef: outputs of earlier output args (list args counted by their
 * number_attr / type_list_attr) come first. */
static int flat_index(fz_ctx *c, fz_scope *s, const fz_ndef *nd, const char *arg, size_t alen, int idx, int *flat) {
    const char *callee = call_target(c, nd);
    if (callee && is_call_op(nd->op)) {
        *flat = idx; /* one list output, "output" */
        return 0;
    }
    const uint8_t *od = NULL;
    size_t ol = 0;
    if (callee) {
        fz_fn *fn = fn_find(c, callee);
        if (fn) od = fn->sig, ol = fn->sig_len;
    } else {
        int i = map_get(&c->op_idx, nd->op, strlen(nd->op));
        if (i >= 0) od = c->op_raw[i], ol = c->op_len[i];
    }
    if (!od) {
        /* no OpDef: the batch norms' named outputs, else one output arg */
        static const char *const bn[] = {"y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2",
                                         "reserve_space_3"};
        *flat = idx;
        if (!strncmp(nd->op, "FusedBatchNorm", 14))
            for (int i = 0; i < 6; i++)
                if (strlen(bn[i]) == alen && !memcmp(bn[i], arg, alen)) *flat = i + idx;
        return 0;
    }
    pb_reader r = pb_make(od, ol);
    pb_field f;
    long base = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) break;
        if (f.number != 3 || f.wire != PB_LEN) continue;
        fz_arg a;
        if (parse_arg(f.ptr, f.len, &a)) break;
        long size = 1;
        if (a.number_attr) {
            const char *k = pstr(c, a.number_attr, a.number_len);
            size = k ? attr_int(nd, k, 1) : 1;
        } else if (a.list_attr) {
            const char *k = pstr(c, a.list_attr, a.list_len);
            size = k ? attr_list_types(nd, k) : 1;
        }
        if (size < 0 || size > (1 << 20)) size = 1;
        if (a.name_len == alen && !memcmp(a.name, arg, alen)) {
            if (idx >= size) {
                fz_fail(c, FROST_E_GRAPH, "node '%s%s' (%s) has %ld outputs '%.*s', index %d asked for", s->prefix,
                        nd->name, nd->op, size, (int)alen, arg, idx);
                return -1;
            }
            *flat = (int)(base + idx);
            return 0;
        }
        base += size;
        if (base > (1 << 20)) break;
    }
    fz_fail(c, FROST_E_GRAPH, "node '%s%s' (%s) has no output named '%.*s'", s->prefix, nd->name, nd->op, (int)alen, arg);
    return -1;
}

/* Resolves tensor `ref` as written in scope s: 0 with *v set; 1 when node
 * (*ps, *pn) must be resolved first; -1 on error (c->status set). */
static int resolve(fz_ctx *c, fz_scope *s, const char *ref, fz_val *v, fz_scope **ps, int *pn) {
    for (int steps = 0;; steps++) {
        if (steps > 4 * FZ_MAX_DEPTH + 16) {
            fz_fail(c, FROST_E_GRAPH, "tensor '%s' of scope '%s' leads through calls in a cycle", ref, s->prefix);
            return -1;
        }
        int node, k = 0;
        size_t len = strlen(ref);
        if (!s->fn) {
            int in = map_get(&c->in_idx, ref, len);
            if (in < 0 && !strchr(ref, ':')) {
                const char *r0 = pfmt(c, "%s:0", ref);
                in = r0 ? map_get(&c->in_idx, r0, strlen(r0)) : -1;
            }
            if (in >= 0) {
                *v = c->in_val[in];
                return 0;
            }
            const char *colon = strrchr(ref, ':');
            if (colon && !parse_uint(colon + 1, strlen(colon + 1), &k)) len = (size_t)(colon - ref);
            else k = 0;
            node = map_get(s->idx, ref, len);
            if (node < 0) {
                fz_fail(c, FROST_E_GRAPH, "tensor '%s' names no node of the graph", ref);
                return -1;
            }
        } else {
            const char *p1 = strchr(ref, ':'), *p2 = p1 ? strchr(p1 + 1, ':') : NULL;
            if (p2 && strchr(p2 + 1, ':')) {
                fz_fail(c, FROST_E_GRAPH, "function '%s': malformed input '%s'", s->fn->name, ref);
                return -1;
            }
            size_t nlen = p1 ? (size_t)(p1 - ref) : len;
            int arg = map_get(&s->fn->arg_idx, ref, nlen);
            if (arg >= 0 && !p2) {
                if (p1 && (parse_uint(p1 + 1, strlen(p1 + 1), &k) || k != 0)) {
                    fz_fail(c, FROST_E_GRAPH, "function '%s': input '%s' asks for an element of a single argument",
                            s->fn->name, ref);
                    return -1;
                }
                /* the argument: the call's input in the caller's scope */
                ref = s->parent->nodes[s->call].in[arg];
                s = s->parent;
                continue;
            }
            node = map_get(s->idx, ref, nlen);
            if (node < 0) {
                fz_fail(c, FROST_E_GRAPH, "function '%s': input '%s' names neither an argument nor a node", s->fn->name,
                        ref);
                return -1;
            }
            if (p1) {
                int idx = 0;
                size_t alen = p2 ? (size_t)(p2 - p1 - 1) : strlen(p1 + 1);
                if (p2 && parse_uint(p2 + 1, strlen(p2 + 1), &idx)) {
                    fz_fail(c, FROST_E_GRAPH, "function '%s': malformed input '%s'", s->fn->name, ref);
                    return -1;
                }
                if (flat_index(c, s, &s->nodes[node], p1 + 1, alen, idx, &k)) return -1;
            }
        }
        const fz_ndef *nd = &s->nodes[node];
        if (call_target(c, nd)) {
            fz_scope *ch = scope_child(c, s, node);
            if (!ch) return -1;
            if (k >= ch->fn->n_rets) {
                fz_fail(c, FROST_E_GRAPH, "output %d of node '%s%s' asked for; function '%s' has %d", k, s->prefix,
                        nd->name, ch->fn->name, ch->fn->n_rets);
                return -1;
            }
            ref = ch->fn->rets[k];
            s = ch;
            continue;
        }
        if (s->state[node] == 2) {
            if (s->fwd[node]) {
                if (k >= s->n_fwd[node]) {
                    fz_fail(c, FROST_E_GRAPH, "output %d of node '%s%s' (%s) asked for; it has %d", k, s->prefix,
                            nd->name, nd->op, s->n_fwd[node]);
                    return -1;
                }
                *v = s->fwd[node][k];
            } else if (s->emitted[node] >= 0) {
                const char *t = tensor_of(c, s->emitted[node], k);
                if (!t) return oom(c), -1;
                *v = (fz_val){t, -1, s->emitted[node]};
            } else {
                fz_fail(c, FROST_E_GRAPH, "node '%s%s' (%s) has no outputs, but '%s' is used as a tensor", s->prefix,
                        nd->name, nd->op, ref);
                return -1;
            }
            return 0;
        }
        *ps = s;
        *pn = node;
        return 1;
    }
}

/* Resolves every data input of a node into c->tmp: 0, 1 (pending), -1. */
static int resolve_inputs(fz_ctx *c, fz_scope *s, const fz_ndef *nd, fz_scope **ps, int *pn) {
    if (nd->n_in > c->tmp_cap) {
        fz_val *t = realloc(c->tmp, sizeof *t * (size_t)nd->n_in);
        if (!t) return oom(c), -1;
        c->tmp = t;
        c->tmp_cap = nd->n_in;
    }
    for (int i = 0; i < nd->n_in; i++) {
        int r = resolve(c, s, nd->in[i], &c->tmp[i], ps, pn);
        if (r) return r;
    }
    return 0;
}

static int set_fwd(fz_ctx *c, fz_scope *s, int node, const fz_val *v, int n) {
    fz_val *f = fr_pool_alloc(&c->pool, sizeof *f * (size_t)(n + 1));
    if (!f) return oom(c), -1;
    if (n) memcpy(f, v, sizeof *f * (size_t)n);
    s->fwd[node] = f;
    s->n_fwd[node] = n;
    return 0;
}

/* Resolves node (s, node): 0 done, 1 pending on (*ps, *pn), -1 error. */
static int process(fz_ctx *c, fz_scope *s, int node, fz_scope **ps, int *pn) {
    const fz_ndef *nd = &s->nodes[node];
    const char *op = nd->op;
    if (!strcmp(op, "NoOp")) return 0;
    if (changes_state(op)) { /* (the check before the resolution sees all but what hides behind fed nodes) */
        fz_fail(c, FROST_E_UNSUPPORTED_OP,
                "the signature changes the model's state: its outputs depend on node '%s%s' (%s); frost runs "
                "read-only signatures only",
                s->prefix, nd->name, op);
        return -1;
    }
    if (!strcmp(op, "VarHandleOp") || !strcmp(op, "VariableV2") || !strcmp(op, "Variable")) {
        if (s->fn) {
            fz_fail(c, FROST_E_UNSUPPORTED_OP, "function '%s' creates the variable '%s': not supported", s->fn->name,
                    nd->name);
            return -1;
        }
        int v = var_of_node(c, node);
        if (v < 0) return -1;
        fz_val val = {NULL, v, -1};
        if (strcmp(op, "VarHandleOp") && var_const(c, v, &val)) return -1; /* a reference variable is its value */
        return set_fwd(c, s, node, &val, 1);
    }
    if (!strcmp(op, "Placeholder")) {
        if (s->fn)
            fz_fail(c, FROST_E_GRAPH, "function '%s' has a Placeholder ('%s')", s->fn->name, nd->name);
        else
            fz_fail(c, FROST_E_GRAPH,
                    "the outputs depend on the Placeholder '%s', which is not an input of the signature (TensorFlow "
                    "would fail to run it without a value)",
                    nd->name);
        return -1;
    }
    int r = resolve_inputs(c, s, nd, ps, pn);
    if (r) return r;
    if (!strcmp(op, "ReadVariableOp")) {
        if (nd->n_in < 1 || c->tmp[0].var < 0) {
            fz_fail(c, FROST_E_GRAPH, "node '%s%s' (ReadVariableOp) reads no variable", s->prefix, nd->name);
            return -1;
        }
        fz_val val;
        if (var_const(c, c->tmp[0].var, &val)) return -1;
        return set_fwd(c, s, node, &val, 1);
    }
    if (!strcmp(op, "IdentityN")) return set_fwd(c, s, node, c->tmp, nd->n_in);
    if (!strcmp(op, "PlaceholderWithDefault") && nd->n_in == 1) return set_fwd(c, s, node, c->tmp, 1);
    if (!strcmp(op, "Identity") && nd->n_in == 1 && c->tmp[0].var >= 0) return set_fwd(c, s, node, c->tmp, 1);
    for (int i = 0; i < nd->n_in; i++)
        if (c->tmp[i].var >= 0) {
            fz_fail(c, FROST_E_UNSUPPORTED_OP,
                    "node '%s%s' (%s) takes the handle of variable '%s' as input %d; of the ops on variables only "
                    "ReadVariableOp is supported",
                    s->prefix, nd->name, op, c->nodes[c->vars[c->tmp[i].var].node].name, i);
            return -1;
        }
    const char *base = s->prefix[0] ? pfmt(c, "%s%s", s->prefix, nd->name) : nd->name;
    if (!base) return oom(c), -1;
    int e = emit(c, base, op, EM_NODE);
    if (e < 0) return -1;
    fz_emit *em = &c->em[e];
    em->src = nd;
    em->n_in = nd->n_in;
    em->in = fr_pool_alloc(&c->pool, sizeof *em->in * (size_t)(nd->n_in + 1));
    if (!em->in) return oom(c), -1;
    if (nd->n_in) memcpy(em->in, c->tmp, sizeof *em->in * (size_t)nd->n_in);
    s->emitted[node] = e;
    return 0;
}

static int push(fz_ctx *c, fz_scope *s, int n) {
    if (grow(c, (void **)&c->stack, &c->cap_sp, c->sp, sizeof *c->stack)) return -1;
    c->stack[c->sp].s = s;
    c->stack[c->sp].n = n;
    c->sp++;
    return 0;
}

/* Depth-first over the dependencies of (s0, n0), on an explicit stack. */
static int run(fz_ctx *c, fz_scope *s0, int n0) {
    c->sp = 0;
    if (push(c, s0, n0)) return -1;
    while (c->sp) {
        fz_scope *s = c->stack[c->sp - 1].s;
        int n = c->stack[c->sp - 1].n;
        if (s->state[n] == 2) {
            c->sp--;
            continue;
        }
        fz_scope *ps;
        int pn;
        int r = process(c, s, n, &ps, &pn);
        if (r < 0) return -1;
        if (r == 0) {
            s->state[n] = 2;
            c->sp--;
            continue;
        }
        s->state[n] = 1;
        if (ps->state[pn] == 1) {
            fz_fail(c, FROST_E_GRAPH, "the graph has a cycle through node '%s%s'", ps->prefix, scope_name(ps, pn));
            return -1;
        }
        if (push(c, ps, pn)) return -1;
    }
    return 0;
}

static int resolve_root(fz_ctx *c, const char *tensor, fz_val *out) {
    for (;;) {
        fz_scope *ps;
        int pn;
        int r = resolve(c, c->outer, tensor, out, &ps, &pn);
        if (r <= 0) return r;
        if (run(c, ps, pn)) return -1;
    }
}

/* ---------------------------------------------------------------- writing */

static size_t vsize(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) v >>= 7, n++;
    return n;
}

/* A varint of v in exactly n bytes (vsize(v) <= n <= 10): redundant
 * continuation bytes are valid protobuf and move what follows. */
static void varint_n(fr_pbw *w, uint64_t v, size_t n) {
    uint8_t b[10];
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (i + 1 < n) b[i] |= 0x80;
    }
    fr_pbw_raw(w, b, n);
}

/* attr map entry {key = 1, value = 2 (AttrValue bytes)} into `attrs` (NodeDef.attr = 5) */
static void attr_entry(fr_pbw *attrs, fr_pbw *scratch, const char *key, const void *val, size_t len) {
    fr_pbw_reset(scratch);
    fr_pbw_str(scratch, 1, key);
    fr_pbw_bytes(scratch, 2, val, len);
    fr_pbw_msg(attrs, 5, scratch);
}

static void attr_type_entry(fr_pbw *attrs, fr_pbw *scratch, fr_pbw *val, const char *key, int dtype) {
    fr_pbw_reset(val);
    fr_pbw_int(val, 6, dtype);
    attr_entry(attrs, scratch, key, val->data, val->len);
}

static void shape_of_input(fz_ctx *c, int i, fr_pb_shape *sh, int *dtype) {
    const fr_sm_tensor *t = &c->sig->inputs[i];
    *sh = t->shape;
    *dtype = t->dtype;
    int node = outer_node_of(c, t->name);
    if (node < 0) return;
    const fz_ndef *n = &c->nodes[node];
    if (!*dtype) *dtype = attr_type(n, "dtype");
    if (!*dtype) *dtype = attr_type(n, "T");
    if (sh->rank >= 0) return;
    pb_field f;
    const char *why;
    if (attr_field(attr_find(n, "shape"), 7, &f) && f.wire == PB_LEN && !fr_pb_parse_shape(f.ptr, f.len, sh, &why))
        return;
    /* _output_shapes: list(shape), the k-th entry */
    int k = 0;
    const char *colon = strrchr(t->name, ':');
    if (colon) parse_uint(colon + 1, strlen(colon + 1), &k);
    sh->rank = -1;
    if (attr_field(attr_find(n, "_output_shapes"), 1, &f) && f.wire == PB_LEN) {
        pb_reader r = pb_make(f.ptr, f.len);
        pb_field g;
        int j = 0;
        while (pb_more(&r)) {
            if (pb_next(&r, &g)) break;
            if (g.number != 7 || g.wire != PB_LEN) continue;
            if (j++ == k) {
                if (fr_pb_parse_shape(g.ptr, g.len, sh, &why)) sh->rank = -1;
                break;
            }
        }
    }
}

typedef struct {
    fr_pbw head, attrs, scratch, val, tp;
} wbuf;

/* NodeDef.attr "value" of a variable's Const: a TensorProto whose
 * tensor_content lands 4-byte aligned in the output, so that the import uses
 * the weights in place.  The padding is the dtype's varint written with
 * redundant continuation bytes (valid protobuf: the value is the same);
 * length prefixes stay canonical (parsers refuse sizes over 5 bytes). */
static void write_var_node(fz_ctx *c, fr_pbw *out, wbuf *b, const fz_var *x) {
    (void)c;
    const fr_bundle_entry *ent = x->entry;
    fr_pbw_reset(&b->tp); /* TensorProto.tensor_shape = 2 */
    fr_pbw_reset(&b->scratch);
    fr_pbw_shape(&b->scratch, ent->shape.rank, ent->shape.dims);
    fr_pbw_msg(&b->tp, 2, &b->scratch);
    uint64_t n = ent->size;
    size_t dt = vsize((uint64_t)ent->dtype), pad = 0, tp_len = 0, av_len = 0, ent_len = 0, node_len = 0;
    for (pad = 0; pad < 4; pad++) {
        tp_len = 1 + dt + pad + b->tp.len + 1 + vsize(n) + (size_t)n;
        av_len = 1 + vsize(tp_len) + tp_len;
        ent_len = 1 + 1 + 5 + 1 + vsize(av_len) + av_len;
        node_len = b->head.len + b->attrs.len + 1 + vsize(ent_len) + ent_len;
        size_t at = out->len + 1 + vsize(node_len) + b->head.len + b->attrs.len + 1 + vsize(ent_len) + 7 + 1 +
                    vsize(av_len) + 1 + vsize(tp_len) + 1 + dt + pad + b->tp.len + 1 + vsize(n);
        if (at % 4 == 0) break;
    }
    if (pad == 4) pad = 0; /* cannot happen: four consecutive offsets */
    fr_pbw_tag(out, 1, PB_LEN);
    fr_pbw_varint(out, node_len);
    fr_pbw_raw(out, b->head.data, b->head.len);
    fr_pbw_raw(out, b->attrs.data, b->attrs.len);
    fr_pbw_tag(out, 5, PB_LEN); /* NodeDef.attr */
    fr_pbw_varint(out, ent_len);
    fr_pbw_str(out, 1, "value");
    fr_pbw_tag(out, 2, PB_LEN); /* the AttrValue */
    fr_pbw_varint(out, av_len);
    fr_pbw_tag(out, 8, PB_LEN); /* AttrValue.tensor */
    fr_pbw_varint(out, tp_len);
    fr_pbw_tag(out, 1, PB_VARINT); /* TensorProto.dtype */
    varint_n(out, (uint64_t)ent->dtype, dt + pad);
    fr_pbw_raw(out, b->tp.data, b->tp.len);
    fr_pbw_tag(out, 4, PB_LEN); /* TensorProto.tensor_content */
    fr_pbw_varint(out, n);
    fr_pbw_raw(out, x->data, (size_t)n);
}

static void write_node(fz_ctx *c, fr_pbw *out, wbuf *b, const fz_emit *e) {
    fr_pbw_reset(&b->head);
    fr_pbw_reset(&b->attrs);
    fr_pbw_str(&b->head, 1, e->name);
    fr_pbw_str(&b->head, 2, e->op);
    for (int i = 0; i < e->n_in; i++) fr_pbw_str(&b->head, 3, e->in[i].t);
    if (e->kind == EM_NODE) {
        for (int i = 0; i < e->src->n_attr; i++) {
            const fz_attr *a = &e->src->attr[i];
            if (!strcmp(a->key, "_class")) continue; /* colocation with nodes that may be gone */
            attr_entry(&b->attrs, &b->scratch, a->key, a->val, a->len);
        }
    } else if (e->kind == EM_INPUT) {
        fr_pb_shape sh;
        int dtype;
        shape_of_input(c, e->input, &sh, &dtype);
        attr_type_entry(&b->attrs, &b->scratch, &b->val, "dtype", dtype ? dtype : FR_DT_FLOAT);
        fr_pbw_reset(&b->val);
        fr_pbw_reset(&b->tp);
        fr_pbw_shape(&b->tp, sh.rank, sh.dims);
        fr_pbw_msg(&b->val, 7, &b->tp);
        attr_entry(&b->attrs, &b->scratch, "shape", b->val.data, b->val.len);
    } else if (e->kind == EM_IDENTITY) {
        int dtype = c->sig->outputs[e->input].dtype;
        attr_type_entry(&b->attrs, &b->scratch, &b->val, "T", dtype ? dtype : FR_DT_FLOAT);
    } else { /* EM_VAR */
        const fz_var *x = &c->vars[e->var];
        const fr_bundle_entry *ent = x->entry;
        attr_type_entry(&b->attrs, &b->scratch, &b->val, "dtype", ent->dtype);
        if (ent->count != 1 || (ent->dtype != FR_DT_FLOAT && ent->dtype != FR_DT_INT32 && ent->dtype != FR_DT_BOOL)) {
            write_var_node(c, out, b, x);
            return;
        }
        /* one value: in the typed field, as TensorFlow writes scalars (and as
         * importers such as OpenCV read them) */
        fr_pbw_reset(&b->tp);
        fr_pbw_tensor(&b->tp, ent->dtype, ent->shape.rank, ent->shape.dims, x->data, (size_t)ent->size);
        fr_pbw_reset(&b->val);
        fr_pbw_msg(&b->val, 8, &b->tp);
        attr_entry(&b->attrs, &b->scratch, "value", b->val.data, b->val.len);
    }
    fr_pbw_tag(out, 1, PB_LEN);
    fr_pbw_varint(out, b->head.len + b->attrs.len);
    fr_pbw_raw(out, b->head.data, b->head.len);
    fr_pbw_raw(out, b->attrs.data, b->attrs.len);
}

/* ---------------------------------------------------------------- the signature */

void fr_sm_frozen_free(fr_sm_frozen *f) {
    if (!f) return;
    free(f->data);
    for (int i = 0; i < f->n_inputs; i++) free(f->input_names ? f->input_names[i] : NULL);
    for (int i = 0; i < f->n_outputs; i++) free(f->output_names ? f->output_names[i] : NULL);
    free(f->input_names);
    free(f->output_names);
    free(f->description);
    memset(f, 0, sizeof *f);
}

static frost_status freeze(fz_ctx *c, fr_sm_frozen *out) {
    const fr_sm_signature *sig = c->sig;
    frost_status st;
    if ((st = parse_nodes(c, c->mg->graph_def, c->mg->graph_def_len, 1, "the graph", &c->n_nodes, &c->nodes, &c->idx)) ||
        (st = parse_library(c)) || (st = parse_op_list(c)))
        return st;
    c->var_key = fr_pool_alloc(&c->pool, sizeof *c->var_key * (size_t)(c->n_nodes + 1));
    c->var_of = fr_pool_alloc(&c->pool, sizeof *c->var_of * (size_t)(c->n_nodes + 1));
    c->in_val = fr_pool_alloc(&c->pool, sizeof *c->in_val * (size_t)(sig->n_inputs + 1));
    int *roots = fr_pool_alloc(&c->pool, sizeof *roots * (size_t)(sig->n_outputs + 1));
    fz_val *outs = fr_pool_alloc(&c->pool, sizeof *outs * (size_t)(sig->n_outputs + 1));
    if (!c->var_key || !c->var_of || !c->in_val || !roots || !outs) return oom(c);
    for (int i = 0; i < c->n_nodes; i++) c->var_of[i] = -1;
    if ((st = map_captures(c)) != FROST_OK) return st;
    if (!strcmp(sig->key, "__saved_model_init_op"))
        return fz_fail(c, FROST_E_INVALID_ARGUMENT, "this is the SavedModel's initialization op, not a computation to run");
    if (!sig->n_outputs) return fz_fail(c, FROST_E_GRAPH, "the signature has no outputs");
    for (int i = 0; i < sig->n_outputs; i++) {
        const fr_sm_tensor *t = &sig->outputs[i];
        if (!t->name[0])
            return fz_fail(c, FROST_E_UNSUPPORTED_OP, "output '%s' is a sparse or composite tensor: not supported", t->key);
        if ((roots[i] = outer_node_of(c, t->name)) < 0)
            return fz_fail(c, FROST_E_GRAPH, "output '%s' is the tensor '%s', which is not in the graph", t->key, t->name);
    }
    for (int i = 0; i < sig->n_inputs; i++) {
        const fr_sm_tensor *t = &sig->inputs[i];
        if (!t->name[0])
            return fz_fail(c, FROST_E_UNSUPPORTED_OP, "input '%s' is a sparse or composite tensor: not supported", t->key);
        int node = outer_node_of(c, t->name);
        if (node < 0)
            return fz_fail(c, FROST_E_GRAPH, "input '%s' is the tensor '%s', which is not in the graph", t->key, t->name);
        const char *colon = strrchr(t->name, ':');
        int k = 0;
        if (colon && parse_uint(colon + 1, strlen(colon + 1), &k)) k = 0;
        const char *key = pfmt(c, "%s:%d", c->nodes[node].name, k);
        if (!key) return oom(c);
        int rc = map_put(&c->in_idx, key, i);
        if (rc < 0) return oom(c);
        if (rc > 0) return fz_fail(c, FROST_E_GRAPH, "two inputs of the signature are the tensor '%s'", t->name);
        const char *base = k ? pfmt(c, "%s_%d", c->nodes[node].name, k) : c->nodes[node].name;
        int e = base ? emit(c, base, "Placeholder", EM_INPUT) : (oom(c), -1);
        if (e < 0) return failed(c);
        c->em[e].input = i;
        c->in_val[i] = (fz_val){c->em[e].name, -1, e};
    }
    if ((st = check_signature_state(c, roots, sig->n_outputs)) != FROST_OK) return st;
    if (!(c->outer = scope_new(c, NULL, NULL, -1, ""))) return failed(c);
    for (int i = 0; i < sig->n_outputs; i++) {
        if (resolve_root(c, sig->outputs[i].name, &outs[i])) return failed(c);
        if (outs[i].var >= 0)
            return fz_fail(c, FROST_E_UNSUPPORTED_OP, "output '%s' is the handle of a variable, not a tensor",
                           sig->outputs[i].key);
    }
    /* keep what the outputs reach (and the inputs) */
    int n_em = c->n_em;
    int *stack = malloc(sizeof(int) * ((size_t)n_em + 1));
    if (!stack) return oom(c);
    int sp = 0;
    for (int i = 0; i < sig->n_inputs; i++) c->em[c->in_val[i].e].keep = 1;
    for (int i = 0; i < sig->n_outputs; i++)
        if (!c->em[outs[i].e].keep) c->em[outs[i].e].keep = 1, stack[sp++] = outs[i].e;
    while (sp) {
        fz_emit *e = &c->em[stack[--sp]];
        for (int k = 0; k < e->n_in; k++) {
            fz_emit *u = &c->em[e->in[k].e];
            u->consumed = 1;
            if (!u->keep) u->keep = 1, stack[sp++] = e->in[k].e;
        }
    }
    free(stack);
    /* each output: its own node when it is the signature's tensor "N:0" and
     * nothing else consumes it, else an Identity named N (or N_k) */
    int *out_e = fr_pool_alloc(&c->pool, sizeof(int) * (size_t)(sig->n_outputs + 1));
    if (!out_e) return oom(c);
    for (int i = 0; i < sig->n_outputs; i++) {
        const char *tn = sig->outputs[i].name, *colon = strrchr(tn, ':');
        int k = 0;
        size_t nlen = strlen(tn);
        if (colon && !parse_uint(colon + 1, strlen(colon + 1), &k)) nlen = (size_t)(colon - tn);
        else k = 0;
        fz_emit *e = &c->em[outs[i].e];
        if (e->kind == EM_NODE && !e->consumed && !e->claimed && !strcmp(outs[i].t, e->name) && strlen(e->name) == nlen &&
            !strncmp(e->name, tn, nlen)) {
            e->claimed = 1;
            out_e[i] = outs[i].e;
            continue;
        }
        const char *base = k ? pfmt(c, "%.*s_%d", (int)nlen, tn, k) : pstr(c, tn, nlen);
        int id = base ? emit(c, base, "Identity", EM_IDENTITY) : (oom(c), -1);
        if (id < 0) return failed(c);
        fz_emit *ie = &c->em[id];
        ie->input = i;
        ie->keep = ie->claimed = 1;
        ie->n_in = 1;
        ie->in = fr_pool_alloc(&c->pool, sizeof *ie->in);
        if (!ie->in) return oom(c);
        ie->in[0] = outs[i];
        c->em[outs[i].e].consumed = 1;
        out_e[i] = id;
    }
    /* write: inputs, the rest in the order resolved (dependencies first), outputs */
    size_t est = 4096;
    for (int i = 0; i < c->n_em; i++) {
        const fz_emit *e = &c->em[i];
        if (!e->keep) continue;
        est += 256 + strlen(e->name);
        for (int k = 0; k < e->n_in; k++) est += strlen(e->in[k].t) + 4;
        if (e->kind == EM_VAR) est += (size_t)c->vars[e->var].entry->size + 64;
        if (e->kind == EM_NODE)
            for (int k = 0; k < e->src->n_attr; k++) est += e->src->attr[k].len + strlen(e->src->attr[k].key) + 16;
    }
    fr_pbw w;
    fr_pbw_init(&w);
    w.data = malloc(est);
    w.cap = w.data ? est : 0;
    wbuf b;
    memset(&b, 0, sizeof b);
    for (int i = 0; i < sig->n_inputs; i++) write_node(c, &w, &b, &c->em[c->in_val[i].e]);
    for (int i = 0; i < c->n_em; i++) {
        const fz_emit *e = &c->em[i];
        if (e->keep && !e->claimed && e->kind != EM_INPUT) write_node(c, &w, &b, e);
    }
    for (int i = 0; i < sig->n_outputs; i++) write_node(c, &w, &b, &c->em[out_e[i]]);
    if (c->mg->versions_len) fr_pbw_bytes(&w, 4, c->mg->versions, c->mg->versions_len);
    int failed = w.failed || b.head.failed || b.attrs.failed || b.scratch.failed || b.val.failed || b.tp.failed;
    fr_pbw_free(&b.head);
    fr_pbw_free(&b.attrs);
    fr_pbw_free(&b.scratch);
    fr_pbw_free(&b.val);
    fr_pbw_free(&b.tp);
    if (failed) {
        fr_pbw_free(&w);
        return oom(c);
    }
    out->data = w.data ? w.data : malloc(1);
    out->size = w.len;
    out->n_inputs = sig->n_inputs;
    out->n_outputs = sig->n_outputs;
    out->input_names = calloc((size_t)sig->n_inputs + 1, sizeof(char *));
    out->output_names = calloc((size_t)sig->n_outputs + 1, sizeof(char *));
    if (!out->data || !out->input_names || !out->output_names) return oom(c);
    for (int i = 0; i < sig->n_inputs; i++)
        if (!(out->input_names[i] = strdup(c->in_val[i].t))) return oom(c);
    for (int i = 0; i < sig->n_outputs; i++)
        if (!(out->output_names[i] = strdup(c->em[out_e[i]].name))) return oom(c);
    return FROST_OK;
}

frost_status fr_sm_freeze(const frost_savedmodel *sm, int m, int si, fr_sm_frozen *out, char **err) {
    if (err) *err = NULL;
    memset(out, 0, sizeof *out);
    if (!sm || m < 0 || m >= sm->n_meta_graphs || si < 0 || si >= sm->mg[m].n_signatures) {
        fr_errorf(err, "fr_sm_freeze: no such meta graph / signature");
        return FROST_E_INVALID_ARGUMENT;
    }
    fz_ctx c;
    memset(&c, 0, sizeof c);
    c.sm = sm;
    c.mg = &sm->mg[m];
    c.sig = &sm->mg[m].signatures[si];
    c.err = err;
    size_t dl = strlen(sm->source) + strlen(c.sig->key) + 32;
    c.desc = malloc(dl);
    if (!c.desc) return FROST_E_NO_MEMORY;
    snprintf(c.desc, dl, "%s: signature '%s'", sm->source, c.sig->key);
    frost_status st = freeze(&c, out);
    if (st == FROST_OK && c.status != FROST_OK) st = c.status;
    if (st != FROST_OK && c.err && !*c.err) fz_fail(&c, st, "failed");
    for (int i = 0; i < c.n_fns; i++) {
        map_free(&c.fns[i].idx);
        map_free(&c.fns[i].arg_idx);
    }
    free(c.fns);
    map_free(&c.idx);
    map_free(&c.fn_idx);
    map_free(&c.op_idx);
    map_free(&c.in_idx);
    map_free(&c.names);
    free(c.vars);
    free(c.em);
    free(c.stack);
    free(c.tmp);
    fr_pool_free(&c.pool);
    if (st != FROST_OK) {
        free(c.desc);
        fr_sm_frozen_free(out);
        return st;
    }
    out->description = c.desc;
    return FROST_OK;
}

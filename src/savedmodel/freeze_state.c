/* Freezing a signature: the check that it leaves the model's state alone.
 * An Assign*, a scatter or optimizer update reachable from its outputs (over
 * data and control edges; any node of a called function, as functions run
 * all their stateful ops) refuses the signature; recursion and calls of
 * missing functions are errors. */
#include <stdlib.h>
#include <string.h>

#include "savedmodel/freeze.h"

/* Ops that change state: variables, tables, files, checkpoints. */
int fz_changes_state(const char *op) {
    /* every op below starts with one of these letters (most ops do not) */
    if (!strchr("ACDILMRSTW", op[0]) || !op[0]) return 0;
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

/* Every function a node refers to: the callee, and func-valued attributes
 * (If / While branches and bodies).  Calls fn_cb for each; nonzero stops. */
typedef int (*callee_fn)(fz_ctx *c, const char *name, void *arg);

static int for_callees(fz_ctx *c, const fz_ndef *n, callee_fn cb, void *arg) {
    const char *t = fz_call_target(c, n);
    if (t) {
        int rc = cb(c, t, arg);
        if (rc) return rc;
    }
    if (t && fz_is_call_op(n->op)) return 0; /* f was that callee */
    for (int i = 0; i < n->n_attr; i++) {
        pb_field f;
        if (!fz_attr_field(&n->attr[i], 10, &f) || f.wire != PB_LEN) continue;
        pb_reader r = pb_make(f.ptr, f.len);
        pb_field g;
        while (pb_more(&r)) {
            if (pb_next(&r, &g)) break;
            if (g.number == 1 && g.wire == PB_LEN) {
                const char *name = fz_str(c, g.ptr, g.len);
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
    fz_fn *g = fz_fn_find(c, name);
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
                k->status = fz_oom(c);
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
    if (!k.st) return fz_oom(c);
    k.cap = 64;
    k.st[k.sp++] = (fn_frame){root, 0};
    root->mut = 1;
    while (k.sp && k.status == FROST_OK) {
        fn_frame *fr = &k.st[k.sp - 1];
        fz_fn *fn = fr->fn;
        if (fr->pos == 0 && (k.status = fz_fn_parse(c, fn)) != FROST_OK) break;
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
        if (fz_changes_state(n->op) && fn->mut != 3) {
            fn->mut = 3;
            fn->mut_node = n->name;
            fn->mut_op = n->op;
            fn->mut_fn = fn->name;
        }
        k.caller = fn;
        k.node = n->name;
        int rc = for_callees(c, n, check_callee, &k);
        if (rc < 0) k.status = fz_oom(c);
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

int fz_outer_node_of(fz_ctx *c, const char *tensor) {
    const char *colon = strrchr(tensor, ':');
    size_t len = strlen(tensor);
    if (colon && colon[1]) {
        const char *d = colon + 1;
        while (*d >= '0' && *d <= '9') d++;
        if (!*d) len = (size_t)(colon - tensor);
    }
    return fz_map_get(&c->idx, tensor, len);
}

static int is_fed_node(fz_ctx *c, int node) {
    for (int i = 0; i < c->sig->n_inputs; i++)
        if (c->sig->inputs[i].name[0] && fz_outer_node_of(c, c->sig->inputs[i].name) == node) return 1;
    return 0;
}

typedef struct {
    int node;
    frost_status status;
} outer_check_t;

static int outer_callee(fz_ctx *c, const char *name, void *arg) {
    outer_check_t *o = arg;
    fz_fn *fn = fz_fn_find(c, name);
    const fz_ndef *n = fz_outer(c, o->node);
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
frost_status fz_check_signature_state(fz_ctx *c, const int *roots, int n_roots) {
    unsigned char *seen = c->reached = fr_pool_alloc(&c->pool, (size_t)c->n_nodes + 1);
    int *stack = malloc(sizeof(int) * ((size_t)c->n_nodes + 1));
    frost_status st = FROST_OK;
    if (!seen || !stack) {
        free(stack);
        return fz_oom(c);
    }
    int sp = 0;
    for (int i = 0; i < n_roots; i++)
        if (!seen[roots[i]]) seen[roots[i]] = 1, stack[sp++] = roots[i];
    while (sp && st == FROST_OK) {
        int v = stack[--sp];
        const fz_ndef *n = fz_outer(c, v);
        if (fz_ndef_full(c, n)) {
            st = fz_failed(c);
            break;
        }
        if (fz_changes_state(n->op)) {
            st = fz_fail(c, FROST_E_UNSUPPORTED_OP,
                         "the signature changes the model's state: its outputs depend on node '%s' (%s), which writes "
                         "a variable or resource; frost runs read-only signatures only",
                         n->name, n->op);
            break;
        }
        outer_check_t o = {v, FROST_OK};
        if (for_callees(c, n, outer_callee, &o)) {
            st = o.status != FROST_OK ? o.status : fz_oom(c);
            break;
        }
        if (is_fed_node(c, v)) continue;
        for (int k = 0; k < n->n_in + n->n_ctrl; k++) {
            const char *in = k < n->n_in ? n->in[k] : n->ctrl[k - n->n_in];
            int u = fz_outer_node_of(c, in);
            if (u < 0) {
                st = fz_fail(c, FROST_E_GRAPH, "node '%s' has the input '%s', which is not a node of the graph", n->name, in);
                break;
            }
            if (!seen[u]) seen[u] = 1, stack[sp++] = u;
        }
    }
    free(stack);
    return st;
}

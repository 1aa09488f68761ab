/* Freezing a signature: variables.  VariableV2 / VarHandleOp values come
 * from the variables bundle as one Const per variable, the checkpoint key
 * found through the SavedObjectGraph (the captures of the called concrete
 * function) and the bundle's TrackableObjectGraph, else the variable's
 * shared_name or name (TF1). */
#include <stdlib.h>
#include <string.h>

#include "savedmodel/freeze.h"

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

/* Checkpoint keys of the variables the reached calls capture: a call of a
 * concrete function passes its captures as its last inputs, in the order of
 * SavedConcreteFunction.bound_inputs (SavedObjectGraph node ids).  Each
 * variable object is found in the checkpoint's TrackableObjectGraph by its
 * path of child names from the root (and by its id when no path matches),
 * whose VARIABLE_VALUE attribute holds the key. */
frost_status fz_map_captures(fz_ctx *c) {
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
    if (rc) return fz_oom(c);
    if (!sv.n) return FROST_OK;
    /* breadth-first tree of the saved objects: the parent edge of each */
    int *parent_edge = malloc(sizeof(int) * (size_t)sv.n), *queue = malloc(sizeof(int) * (size_t)sv.n);
    int *path = malloc(sizeof(int) * (size_t)sv.n);
    fz_map cf = {0};
    int *bound = NULL;
    if (!parent_edge || !queue || !path) {
        st = fz_oom(c);
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
        st = fz_oom(c);
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
            if (g.number == 1 && g.wire == PB_LEN) name = fz_str(c, g.ptr, g.len);
            if (g.number == 2 && g.wire == PB_LEN) cf_p[k_cf] = g.ptr, cf_len[k_cf] = g.len;
        }
        if (!name) continue;
        if (fz_map_put(&cf, name, k_cf) < 0) {
            st = fz_oom(c);
            goto done;
        }
        k_cf++;
    }
    for (int v = 0; v < c->n_nodes; v++) {
        if (!c->reached[v]) continue; /* the saver's calls capture every variable too */
        const fz_ndef *nd = fz_outer(c, v);
        const char *callee = fz_call_target(c, nd);
        if (!callee) continue;
        int i = fz_map_get(&cf, callee, strlen(callee));
        if (i < 0 || !cf_p[i]) continue;
        if (fz_ndef_full(c, nd)) {
            st = fz_failed(c);
            goto done;
        }
        /* bound_inputs, packed or not */
        int nb = 0;
        free(bound);
        bound = malloc(sizeof(int) * ((size_t)cf_len[i] + 1));
        if (!bound) {
            st = fz_oom(c);
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
            int var = fz_outer_node_of(c, nd->in[nd->n_in - nb + j]);
            if (obj < 0 || var < 0 || !sv.is_var[obj] || strcmp(fz_outer(c, var)->op, "VarHandleOp") || c->var_key[var])
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
            c->var_key[var] = fz_str(c, tg.key[tn], tg.key_len[tn]);
            if (!c->var_key[var]) {
                st = fz_oom(c);
                goto done;
            }
        }
    }
done:
    free(bound);
    free(parent_edge);
    free(queue);
    free(path);
    fz_map_free(&cf);
    return st;
}

/* ---------------------------------------------------------------- variables */

int fz_var_of_node(fz_ctx *c, int node) {
    if (c->var_of[node] >= 0) return c->var_of[node];
    if (fz_grow(c, (void **)&c->vars, &c->cap_vars, c->n_vars, sizeof *c->vars)) return -1;
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
    if (!fz_attr_field(fz_attr_find(n, key), 2, &f) || f.wire != PB_LEN || !f.len) return NULL;
    return fz_str(c, f.ptr, f.len);
}

/* The Const holding variable v's value (emitted the first time). */
int fz_var_const(fz_ctx *c, int v, fz_val *out) {
    fz_var *x = &c->vars[v];
    if (x->e < 0) {
        const fz_ndef *n = fz_outer(c, x->node);
        if (fz_ndef_full(c, n)) return -1;
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
        int want = fz_attr_type(n, "dtype");
        if (want && want != ent->dtype) {
            fz_fail(c, FROST_E_GRAPH, "variable '%s' is %s in the graph, but its checkpoint tensor '%s' is %s", n->name,
                    fr_dtype_name(want), key, fr_dtype_name(ent->dtype));
            return -1;
        }
        pb_field f;
        fr_pb_shape sh;
        const char *why;
        if (fz_attr_field(fz_attr_find(n, "shape"), 7, &f) && f.wire == PB_LEN && !fr_pb_parse_shape(f.ptr, f.len, &sh, &why) &&
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
        frost_status st = fr_bundle_locate(b, ent, &x->data, &berr);
        if (st == FROST_OK && !fz_var_external(c, ent, x->data)) st = fr_bundle_check(b, ent, &berr);
        if (st != FROST_OK) {
            fz_fail(c, st, "variable '%s': %s", n->name, berr ? berr : "unreadable");
            free(berr);
            c->status = st;
            return -1;
        }
        x->key = key;
        x->entry = ent;
        int e = fz_emit_node(c, n->name, "Const", EM_VAR);
        if (e < 0) return -1;
        c->em[e].var = v;
        x->e = e;
    }
    *out = (fz_val){c->em[x->e].name, -1, x->e};
    return 0;
}


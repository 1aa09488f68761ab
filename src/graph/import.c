/* frost_graph: load a GraphDef, index its nodes, check every op is supported. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feed/feed.h"
#include "graph/graph.h"
#include "ops/ops.h"
#include "pb/mapfile.h"
#include "savedmodel/savedmodel.h"

int fr_graph_find(const frost_graph *g, const char *name, size_t len) {
    if (!g->hash_cap) return -1;
    uint32_t mask = (uint32_t)g->hash_cap - 1;
    for (uint32_t i = (uint32_t)fr_name_hash(name, len) & mask;; i = (i + 1) & mask) {
        int k = g->hash[i];
        if (k < 0) return -1;
        const char *nm = g->nodes[k].name;
        if (strncmp(nm, name, len) == 0 && nm[len] == 0) return k;
    }
}

frost_graph *fr_graph_ref(const frost_graph *g) {
    frost_graph *m = (frost_graph *)(uintptr_t)g;
    atomic_fetch_add(&m->refs, 1);
    return m;
}

const fr_attr_ref *fr_node_attr(const fr_node *n, const char *key) {
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].key, key)) return &n->attrs[i];
    return NULL;
}

int fr_node_attr_get(const fr_node *n, const char *key, fr_pb_attr *out) {
    const fr_attr_ref *a = fr_node_attr(n, key);
    memset(out, 0, sizeof *out);
    if (!a) return 0;
    const char *why;
    return fr_pb_parse_attr(a->val, a->len, out, &why) == 0 ? 1 : -1;
}

void frost_graph_free(frost_graph *g) {
    if (!g || atomic_fetch_sub(&g->refs, 1) != 1) return;
    if (g->map) munmap(g->map, g->map_len);
    free(g->copy);
    free(g->source);
    free(g->nodes);
    free(g->hash);
    free(g->placeholders);
    free(g->sinks);
    free(g->op_type_names);
    free(g->op_type_uses);
    fr_pool_free(&g->pool);
    free(g->ext_content);
    free(g->ext_len);
    if (g->check_free) g->check_free(g->check); /* before what it reads goes */
    if (g->keep_free) g->keep_free(g->keep);
    free(g);
}

frost_status fr_graph_check(const frost_graph *g, char **err) {
    return g && g->check ? g->check_wait(g->check, err) : FROST_OK;
}

int fr_node_const_tensor(const frost_graph *g, const fr_node *n, fr_pb_tensor *t, const char **why) {
    fr_pb_attr a;
    if (fr_node_attr_get(n, "value", &a) != 1 || a.kind != FR_ATTR_TENSOR) return *why = "no 'value' tensor", -3;
    int rc = fr_pb_parse_tensor(a.ptr, a.len, t, why);
    if (rc != 0 || !g->ext_content || !g->ext_content[n - g->nodes]) return rc;
    if (t->content || t->n_vals || t->dtype != FR_DT_FLOAT ||
        g->ext_len[n - g->nodes] != (size_t)t->count * sizeof(float))
        return *why = "external tensor content does not match its TensorProto", -1;
    t->content = g->ext_content[n - g->nodes];
    t->content_len = g->ext_len[n - g->nodes];
    return 0;
}

/* Validates an AttrValue deeply enough that later accessors cannot fail. */
static int check_attr(const uint8_t *p, size_t len, const char **why) {
    fr_pb_attr a;
    if (fr_pb_parse_attr(p, len, &a, why) != 0) return -1;
    if (a.kind == FR_ATTR_SHAPE) {
        fr_pb_shape s;
        return fr_pb_parse_shape(a.ptr, a.len, &s, why);
    }
    if (a.kind == FR_ATTR_TENSOR) {
        fr_pb_tensor t;
        return fr_pb_parse_tensor(a.ptr, a.len, &t, why);
    }
    if (a.kind == FR_ATTR_LIST) {
        int64_t tmp;
        float ftmp;
        if (fr_pb_list_ints(a.ptr, a.len, &tmp, 0) < 0 || fr_pb_list_floats(a.ptr, a.len, &ftmp, 0) < 0)
            return *why = "malformed list attribute", -1;
    }
    return 0;
}

static frost_status parse_node(frost_graph *g, fr_node *n, const uint8_t *p, size_t len, char **err, int idx) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    int n_in = 0, n_attr = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f) != 0) goto bad;
        if (f.number == 3 && f.wire == PB_LEN) n_in++;
        if (f.number == 5 && f.wire == PB_LEN) n_attr++;
    }
    fr_input_ref *ins = n_in ? fr_pool_alloc(&g->pool, sizeof *ins * (size_t)n_in) : NULL;
    n->attrs = n_attr ? fr_pool_alloc(&g->pool, sizeof *n->attrs * (size_t)n_attr) : NULL;
    if ((n_in && !ins) || (n_attr && !n->attrs)) return FROST_E_NO_MEMORY;
    int k_data = 0, k_ctrl = 0;
    r = pb_make(p, len);
    while (pb_more(&r)) {
        if (pb_next(&r, &f) != 0) goto bad;
        if (f.wire != PB_LEN) continue;
        if (f.number == 1) {
            if (!(n->name = fr_pool_strndup(&g->pool, (const char *)f.ptr, f.len))) return FROST_E_NO_MEMORY;
        } else if (f.number == 2) {
            if (!(n->op = fr_pool_strndup(&g->pool, (const char *)f.ptr, f.len))) return FROST_E_NO_MEMORY;
        } else if (f.number == 3) {
            const char *s = (const char *)f.ptr;
            size_t sl = f.len;
            int ctrl = sl > 0 && s[0] == '^';
            if (ctrl) s++, sl--;
            fr_input_ref in = {NULL, -1, 0};
            size_t base = sl;
            /* "name:N" */
            for (size_t i = sl; i > 0; i--) {
                if (s[i - 1] == ':') {
                    int ok = i < sl && sl - i <= 6, v = 0;
                    for (size_t j = i; ok && j < sl; j++) {
                        if (s[j] < '0' || s[j] > '9') ok = 0;
                        else v = v * 10 + (s[j] - '0');
                    }
                    if (ok) base = i - 1, in.index = v;
                    break;
                }
            }
            if (!(in.name = fr_pool_strndup(&g->pool, s, base))) return FROST_E_NO_MEMORY;
            if (ctrl) ins[n_in - 1 - k_ctrl++] = in; /* control inputs fill from the back */
            else ins[k_data++] = in;
        } else if (f.number == 5) {
            pb_reader e = pb_make(f.ptr, f.len);
            pb_field ef;
            fr_attr_ref *a = &n->attrs[n->n_attrs];
            a->key = NULL;
            while (pb_more(&e)) {
                if (pb_next(&e, &ef) != 0) goto bad;
                if (ef.number == 1 && ef.wire == PB_LEN) {
                    if (!(a->key = fr_pool_strndup(&g->pool, (const char *)ef.ptr, ef.len))) return FROST_E_NO_MEMORY;
                } else if (ef.number == 2 && ef.wire == PB_LEN) {
                    a->val = ef.ptr;
                    a->len = ef.len;
                }
            }
            if (!a->key) a->key = "";
            if (!a->val) a->val = (const uint8_t *)"";
            n->n_attrs++;
        }
    }
    n->inputs = ins;
    n->n_inputs = k_data;
    n->n_control = k_ctrl;
    n->control = ins ? ins + k_data : NULL;
    /* control inputs were stored in reverse; restore their order */
    for (int i = 0; i < k_ctrl / 2; i++) {
        fr_input_ref t = n->control[i];
        n->control[i] = n->control[k_ctrl - 1 - i];
        n->control[k_ctrl - 1 - i] = t;
    }
    if (!n->name || !n->name[0]) {
        fr_errorf(err, "%s: node #%d has no name", g->source, idx);
        return FROST_E_PARSE;
    }
    if (!n->op || !n->op[0]) {
        fr_errorf(err, "%s: node '%s' has no op", g->source, n->name);
        return FROST_E_PARSE;
    }
    for (int i = 0; i < n->n_attrs; i++) {
        const char *why = "";
        int rc = check_attr(n->attrs[i].val, n->attrs[i].len, &why);
        if (rc != 0) {
            fr_errorf(err, "%s: node '%s' (%s): attribute '%s': %s", g->source, n->name, n->op, n->attrs[i].key, why);
            return rc == -2 ? FROST_E_LIMIT : FROST_E_PARSE;
        }
    }
    return FROST_OK;
bad:
    fr_errorf(err, "%s: malformed NodeDef #%d (byte offset %zu)", g->source, idx, (size_t)(p - g->data));
    return FROST_E_PARSE;
}


typedef struct {
    const char *name;
    int uses;
    int first;
} op_count;

static int cmp_ops(const void *a, const void *b) {
    const op_count *x = a, *y = b;
    if (x->uses != y->uses) return y->uses - x->uses;
    return strcmp(x->name, y->name);
}

static int cmp_name(const void *a, const void *b) {
    const op_count *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->first - y->first;
}

static frost_status index_graph(frost_graph *g, char **err) {
    int n = g->n_nodes;
    int cap = 16;
    while (cap < 2 * n) cap *= 2;
    g->hash = malloc(sizeof *g->hash * (size_t)cap);
    if (!g->hash) return FROST_E_NO_MEMORY;
    g->hash_cap = cap;
    memset(g->hash, 0xff, sizeof *g->hash * (size_t)cap);
    for (int i = 0; i < n; i++) {
        const char *nm = g->nodes[i].name;
        if (fr_graph_find(g, nm, strlen(nm)) >= 0) {
            fr_errorf(err, "%s: two nodes are named '%s'", g->source, nm);
            return FROST_E_GRAPH;
        }
        uint32_t mask = (uint32_t)cap - 1, h = (uint32_t)fr_name_hash(nm, strlen(nm)) & mask;
        while (g->hash[h] >= 0) h = (h + 1) & mask;
        g->hash[h] = i;
    }
    char *consumed = calloc((size_t)n + 1, 1);
    if (!consumed) return FROST_E_NO_MEMORY;
    for (int i = 0; i < n; i++) {
        fr_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->n_inputs; k++) {
            fr_input_ref *in = &nd->inputs[k];
            in->node = fr_graph_find(g, in->name, strlen(in->name));
            if (in->node >= 0) consumed[in->node] = 1;
        }
        for (int k = 0; k < nd->n_control; k++) {
            fr_input_ref *in = &nd->control[k];
            in->node = fr_graph_find(g, in->name, strlen(in->name));
        }
    }
    g->placeholders = malloc(sizeof(int) * (size_t)(n + 1));
    g->sinks = malloc(sizeof(int) * (size_t)(n + 1));
    op_count *ops = malloc(sizeof *ops * (size_t)(n + 1));
    if (!g->placeholders || !g->sinks || !ops) {
        free(consumed);
        free(ops);
        return FROST_E_NO_MEMORY;
    }
    for (int i = 0; i < n; i++) {
        const fr_node *nd = &g->nodes[i];
        if (!strcmp(nd->op, "Placeholder")) g->placeholders[g->n_placeholders++] = i;
        if (!consumed[i] && strcmp(nd->op, "Const") && strcmp(nd->op, "NoOp") && strcmp(nd->op, "Placeholder"))
            g->sinks[g->n_sinks++] = i;
        if (!strcmp(nd->op, "Const")) {
            fr_pb_tensor t;
            const char *why;
            if (fr_node_const_tensor(g, nd, &t, &why) == 0) {
                g->params += t.count;
                int narrow8 = t.dtype == FR_DT_INT8 || t.dtype == FR_DT_UINT8 || t.dtype == FR_DT_BOOL;
                int narrow16 = t.dtype == FR_DT_INT16 || t.dtype == FR_DT_UINT16 || t.dtype == FR_DT_HALF;
                if (t.content) g->widened_bytes += narrow8 ? 3 * t.content_len : narrow16 ? t.content_len : 0;
            }
        }
        ops[i].name = nd->op;
        ops[i].uses = 1;
        ops[i].first = i;
    }
    free(consumed);
    /* histogram: sort by name, merge, sort by count */
    qsort(ops, (size_t)n, sizeof *ops, cmp_name);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m && !strcmp(ops[m - 1].name, ops[i].name)) ops[m - 1].uses++;
        else ops[m++] = ops[i];
    }
    /* unsupported ops: every type, one node of each */
    size_t msg_len = 0;
    int n_bad = 0;
    for (int i = 0; i < m; i++)
        if (!fr_op_find(ops[i].name) && !fr_feed_op_known(ops[i].name)) {
            n_bad++;
            msg_len += strlen(ops[i].name) + strlen(g->nodes[ops[i].first].name) + 32;
        }
    if (n_bad) {
        char *msg = malloc(msg_len + strlen(g->source) + 64);
        if (msg) {
            size_t o = (size_t)sprintf(msg, "%s: %d unsupported op type%s:", g->source, n_bad, n_bad > 1 ? "s" : "");
            for (int i = 0; i < m; i++)
                if (!fr_op_find(ops[i].name) && !fr_feed_op_known(ops[i].name))
                    o += (size_t)sprintf(msg + o, " %s (node '%s', %d use%s);", ops[i].name,
                                         g->nodes[ops[i].first].name, ops[i].uses, ops[i].uses > 1 ? "s" : "");
            msg[o - 1] = 0;
            if (err) {
                free(*err);
                *err = msg;
            } else {
                free(msg);
            }
        }
        free(ops);
        return FROST_E_UNSUPPORTED_OP;
    }
    qsort(ops, (size_t)m, sizeof *ops, cmp_ops);
    g->n_op_types = m;
    g->op_type_names = malloc(sizeof(char *) * (size_t)(m + 1));
    g->op_type_uses = malloc(sizeof(int) * (size_t)(m + 1));
    if (!g->op_type_names || !g->op_type_uses) {
        free(ops);
        return FROST_E_NO_MEMORY;
    }
    for (int i = 0; i < m; i++) g->op_type_names[i] = ops[i].name, g->op_type_uses[i] = ops[i].uses;
    free(ops);
    return FROST_OK;
}

static frost_status parse_graph(frost_graph *g, char **err) {
    pb_reader r = pb_make(g->data, g->size);
    pb_field f;
    int n = 0;
    while (pb_more(&r)) {
        const uint8_t *at = r.p;
        if (pb_next(&r, &f) != 0) {
            fr_errorf(err, "%s: malformed or truncated GraphDef (byte offset %zu of %zu)", g->source,
                      (size_t)(at - g->data), g->size);
            return FROST_E_PARSE;
        }
        if (f.number == 1) {
            if (f.wire != PB_LEN) {
                fr_errorf(err, "%s: GraphDef field 'node' has the wrong wire type", g->source);
                return FROST_E_PARSE;
            }
            if (n == FR_MAX_NODES) {
                fr_errorf(err, "%s: more than %d nodes (the limit)", g->source, FR_MAX_NODES);
                return FROST_E_LIMIT;
            }
            n++;
        }
    }
    g->nodes = calloc((size_t)n + 1, sizeof *g->nodes);
    if (!g->nodes) return FROST_E_NO_MEMORY;
    r = pb_make(g->data, g->size);
    while (pb_more(&r)) {
        if (pb_next(&r, &f) != 0) return FROST_E_PARSE;
        if (f.number != 1) continue;
        frost_status st = parse_node(g, &g->nodes[g->n_nodes], f.ptr, f.len, err, g->n_nodes);
        if (st != FROST_OK) {
            if (st == FROST_E_NO_MEMORY) fr_errorf(err, "%s: out of memory", g->source);
            return st;
        }
        g->n_nodes++;
    }
    frost_status st = index_graph(g, err);
    if (st == FROST_E_NO_MEMORY) fr_errorf(err, "%s: out of memory", g->source);
    return st;
}

static frost_graph *graph_new(const char *source) {
    frost_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    atomic_init(&g->refs, 1);
    g->source = strdup(source);
    if (!g->source) {
        free(g);
        return NULL;
    }
    return g;
}

static frost_status finish(frost_graph *g, frost_graph **out, char **err) {
    frost_status st = parse_graph(g, err);
    if (st != FROST_OK) {
        frost_graph_free(g);
        return st;
    }
    *out = g;
    return FROST_OK;
}

frost_status frost_graph_load(const char *path, frost_graph **out, char **err) {
    if (err) *err = NULL;
    if (!out) return FROST_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!path) {
        fr_errorf(err, "frost_graph_load: path is NULL");
        return FROST_E_INVALID_ARGUMENT;
    }
    if (fr_sm_is_savedmodel_path(path)) return fr_sm_graph_load(path, out, err); /* src/savedmodel/ */
    void *map;
    const uint8_t *data;
    size_t len;
    frost_status st = fr_map_file(path, FR_MAP_POPULATE, &map, &data, &len, err);
    if (st != FROST_OK) return st;
    frost_graph *g = graph_new(path);
    if (!g) {
        if (map) munmap(map, len);
        return FROST_E_NO_MEMORY;
    }
    g->map = map;
    g->map_len = map ? len : 0;
    g->data = data;
    g->size = len;
    return finish(g, out, err);
}

frost_status frost_graph_load_memory(const void *data, size_t size, int copy, frost_graph **out, char **err) {
    if (err) *err = NULL;
    if (!out) return FROST_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!data && size) {
        fr_errorf(err, "frost_graph_load_memory: data is NULL");
        return FROST_E_INVALID_ARGUMENT;
    }
    frost_graph *g = graph_new("<memory>");
    if (!g) return FROST_E_NO_MEMORY;
    if (copy && size) {
        g->copy = malloc(size);
        if (!g->copy) {
            frost_graph_free(g);
            return FROST_E_NO_MEMORY;
        }
        memcpy(g->copy, data, size);
        g->data = g->copy;
    } else {
        g->data = size ? data : (const uint8_t *)"";
    }
    g->size = size;
    return finish(g, out, err);
}

int frost_graph_node_count(const frost_graph *g) { return g ? g->n_nodes : 0; }
int frost_graph_placeholder_count(const frost_graph *g) { return g ? g->n_placeholders : 0; }
const char *frost_graph_placeholder_name(const frost_graph *g, int i) {
    return g && i >= 0 && i < g->n_placeholders ? g->nodes[g->placeholders[i]].name : NULL;
}
frost_status frost_graph_placeholder_shape(const frost_graph *g, int i, frost_shape *out) {
    if (!g || !out || i < 0 || i >= g->n_placeholders) return FROST_E_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    out->rank = -1;
    fr_pb_attr a;
    if (fr_node_attr_get(&g->nodes[g->placeholders[i]], "shape", &a) == 1 && a.kind == FR_ATTR_SHAPE) {
        fr_pb_shape s;
        const char *why;
        if (fr_pb_parse_shape(a.ptr, a.len, &s, &why) == 0) {
            out->rank = s.rank;
            for (int k = 0; k < s.rank; k++) out->dims[k] = s.dims[k];
        }
    }
    return FROST_OK;
}
int frost_graph_sink_count(const frost_graph *g) { return g ? g->n_sinks : 0; }
const char *frost_graph_sink_name(const frost_graph *g, int i) {
    return g && i >= 0 && i < g->n_sinks ? g->nodes[g->sinks[i]].name : NULL;
}
int frost_graph_op_type_count(const frost_graph *g) { return g ? g->n_op_types : 0; }
const char *frost_graph_op_type_name(const frost_graph *g, int i) {
    return g && i >= 0 && i < g->n_op_types ? g->op_type_names[i] : NULL;
}
int frost_graph_op_type_uses(const frost_graph *g, int i) {
    return g && i >= 0 && i < g->n_op_types ? g->op_type_uses[i] : 0;
}
int64_t frost_graph_param_count(const frost_graph *g) { return g ? g->params : 0; }

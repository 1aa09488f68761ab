/* Freezing a signature, the pieces: string maps, errors, the parsing of
 * NodeDefs, FunctionDefs (on demand) and OpDefs, attribute values, and the
 * function a node calls. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "savedmodel/error.h"
#include "savedmodel/freeze.h"

/* ---------------------------------------------------------------- maps */

/* FNV-1a over 8-byte words (names of nodes are long: "StatefulPartitionedCall/
 * sequential/conv2d/Conv2D"), the tail bytewise. */
static uint32_t map_hash(const char *k, size_t len) {
    uint64_t h = 1469598103934665603ull ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, k + i, 8);
        h = (h ^ w) * 1099511628211ull;
        h ^= h >> 29;
    }
    for (; i < len; i++) h = (h ^ (uint8_t)k[i]) * 1099511628211ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

static int map_find(const fz_map *m, const char *k, size_t len, uint32_t h) {
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const fz_slot *s = &m->slots[i];
        if (!s->key) return -1 - (int)i;
        if (s->hash == h && s->len == len && !memcmp(s->key, k, len)) return (int)i;
    }
}

int fz_map_get(const fz_map *m, const char *k, size_t len) {
    if (!m->cap || len > UINT32_MAX) return -1;
    int i = map_find(m, k, len, map_hash(k, len));
    return i < 0 ? -1 : m->slots[i].val;
}

/* Rehashes m into cap slots (a power of two): 0, -1. */
static int map_resize(fz_map *m, size_t cap) {
    fz_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key) continue;
        size_t j = m->slots[i].hash & (cap - 1);
        while (slots[j].key) j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

/* Slots for n keys at a load of at most 3/4 (a power of two, at least 16). */
static size_t map_cap(size_t n) {
    size_t cap = 16;
    while (cap * 3 < 4 * (n + 1)) cap *= 2;
    return cap;
}

int fz_map_reserve(fz_map *m, size_t n) {
    size_t cap = map_cap(n);
    return cap > m->cap ? map_resize(m, cap) : 0;
}

int fz_map_put(fz_map *m, const char *k, int v) { return fz_map_put_n(m, k, strlen(k), v); }

int fz_map_put_n(fz_map *m, const char *k, size_t len, int v) {
    if (len > UINT32_MAX || (map_cap(m->n) > m->cap && map_resize(m, map_cap(2 * m->n)))) return -1;
    uint32_t h = map_hash(k, len);
    int i = map_find(m, k, len, h);
    if (i >= 0) return 1;
    m->slots[-1 - i] = (fz_slot){k, h, (uint32_t)len, v};
    m->n++;
    return 0;
}

void fz_map_free(fz_map *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}


frost_status fz_fail(fz_ctx *c, frost_status st, const char *fmt, ...) {
    if (c->status == FROST_OK) c->status = st;
    if (c->err && !*c->err) {
        va_list ap;
        va_start(ap, fmt);
        fr_sm_verrorf(c->err, c->desc, fmt, ap);
        va_end(ap);
    }
    return st;
}

frost_status fz_oom(fz_ctx *c) { return fz_fail(c, FROST_E_NO_MEMORY, "out of memory"); }

/* The status of a failure already reported (never FROST_OK). */
frost_status fz_failed(const fz_ctx *c) { return c->status != FROST_OK ? c->status : FROST_E_INTERNAL; }

const char *fz_str(fz_ctx *c, const void *p, size_t n) { return fr_pool_strndup(&c->pool, p, n); }

const char *fz_cat(fz_ctx *c, const char *a, size_t an, const char *b, size_t bn, char c0, long k) {
    char num[24], small[256];
    size_t nn = 0;
    if (k >= 0) {
        char rev[24];
        do rev[nn++] = (char)('0' + k % 10);
        while ((k /= 10) > 0);
        for (size_t i = 0; i < nn; i++) num[i] = rev[nn - 1 - i];
    }
    size_t n = an + bn + (c0 != 0) + nn;
    char *buf = n <= sizeof small ? small : malloc(n);
    if (!buf) return NULL;
    memcpy(buf, a, an);
    memcpy(buf + an, b, bn);
    if (c0) buf[an + bn] = c0;
    memcpy(buf + an + bn + (c0 != 0), num, nn);
    const char *s = fr_pool_strndup(&c->pool, buf, n);
    if (buf != small) free(buf);
    return s;
}

const char *fz_fmt(fz_ctx *c, const char *fmt, ...) {
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
int fz_grow(fz_ctx *c, void **p, int *cap, int n, size_t size) {
    if (n < *cap) return 0;
    int ncap = *cap ? 2 * *cap : 64;
    void *q = realloc(*p, size * (size_t)ncap);
    if (!q) return fz_oom(c), -1;
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
    if (!ins || !n->attr) return fz_oom(c);
    int nd = 0, nc = 0;
    n->name = n->op = no_name;
    r = pb_make(p, len);
    while (pb_more(&r)) {
        pb_next(&r, &f);
        if (f.wire != PB_LEN) continue;
        if (f.number == 1 && !(n->name = fz_str(c, f.ptr, f.len))) return fz_oom(c);
        else if (f.number == 2 && !(n->op = fz_str(c, f.ptr, f.len))) return fz_oom(c);
        else if (f.number == 3) {
            int ctrl = f.len && f.ptr[0] == '^';
            const char *s = ctrl ? fz_str(c, f.ptr + 1, f.len - 1) : fz_str(c, f.ptr, f.len);
            if (!s) return fz_oom(c);
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
                if (g.number == 1 && g.wire == PB_LEN) a->key = (const char *)g.ptr, a->key_len = g.len;
                else if (g.number == 2 && g.wire == PB_LEN) a->val = g.ptr, a->len = g.len;
            }
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

/* Whether the fields of p[0..len) are well-formed protobuf; `inner`: the
 * fields numbered so are messages, checked one level further. */
static int wire_ok(const uint8_t *p, size_t len, uint32_t inner) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return 0;
        if (inner && f.number == inner && f.wire == PB_LEN && !wire_ok(f.ptr, f.len, 0)) return 0;
    }
    return 1;
}

/* Name = 1 and op = 2 of a NodeDef (the last of each, as protobuf reads
 * them): 0, or -1 (reported) when malformed or either is missing.  check:
 * also the wire format of each attribute, its map entry and the AttrValue's
 * own fields (TensorFlow parses every node of saved_model.pb: a malformed
 * one fails the load there too); what lies deeper (shapes, tensors, lists)
 * is read when the signature reaches the node. */
static int ndef_head(fz_ctx *c, const uint8_t *p, size_t len, int check, pb_field *name, pb_field *op) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    memset(name, 0, sizeof *name);
    memset(op, 0, sizeof *op);
    int bad = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return fz_fail(c, FROST_E_PARSE, "malformed NodeDef in the graph"), -1;
        if (f.number == 1 && f.wire == PB_LEN) *name = f;
        else if (f.number == 2 && f.wire == PB_LEN) *op = f;
        else if (check && f.number == 5 && f.wire == PB_LEN && !wire_ok(f.ptr, f.len, 2)) bad = 1;
    }
    if (!name->len) return fz_fail(c, FROST_E_PARSE, "a node of the graph has no name"), -1;
    if (!op->len)
        return fz_fail(c, FROST_E_PARSE, "node '%.*s' of the graph has no op", (int)name->len, (const char *)name->ptr), -1;
    if (bad)
        return fz_fail(c, FROST_E_PARSE, "node '%.*s' of the graph has a malformed attribute", (int)name->len,
                       (const char *)name->ptr),
               -1;
    return 0;
}

/* The length-delimited fields `field` of p counted into *n; as nodes
 * (limit: the nodes of all scopes together), counted against the limit. */
static frost_status count_fields(fz_ctx *c, const uint8_t *p, size_t len, uint32_t field, const char *where,
                                 int nodes, long *n) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    *n = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return fz_fail(c, FROST_E_PARSE, "malformed %s", where);
        if (f.number == field && f.wire == PB_LEN) ++*n;
    }
    if (!nodes) return FROST_OK;
    if (*n + c->instantiated > FZ_MAX_NODES)
        return fz_fail(c, FROST_E_LIMIT, "%s: more than %d nodes in all (the limit)", where, FZ_MAX_NODES);
    c->instantiated += *n;
    return FROST_OK;
}

frost_status fz_parse_outer(fz_ctx *c) {
    long n;
    frost_status st = count_fields(c, c->mg->graph_def, c->mg->graph_def_len, 1, "the graph", 1, &n);
    if (st != FROST_OK) return st;
    c->nodes = malloc(sizeof *c->nodes * (size_t)(n + 1)); /* written as made */
    c->made = fr_pool_alloc(&c->pool, (size_t)n + 1);
    c->outer_raw = fr_pool_alloc(&c->pool, sizeof *c->outer_raw * (size_t)(n + 1));
    c->outer_len = fr_pool_alloc(&c->pool, sizeof *c->outer_len * (size_t)(n + 1));
    if (!c->nodes || !c->made || !c->outer_raw || !c->outer_len || fz_map_reserve(&c->idx, (size_t)n)) return fz_oom(c);
    pb_field f;
    for (pb_reader r = pb_make(c->mg->graph_def, c->mg->graph_def_len); pb_more(&r);) {
        pb_next(&r, &f);
        if (f.number != 1 || f.wire != PB_LEN) continue;
        pb_field name, op;
        if (ndef_head(c, f.ptr, f.len, 1, &name, &op)) return fz_failed(c);
        int rc = fz_map_put_n(&c->idx, (const char *)name.ptr, name.len, c->n_nodes);
        if (rc < 0) return fz_oom(c);
        if (rc > 0)
            return fz_fail(c, FROST_E_GRAPH, "two nodes of the graph are named '%.*s'", (int)name.len,
                           (const char *)name.ptr);
        c->outer_raw[c->n_nodes] = f.ptr;
        c->outer_len[c->n_nodes++] = f.len;
    }
    return FROST_OK;
}

const fz_ndef *fz_outer(fz_ctx *c, int i) {
    fz_ndef *n = &c->nodes[i];
    if (c->made[i]) return n;
    memset(n, 0, sizeof *n);
    n->name = n->op = no_name;
    pb_field name, op;
    if (ndef_head(c, c->outer_raw[i], c->outer_len[i], 0, &name, &op)) return n; /* checked by fz_parse_outer */
    const char *nm = fz_str(c, name.ptr, name.len), *o = fz_str(c, op.ptr, op.len);
    if (!nm || !o) return fz_oom(c), n;
    n->name = nm;
    n->op = o;
    n->lazy = 1;
    n->raw = c->outer_raw[i];
    n->raw_len = c->outer_len[i];
    c->made[i] = 1;
    return n;
}

int fz_ndef_full(fz_ctx *c, const fz_ndef *cn) {
    if (!cn->lazy) return 0;
    fz_ndef *n = (fz_ndef *)(uintptr_t)cn; /* a node of c's arrays */
    const char *name = n->name, *op = n->op;
    const uint8_t *raw = n->raw;
    size_t raw_len = n->raw_len;
    frost_status st = parse_ndef(c, raw, raw_len, n, "the graph");
    if (st != FROST_OK) { /* what the head gave, no inputs, not parsed again */
        memset(n, 0, sizeof *n);
        n->name = name;
        n->op = op;
        return -1;
    }
    return 0;
}

frost_status fz_parse_nodes(fz_ctx *c, const uint8_t *p, size_t len, uint32_t field, const char *where, int *n_out,
                            fz_ndef **out, fz_map *idx) {
    long n;
    frost_status st = count_fields(c, p, len, field, where, 1, &n);
    if (st != FROST_OK) return st;
    *out = fr_pool_alloc(&c->pool, sizeof **out * (size_t)(n + 1));
    if (!*out || fz_map_reserve(idx, (size_t)n)) return fz_oom(c);
    *n_out = 0;
    pb_field f;
    for (pb_reader r = pb_make(p, len); pb_more(&r);) {
        pb_next(&r, &f);
        if (f.number != field || f.wire != PB_LEN) continue;
        fz_ndef *nd = &(*out)[*n_out];
        if ((st = parse_ndef(c, f.ptr, f.len, nd, where)) != FROST_OK) return st;
        int rc = fz_map_put(idx, nd->name, *n_out);
        if (rc < 0) return fz_oom(c);
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
        if (f.number == 1 && f.wire == PB_LEN) return fz_str(c, f.ptr, f.len);
    }
    return no_name;
}

frost_status fz_parse_library(fz_ctx *c) {
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
                if (!fns) return fz_oom(c);
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
            int rc = fz_map_put(&c->fn_idx, fn->name, c->n_fns);
            if (rc < 0) return fz_oom(c);
            if (rc > 0) return fz_fail(c, FROST_E_GRAPH, "two functions of the library are named '%s'", fn->name);
            c->n_fns++;
        }
    }
    return FROST_OK;
}

frost_status fz_parse_op_list(fz_ctx *c) {
    long n;
    frost_status st = count_fields(c, c->mg->op_list, c->mg->op_list_len, 1, "stripped_op_list", 0, &n);
    if (st != FROST_OK) return st;
    c->op_raw = fr_pool_alloc(&c->pool, sizeof *c->op_raw * (size_t)(n + 1));
    c->op_len = fr_pool_alloc(&c->pool, sizeof *c->op_len * (size_t)(n + 1));
    if (!c->op_raw || !c->op_len) return fz_oom(c);
    int k = 0;
    pb_field f;
    for (pb_reader r = pb_make(c->mg->op_list, c->mg->op_list_len); pb_more(&r);) {
        pb_next(&r, &f);
        if (f.number != 1 || f.wire != PB_LEN) continue;
        const char *name = opdef_name(c, f.ptr, f.len);
        if (!name) return fz_fail(c, FROST_E_PARSE, "malformed OpDef in stripped_op_list");
        c->op_raw[k] = f.ptr;
        c->op_len[k] = f.len;
        if (fz_map_put(&c->op_idx, name, k) < 0) return fz_oom(c);
        k++;
    }
    return FROST_OK;
}

int fz_parse_arg(const uint8_t *p, size_t len, fz_arg *a) {
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
frost_status fz_fn_parse(fz_ctx *c, fz_fn *fn) {
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
    if (!fn->args || !fn->rets) return fz_oom(c);
    r = pb_make(fn->sig, fn->sig_len);
    while (pb_more(&r)) {
        pb_next(&r, &f);
        if ((f.number != 2 && f.number != 3) || f.wire != PB_LEN) continue;
        fz_arg a;
        if (fz_parse_arg(f.ptr, f.len, &a)) return fz_fail(c, FROST_E_PARSE, "malformed argument of %s", where);
        const char *name = fz_str(c, a.name ? a.name : (const uint8_t *)"", a.name_len);
        if (!name) return fz_oom(c);
        if (a.number_attr || a.list_attr) fn->list_args = 1;
        if (f.number == 2) {
            if (fz_map_put(&fn->arg_idx, name, fn->n_args) < 0) return fz_oom(c);
            fn->args[fn->n_args++] = name;
        } else {
            fn->rets[fn->n_rets++] = name; /* replaced by the ret map's value below */
        }
    }
    /* ret = 4: map<string, string> from output arg name to tensor */
    const char **vals = fr_pool_alloc(&c->pool, sizeof *vals * (size_t)(fn->n_rets + 1));
    if (!vals) return fz_oom(c);
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
            if (strlen(fn->rets[i]) == kl && !memcmp(fn->rets[i], k, kl) && !(vals[i] = fz_str(c, v, vl))) return fz_oom(c);
    }
    for (int i = 0; i < fn->n_rets; i++) {
        if (!vals[i]) return fz_fail(c, FROST_E_GRAPH, "%s: output '%s' has no ret entry", where, fn->rets[i]);
        fn->rets[i] = vals[i];
    }
    frost_status st = fz_parse_nodes(c, fn->raw, fn->len, 3, where, &fn->n_nodes, &fn->nodes, &fn->idx);
    if (st != FROST_OK) return st;
    fn->parsed = 1;
    return FROST_OK;
}

/* ---------------------------------------------------------------- attributes */

const fz_attr *fz_attr_find(const fz_ndef *n, const char *key) {
    size_t len = strlen(key);
    for (int i = 0; i < n->n_attr; i++)
        if (n->attr[i].key_len == len && !memcmp(n->attr[i].key, key, len)) return &n->attr[i];
    return NULL;
}

/* The AttrValue field `number` (first occurrence); 0 when absent. */
int fz_attr_field(const fz_attr *a, uint32_t number, pb_field *out) {
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

int64_t fz_attr_int(const fz_ndef *n, const char *key, int64_t dflt) {
    pb_field f;
    return fz_attr_field(fz_attr_find(n, key), 3, &f) && f.wire == PB_VARINT ? (int64_t)f.u : dflt;
}

int fz_attr_type(const fz_ndef *n, const char *key) {
    pb_field f;
    if (!fz_attr_field(fz_attr_find(n, key), 6, &f) || f.wire != PB_VARINT) return 0;
    int t = (int)(f.u & 0x7fffffff);
    return t > 100 ? t - 100 : t;
}

/* Entries of list(type) (ListValue.type = 6, packed or not). */
int fz_attr_list_types(const fz_ndef *n, const char *key) {
    pb_field f;
    if (!fz_attr_field(fz_attr_find(n, key), 1, &f) || f.wire != PB_LEN) return 0;
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
int fz_is_call_op(const char *op) { return !strcmp(op, "StatefulPartitionedCall") || !strcmp(op, "PartitionedCall"); }

static const char *call_target_uncached(fz_ctx *c, const fz_ndef *n) {
    if (fz_is_call_op(n->op)) {
        pb_field f;
        if (fz_ndef_full(c, n)) return no_name;
        if (!fz_attr_field(fz_attr_find(n, "f"), 10, &f) || f.wire != PB_LEN) return no_name;
        pb_reader r = pb_make(f.ptr, f.len);
        pb_field g;
        while (pb_more(&r)) {
            if (pb_next(&r, &g)) break;
            if (g.number == 1 && g.wire == PB_LEN) return fz_str(c, g.ptr, g.len);
        }
        return no_name;
    }
    return fz_map_get(&c->fn_idx, n->op, strlen(n->op)) >= 0 ? n->op : NULL;
}

const char *fz_call_target(fz_ctx *c, const fz_ndef *cn) {
    fz_ndef *n = (fz_ndef *)(uintptr_t)cn; /* the cache only */
    if (!n->callee_known) {
        n->callee = call_target_uncached(c, n);
        n->callee_known = 1;
    }
    return n->callee;
}

fz_fn *fz_fn_find(fz_ctx *c, const char *name) {
    int i = fz_map_get(&c->fn_idx, name, strlen(name));
    return i < 0 ? NULL : &c->fns[i];
}

/* Freezing a signature: the resolution of tensors from the outputs, on an
 * explicit stack.  Calls are inlined (a scope per call: arguments bound to
 * the call's inputs, outputs the function's `ret` tensors, nodes named
 * "CALL/NODE"; FunctionDef inputs "node:arg:index" translated to flat output
 * indices with the OpDefs); IdentityN and PlaceholderWithDefault forward
 * their inputs, NoOps vanish, everything else is emitted. */
#include <stdlib.h>
#include <string.h>

#include "savedmodel/freeze.h"

/* ---------------------------------------------------------------- emitted nodes */

static const char *uniq_name(fz_ctx *c, const char *base) {
    if (fz_map_get(&c->names, base, strlen(base)) < 0) return base;
    for (long i = 1;; i++) {
        const char *s = fz_cat(c, base, strlen(base), "", 0, '_', i);
        if (!s || fz_map_get(&c->names, s, strlen(s)) < 0) return s;
    }
}

/* Appends a node named after `base` (made unique); its index, -1 on failure. */
int fz_emit_node(fz_ctx *c, const char *base, const char *op, int kind) {
    if (c->n_em >= FZ_MAX_NODES) {
        fz_fail(c, FROST_E_LIMIT, "the frozen graph would have more than %d nodes", FZ_MAX_NODES);
        return -1;
    }
    if (fz_grow(c, (void **)&c->em, &c->cap_em, c->n_em, sizeof *c->em)) return -1;
    const char *name = uniq_name(c, base);
    if (!name || fz_map_put(&c->names, name, c->n_em) < 0) return fz_oom(c), -1;
    fz_emit *e = &c->em[c->n_em];
    memset(e, 0, sizeof *e);
    e->name = name;
    e->op = op;
    e->kind = kind;
    e->var = e->input = -1;
    return c->n_em++;
}

static const char *tensor_of(fz_ctx *c, int e, int k) {
    const char *n = c->em[e].name;
    return k ? fz_cat(c, n, strlen(n), "", 0, ':', k) : n;
}

/* ---------------------------------------------------------------- scopes */

fz_scope *fz_scope_new(fz_ctx *c, fz_scope *parent, fz_fn *fn, int call, const char *prefix) {
    int n = fn ? fn->n_nodes : c->n_nodes;
    if (parent) {
        if (c->instantiated + n + 1 > FZ_MAX_NODES) {
            fz_fail(c, FROST_E_LIMIT, "inlining the functions would make more than %d nodes", FZ_MAX_NODES);
            return NULL;
        }
        c->instantiated += n + 1; /* an empty function costs a scope all the same */
    }
    fz_scope *s = fr_pool_alloc(&c->pool, sizeof *s);
    if (!s) return fz_oom(c), NULL;
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
    if (!s->state || !s->emitted || !s->fwd || !s->n_fwd || !s->child) return fz_oom(c), NULL;
    for (int i = 0; i < n; i++) s->emitted[i] = -1;
    return s;
}

/* Node i of scope s (an outer node made on first use). */
static const fz_ndef *node_at(fz_ctx *c, const fz_scope *s, int i) { return s->fn ? &s->nodes[i] : fz_outer(c, i); }

/* The inlined body of call node `node` of scope s. */
static fz_scope *scope_child(fz_ctx *c, fz_scope *s, int node) {
    if (s->child[node]) return s->child[node];
    const fz_ndef *nd = node_at(c, s, node);
    if (fz_ndef_full(c, nd)) return NULL;
    const char *callee = fz_call_target(c, nd);
    fz_fn *fn = callee ? fz_fn_find(c, callee) : NULL;
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
    if (fz_fn_parse(c, fn) != FROST_OK) return NULL;
    if (fn->list_args) {
        fz_fail(c, FROST_E_UNSUPPORTED_OP, "function '%s' has list-typed arguments: not supported", fn->name);
        return NULL;
    }
    if (nd->n_in != fn->n_args) {
        fz_fail(c, FROST_E_GRAPH, "node '%s%s' passes %d inputs to function '%s', which takes %d", s->prefix, nd->name,
                nd->n_in, fn->name, fn->n_args);
        return NULL;
    }
    const char *prefix = fz_cat(c, s->prefix, strlen(s->prefix), nd->name, strlen(nd->name), '/', -1);
    if (!prefix) return fz_oom(c), NULL;
    fz_scope *ch = fz_scope_new(c, s, fn, node, prefix);
    s->child[node] = ch;
    return ch;
}

/* ---------------------------------------------------------------- resolution */

int fz_parse_uint(const char *p, size_t n, int *out) {
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
    const char *callee = fz_call_target(c, nd);
    if (callee && fz_is_call_op(nd->op)) {
        *flat = idx; /* one list output, "output" */
        return 0;
    }
    const uint8_t *od = NULL;
    size_t ol = 0;
    if (callee) {
        fz_fn *fn = fz_fn_find(c, callee);
        if (fn) od = fn->sig, ol = fn->sig_len;
    } else {
        int i = fz_map_get(&c->op_idx, nd->op, strlen(nd->op));
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
        if (fz_parse_arg(f.ptr, f.len, &a)) break;
        long size = 1;
        if (a.number_attr) {
            const char *k = fz_str(c, a.number_attr, a.number_len);
            size = k ? fz_attr_int(nd, k, 1) : 1;
        } else if (a.list_attr) {
            const char *k = fz_str(c, a.list_attr, a.list_len);
            size = k ? fz_attr_list_types(nd, k) : 1;
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
            int in = fz_map_get(&c->in_idx, ref, len); /* "node:k", and "node" for k = 0 */
            if (in >= 0) {
                *v = c->in_val[in];
                return 0;
            }
            const char *colon = strrchr(ref, ':');
            if (colon && !fz_parse_uint(colon + 1, strlen(colon + 1), &k)) len = (size_t)(colon - ref);
            else k = 0;
            node = fz_map_get(s->idx, ref, len);
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
            int arg = fz_map_get(&s->fn->arg_idx, ref, nlen);
            if (arg >= 0 && !p2) {
                if (p1 && (fz_parse_uint(p1 + 1, strlen(p1 + 1), &k) || k != 0)) {
                    fz_fail(c, FROST_E_GRAPH, "function '%s': input '%s' asks for an element of a single argument",
                            s->fn->name, ref);
                    return -1;
                }
                /* the argument: the call's input in the caller's scope */
                ref = node_at(c, s->parent, s->call)->in[arg];
                s = s->parent;
                continue;
            }
            node = fz_map_get(s->idx, ref, nlen);
            if (node < 0) {
                fz_fail(c, FROST_E_GRAPH, "function '%s': input '%s' names neither an argument nor a node", s->fn->name,
                        ref);
                return -1;
            }
            if (p1) {
                int idx = 0;
                size_t alen = p2 ? (size_t)(p2 - p1 - 1) : strlen(p1 + 1);
                if (p2 && fz_parse_uint(p2 + 1, strlen(p2 + 1), &idx)) {
                    fz_fail(c, FROST_E_GRAPH, "function '%s': malformed input '%s'", s->fn->name, ref);
                    return -1;
                }
                if (flat_index(c, s, node_at(c, s, node), p1 + 1, alen, idx, &k)) return -1;
            }
        }
        const fz_ndef *nd = node_at(c, s, node);
        if (fz_call_target(c, nd)) {
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
                if (!t) return fz_oom(c), -1;
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
        if (!t) return fz_oom(c), -1;
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
    if (!f) return fz_oom(c), -1;
    if (n) memcpy(f, v, sizeof *f * (size_t)n);
    s->fwd[node] = f;
    s->n_fwd[node] = n;
    return 0;
}

/* Resolves node (s, node): 0 done, 1 pending on (*ps, *pn), -1 error. */
static int process(fz_ctx *c, fz_scope *s, int node, fz_scope **ps, int *pn) {
    const fz_ndef *nd = node_at(c, s, node);
    if (fz_ndef_full(c, nd)) return -1;
    const char *op = nd->op;
    if (!strcmp(op, "NoOp")) return 0;
    if (fz_changes_state(op)) { /* (the check before the resolution sees all but what hides behind fed nodes) */
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
        int v = fz_var_of_node(c, node);
        if (v < 0) return -1;
        fz_val val = {NULL, v, -1};
        if (strcmp(op, "VarHandleOp") && fz_var_const(c, v, &val)) return -1; /* a reference variable is its value */
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
        if (fz_var_const(c, c->tmp[0].var, &val)) return -1;
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
                    s->prefix, nd->name, op, fz_outer(c, c->vars[c->tmp[i].var].node)->name, i);
            return -1;
        }
    const char *base =
        s->prefix[0] ? fz_cat(c, s->prefix, strlen(s->prefix), nd->name, strlen(nd->name), 0, -1) : nd->name;
    if (!base) return fz_oom(c), -1;
    int e = fz_emit_node(c, base, op, EM_NODE);
    if (e < 0) return -1;
    fz_emit *em = &c->em[e];
    em->src = nd;
    em->n_in = nd->n_in;
    em->in = fr_pool_alloc(&c->pool, sizeof *em->in * (size_t)(nd->n_in + 1));
    if (!em->in) return fz_oom(c), -1;
    if (nd->n_in) memcpy(em->in, c->tmp, sizeof *em->in * (size_t)nd->n_in);
    s->emitted[node] = e;
    return 0;
}

static int push(fz_ctx *c, fz_scope *s, int n) {
    if (fz_grow(c, (void **)&c->stack, &c->cap_sp, c->sp, sizeof *c->stack)) return -1;
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
            fz_fail(c, FROST_E_GRAPH, "the graph has a cycle through node '%s%s'", ps->prefix, node_at(c, ps, pn)->name);
            return -1;
        }
        if (push(c, ps, pn)) return -1;
    }
    return 0;
}

int fz_resolve_root(fz_ctx *c, const char *tensor, fz_val *out) {
    for (;;) {
        fz_scope *ps;
        int pn;
        int r = resolve(c, c->outer, tensor, out, &ps, &pn);
        if (r <= 0) return r;
        if (run(c, ps, pn)) return -1;
    }
}

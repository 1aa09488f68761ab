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
 * missing functions, cycles and absurd nesting are errors.
 *
 * This file is the driver (inputs, outputs, pruning, the GraphDef written);
 * the parts are listed in freeze.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pb/pbwriter.h"
#include "savedmodel/freeze.h"

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
static void attr_entry_n(fr_pbw *attrs, fr_pbw *scratch, const char *key, size_t key_len, const void *val, size_t len) {
    fr_pbw_reset(scratch);
    fr_pbw_bytes(scratch, 1, key, key_len);
    fr_pbw_bytes(scratch, 2, val, len);
    fr_pbw_msg(attrs, 5, scratch);
}

static void attr_entry(fr_pbw *attrs, fr_pbw *scratch, const char *key, const void *val, size_t len) {
    attr_entry_n(attrs, scratch, key, strlen(key), val, len);
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
    int node = fz_outer_node_of(c, t->name);
    if (node < 0) return;
    const fz_ndef *n = fz_outer(c, node);
    if (fz_ndef_full(c, n)) return;
    if (!*dtype) *dtype = fz_attr_type(n, "dtype");
    if (!*dtype) *dtype = fz_attr_type(n, "T");
    if (sh->rank >= 0) return;
    pb_field f;
    const char *why;
    if (fz_attr_field(fz_attr_find(n, "shape"), 7, &f) && f.wire == PB_LEN && !fr_pb_parse_shape(f.ptr, f.len, sh, &why))
        return;
    /* _output_shapes: list(shape), the k-th entry */
    int k = 0;
    const char *colon = strrchr(t->name, ':');
    if (colon) fz_parse_uint(colon + 1, strlen(colon + 1), &k);
    sh->rank = -1;
    if (fz_attr_field(fz_attr_find(n, "_output_shapes"), 1, &f) && f.wire == PB_LEN) {
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
/* Maps the pages of a large new buffer in one call, before the variables
 * are copied into it: page by page, first-touch faults are most of a
 * SavedModel's load time on virtual machines.  A kernel without
 * MADV_POPULATE_WRITE (before Linux 5.14) refuses it: the pages then fault
 * in as they are written. */
static void prefault(void *p, size_t n) {
#ifdef MADV_POPULATE_WRITE
    long page = sysconf(_SC_PAGESIZE);
    if (!p || page <= 0 || n < ((size_t)1 << 20)) return;
    uintptr_t a = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~((uintptr_t)page - 1);
    if (e > a) (void)madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)n;
#endif
}

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

int fz_var_external(const fz_ctx *c, const fr_bundle_entry *ent, const uint8_t *data) {
    const fr_bundle *bd = c->sm->bundle;
    return c->external && ent->dtype == FR_DT_FLOAT && ent->count > 1 && bd && bd->map && bd->map[ent->shard] &&
           ((uintptr_t)data & 3) == 0;
}

static int var_external(const fz_ctx *c, const fz_var *x) {
    return fz_var_external(c, x->entry, x->data);
}

/* The Const of an external variable: its TensorProto has dtype and shape,
 * the content is recorded in c->out. */
static void write_var_external(fz_ctx *c, wbuf *b, const fz_emit *e, const fz_var *x) {
    fr_pbw_reset(&b->tp);
    fr_pbw_int(&b->tp, 1, x->entry->dtype);
    fr_pbw_reset(&b->scratch);
    fr_pbw_shape(&b->scratch, x->entry->shape.rank, x->entry->shape.dims);
    fr_pbw_msg(&b->tp, 2, &b->scratch);
    fr_pbw_reset(&b->val);
    fr_pbw_msg(&b->val, 8, &b->tp);
    attr_entry(&b->attrs, &b->scratch, "value", b->val.data, b->val.len);
    fr_sm_frozen *o = c->out;
    c->ext_name[o->n_ext] = e->name;
    o->ext_entry[o->n_ext++] = x->entry;
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
            if (a->key_len == 6 && !memcmp(a->key, "_class", 6)) continue; /* colocation with nodes that may be gone */
            attr_entry_n(&b->attrs, &b->scratch, a->key, a->key_len, a->val, a->len);
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
        if (var_external(c, x)) {
            write_var_external(c, b, e, x);
        } else if (ent->count != 1 || (ent->dtype != FR_DT_FLOAT && ent->dtype != FR_DT_INT32 && ent->dtype != FR_DT_BOOL)) {
            write_var_node(c, out, b, x);
            return;
        } else {
            /* one value: in the typed field, as TensorFlow writes scalars
             * (and as importers such as OpenCV read them) */
            fr_pbw_reset(&b->tp);
            fr_pbw_tensor(&b->tp, ent->dtype, ent->shape.rank, ent->shape.dims, x->data, (size_t)ent->size);
            fr_pbw_reset(&b->val);
            fr_pbw_msg(&b->val, 8, &b->tp);
            attr_entry(&b->attrs, &b->scratch, "value", b->val.data, b->val.len);
        }
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
    for (int i = 0; f->ext_name && i < f->n_ext; i++) free(f->ext_name[i]);
    free(f->ext_name);
    free(f->ext_entry);
    fr_bundle_free(f->bundle);
    memset(f, 0, sizeof *f);
}

static frost_status freeze(fz_ctx *c, fr_sm_frozen *out) {
    const fr_sm_signature *sig = c->sig;
    frost_status st;
    if ((st = fz_parse_outer(c)) || (st = fz_parse_library(c)) || (st = fz_parse_op_list(c))) return st;
    c->var_key = fr_pool_alloc(&c->pool, sizeof *c->var_key * (size_t)(c->n_nodes + 1));
    c->var_of = fr_pool_alloc(&c->pool, sizeof *c->var_of * (size_t)(c->n_nodes + 1));
    c->in_val = fr_pool_alloc(&c->pool, sizeof *c->in_val * (size_t)(sig->n_inputs + 1));
    int *roots = fr_pool_alloc(&c->pool, sizeof *roots * (size_t)(sig->n_outputs + 1));
    fz_val *outs = fr_pool_alloc(&c->pool, sizeof *outs * (size_t)(sig->n_outputs + 1));
    if (!c->var_key || !c->var_of || !c->in_val || !roots || !outs) return fz_oom(c);
    for (int i = 0; i < c->n_nodes; i++) c->var_of[i] = -1;
    if (!strcmp(sig->key, "__saved_model_init_op"))
        return fz_fail(c, FROST_E_INVALID_ARGUMENT, "this is the SavedModel's initialization op, not a computation to run");
    if (!sig->n_outputs) return fz_fail(c, FROST_E_GRAPH, "the signature has no outputs");
    for (int i = 0; i < sig->n_outputs; i++) {
        const fr_sm_tensor *t = &sig->outputs[i];
        if (!t->name[0])
            return fz_fail(c, FROST_E_UNSUPPORTED_OP, "output '%s' is a sparse or composite tensor: not supported", t->key);
        if ((roots[i] = fz_outer_node_of(c, t->name)) < 0)
            return fz_fail(c, FROST_E_GRAPH, "output '%s' is the tensor '%s', which is not in the graph", t->key, t->name);
    }
    for (int i = 0; i < sig->n_inputs; i++) {
        const fr_sm_tensor *t = &sig->inputs[i];
        if (!t->name[0])
            return fz_fail(c, FROST_E_UNSUPPORTED_OP, "input '%s' is a sparse or composite tensor: not supported", t->key);
        int node = fz_outer_node_of(c, t->name);
        if (node < 0)
            return fz_fail(c, FROST_E_GRAPH, "input '%s' is the tensor '%s', which is not in the graph", t->key, t->name);
        const char *colon = strrchr(t->name, ':');
        int k = 0;
        if (colon && fz_parse_uint(colon + 1, strlen(colon + 1), &k)) k = 0;
        const char *name = fz_outer(c, node)->name;
        const char *key = fz_fmt(c, "%s:%d", name, k);
        if (!key) return fz_oom(c);
        int rc = fz_map_put(&c->in_idx, key, i);
        if (rc < 0) return fz_oom(c);
        if (rc > 0) return fz_fail(c, FROST_E_GRAPH, "two inputs of the signature are the tensor '%s'", t->name);
        if (k == 0 && fz_map_put(&c->in_idx, name, i) < 0) return fz_oom(c); /* "node" is "node:0" */
        const char *base = k ? fz_fmt(c, "%s_%d", name, k) : name;
        int e = base ? fz_emit_node(c, base, "Placeholder", EM_INPUT) : (fz_oom(c), -1);
        if (e < 0) return fz_failed(c);
        c->em[e].input = i;
        c->in_val[i] = (fz_val){c->em[e].name, -1, e};
    }
    if ((st = fz_check_signature_state(c, roots, sig->n_outputs)) != FROST_OK || (st = fz_map_captures(c)) != FROST_OK)
        return st;
    if (!(c->outer = fz_scope_new(c, NULL, NULL, -1, ""))) return fz_failed(c);
    for (int i = 0; i < sig->n_outputs; i++) {
        if (fz_resolve_root(c, sig->outputs[i].name, &outs[i])) return fz_failed(c);
        if (outs[i].var >= 0)
            return fz_fail(c, FROST_E_UNSUPPORTED_OP, "output '%s' is the handle of a variable, not a tensor",
                           sig->outputs[i].key);
    }
    /* keep what the outputs reach (and the inputs) */
    int n_em = c->n_em;
    int *stack = malloc(sizeof(int) * ((size_t)n_em + 1));
    if (!stack) return fz_oom(c);
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
    if (!out_e) return fz_oom(c);
    for (int i = 0; i < sig->n_outputs; i++) {
        const char *tn = sig->outputs[i].name, *colon = strrchr(tn, ':');
        int k = 0;
        size_t nlen = strlen(tn);
        if (colon && !fz_parse_uint(colon + 1, strlen(colon + 1), &k)) nlen = (size_t)(colon - tn);
        else k = 0;
        fz_emit *e = &c->em[outs[i].e];
        if (e->kind == EM_NODE && !e->consumed && !e->claimed && !strcmp(outs[i].t, e->name) && strlen(e->name) == nlen &&
            !strncmp(e->name, tn, nlen)) {
            e->claimed = 1;
            out_e[i] = outs[i].e;
            continue;
        }
        const char *base = k ? fz_fmt(c, "%.*s_%d", (int)nlen, tn, k) : fz_str(c, tn, nlen);
        int id = base ? fz_emit_node(c, base, "Identity", EM_IDENTITY) : (fz_oom(c), -1);
        if (id < 0) return fz_failed(c);
        fz_emit *ie = &c->em[id];
        ie->input = i;
        ie->keep = ie->claimed = 1;
        ie->n_in = 1;
        ie->in = fr_pool_alloc(&c->pool, sizeof *ie->in);
        if (!ie->in) return fz_oom(c);
        ie->in[0] = outs[i];
        c->em[outs[i].e].consumed = 1;
        out_e[i] = id;
    }
    /* write: inputs, the rest in the order resolved (dependencies first), outputs */
    size_t est = 4096;
    int n_ext = 0;
    for (int i = 0; i < c->n_em; i++) {
        const fz_emit *e = &c->em[i];
        if (!e->keep) continue;
        est += 256 + strlen(e->name);
        for (int k = 0; k < e->n_in; k++) est += strlen(e->in[k].t) + 4;
        if (e->kind == EM_VAR) n_ext++;
        if (e->kind == EM_VAR && !var_external(c, &c->vars[e->var])) est += (size_t)c->vars[e->var].entry->size + 64;
        if (e->kind == EM_NODE)
            for (int k = 0; k < e->src->n_attr; k++) est += e->src->attr[k].len + e->src->attr[k].key_len + 16;
    }
    c->ext_name = fr_pool_alloc(&c->pool, sizeof *c->ext_name * ((size_t)n_ext + 1));
    out->ext_entry = calloc((size_t)n_ext + 1, sizeof *out->ext_entry);
    if (!c->ext_name || !out->ext_entry) return fz_oom(c);
    fr_pbw w;
    fr_pbw_init(&w);
    w.data = malloc(est);
    w.cap = w.data ? est : 0;
    prefault(w.data, w.cap);
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
        return fz_oom(c);
    }
    out->data = w.data ? w.data : malloc(1);
    out->size = w.len;
    out->n_inputs = sig->n_inputs;
    out->n_outputs = sig->n_outputs;
    out->input_names = calloc((size_t)sig->n_inputs + 1, sizeof(char *));
    out->output_names = calloc((size_t)sig->n_outputs + 1, sizeof(char *));
    if (!out->data || !out->input_names || !out->output_names) return fz_oom(c);
    for (int i = 0; i < sig->n_inputs; i++)
        if (!(out->input_names[i] = strdup(c->in_val[i].t))) return fz_oom(c);
    for (int i = 0; i < sig->n_outputs; i++)
        if (!(out->output_names[i] = strdup(c->em[out_e[i]].name))) return fz_oom(c);
    if (!(out->ext_name = calloc((size_t)out->n_ext + 1, sizeof *out->ext_name))) return fz_oom(c);
    for (int i = 0; i < out->n_ext; i++)
        if (!(out->ext_name[i] = strdup(c->ext_name[i]))) return fz_oom(c);
    if (out->n_ext) out->bundle = fr_bundle_ref(c->sm->bundle);
    return FROST_OK;
}

frost_status fr_sm_freeze(const frost_savedmodel *sm, int m, int si, int flags, fr_sm_frozen *out, char **err) {
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
    c.external = (flags & FR_SM_FREEZE_EXTERNAL) != 0;
    c.out = out;
    size_t dl = strlen(sm->source) + strlen(c.sig->key) + 32;
    c.desc = malloc(dl);
    if (!c.desc) return FROST_E_NO_MEMORY;
    snprintf(c.desc, dl, "%s: signature '%s'", sm->source, c.sig->key);
    frost_status st = freeze(&c, out);
    if (st == FROST_OK && c.status != FROST_OK) st = c.status;
    if (st != FROST_OK && c.err && !*c.err) fz_fail(&c, st, "failed");
    for (int i = 0; i < c.n_fns; i++) {
        fz_map_free(&c.fns[i].idx);
        fz_map_free(&c.fns[i].arg_idx);
    }
    free(c.fns);
    free(c.nodes);
    fz_map_free(&c.idx);
    fz_map_free(&c.fn_idx);
    fz_map_free(&c.op_idx);
    fz_map_free(&c.in_idx);
    fz_map_free(&c.names);
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


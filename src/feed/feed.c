/* The feed of a graph with string inputs: which nodes run before the plan,
 * and the plan's inputs (feed.h). */
#include "feed/feed.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed_internal.h"

static const char *const parse_ops[] = {"ParseExample", "ParseExampleV2", NULL};
static const char *const decode_ops[] = {"DecodeJpeg", "DecodePng", "DecodeBmp", "DecodeImage", NULL};

static int in_list(const char *const *l, const char *op) {
    for (; *l; l++)
        if (!strcmp(*l, op)) return 1;
    return 0;
}

int fr_feed_op_known(const char *op) {
    return in_list(parse_ops, op) || in_list(decode_ops, op) || !strcmp(op, "ResizeBilinear");
}

typedef struct {
    const frost_graph *g;
    fr_feed *f;
    char **err;
    frost_status st;
    int *first_slot; /* per node: its first output's slot, -1 */
    int cap_slots, cap_steps;
    unsigned char *is_bound;
} fd_build;

static int fd_fail(fd_build *b, const fr_node *n, frost_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fd_fail(fd_build *b, const fr_node *n, frost_status st, const char *fmt, ...) {
    if (b->st != FROST_OK) return -1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->st = st;
    if (n) fr_errorf(b->err, "%s: node '%s' (%s): %s", b->g->source, n->name, n->op, msg);
    else fr_errorf(b->err, "%s: %s", b->g->source, msg);
    return -1;
}

static int new_slot(fd_build *b, int node, int index, int dtype, int rank) {
    fr_feed *f = b->f;
    if (f->n_slots == b->cap_slots) {
        int cap = b->cap_slots ? 2 * b->cap_slots : 16;
        fd_slot *s = realloc(f->slots, sizeof *s * (size_t)cap);
        if (!s) return fd_fail(b, NULL, FROST_E_NO_MEMORY, "out of memory");
        f->slots = s;
        b->cap_slots = cap;
    }
    fd_slot *s = &f->slots[f->n_slots];
    memset(s, 0, sizeof *s);
    s->node = node;
    s->index = index;
    s->dtype = dtype;
    s->rank = rank;
    for (int i = 0; i < FROST_MAX_RANK; i++) s->dims[i] = -1;
    return f->n_slots++;
}

static fd_step *new_step(fd_build *b, int kind, int node, int in) {
    fr_feed *f = b->f;
    if (f->n_steps == b->cap_steps) {
        int cap = b->cap_steps ? 2 * b->cap_steps : 16;
        fd_step *s = realloc(f->steps, sizeof *s * (size_t)cap);
        if (!s) return fd_fail(b, NULL, FROST_E_NO_MEMORY, "out of memory"), NULL;
        f->steps = s;
        b->cap_steps = cap;
    }
    fd_step *s = &f->steps[f->n_steps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->node = node;
    s->in = in;
    s->out = -1;
    return s;
}

/* The slot of tensor `in`, -1 when the feed does not produce it. */
static int slot_of(const fd_build *b, const fr_input_ref *in) {
    if (in->node < 0 || b->first_slot[in->node] < 0) return -1;
    int s = b->first_slot[in->node] + in->index;
    return s < b->f->n_slots && b->f->slots[s].node == in->node && b->f->slots[s].index == in->index ? s : -1;
}

/* A tensor known only at run time: a string, or a shape not fixed. */
static int is_dynamic(const fd_slot *s) {
    if (s->dtype == FR_DT_STRING || s->rank < 0) return 1;
    for (int i = 0; i < s->rank; i++)
        if (s->dims[i] < 0) return 1;
    return 0;
}

/* The Const behind tensor `in` (through Identity / Reshape / ExpandDims /
 * Squeeze: only its values are used), parsed into *t. */
static int const_of(fd_build *b, const fr_node *user, const fr_input_ref *in, fr_pb_tensor *t) {
    const frost_graph *g = b->g;
    int v = in->node;
    for (int hops = 0; v >= 0 && hops < 64; hops++) {
        const fr_node *n = &g->nodes[v];
        if (!strcmp(n->op, "Const")) {
            const char *why = "no value";
            if (fr_node_const_tensor(g, n, t, &why) == 0) return 0;
            return fd_fail(b, user, FROST_E_GRAPH, "its input '%s' is not a valid constant (%s)", n->name, why);
        }
        if (n->n_inputs < 1 || (strcmp(n->op, "Identity") && strcmp(n->op, "Reshape") && strcmp(n->op, "ExpandDims") &&
                                strcmp(n->op, "Squeeze") && strcmp(n->op, "Snapshot")))
            break;
        v = n->inputs[0].node;
    }
    return fd_fail(b, user, FROST_E_UNSUPPORTED_OP, "its input '%s' must be a constant", in->name);
}

/* The values of a numeric constant as float (count <= max). */
static int const_floats(fd_build *b, const fr_node *user, const fr_input_ref *in, float **out, int64_t *count) {
    fr_pb_tensor t;
    if (const_of(b, user, in, &t)) return -1;
    if (t.dtype == FR_DT_STRING) return fd_fail(b, user, FROST_E_GRAPH, "its input '%s' is a string", in->name);
    *out = malloc(sizeof(float) * (size_t)(t.count + 1));
    if (!*out) return fd_fail(b, user, FROST_E_NO_MEMORY, "out of memory");
    fr_pb_tensor_to_float(&t, *out);
    *count = t.count;
    return 0;
}

/* Entry k of a string constant (TensorProto.string_val = 8). */
static int const_string(fd_build *b, const fr_node *user, const fr_input_ref *in, int k, const char **s, size_t *len) {
    fr_pb_tensor t;
    if (const_of(b, user, in, &t)) return -1;
    if (t.dtype != FR_DT_STRING) return fd_fail(b, user, FROST_E_GRAPH, "its input '%s' is not a string", in->name);
    pb_reader r = pb_make(t.raw, t.raw_len);
    pb_field x;
    int i = 0;
    while (pb_more(&r) && !pb_next(&r, &x))
        if (x.number == 8 && x.wire == PB_LEN && i++ == k) {
            *s = (const char *)x.ptr;
            *len = x.len;
            return 0;
        }
    return fd_fail(b, user, FROST_E_GRAPH, "its input '%s' has no string %d", in->name, k);
}

/* Entries of a list attribute: types (ListValue.type = 6) or shapes (7). */
static int attr_list(const fr_node *n, const char *key, uint32_t field, int64_t *types, fr_pb_shape *shapes, int max) {
    fr_pb_attr a;
    if (fr_node_attr_get(n, key, &a) != 1 || a.kind != FR_ATTR_LIST) return 0;
    pb_reader r = pb_make(a.ptr, a.len);
    pb_field x;
    int k = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &x)) return -1;
        if (x.number != field) continue;
        if (field == 6 && x.wire == PB_VARINT) {
            if (k < max) types[k] = (int64_t)x.u;
            k++;
        } else if (field == 6 && x.wire == PB_LEN) {
            pb_reader q = pb_make(x.ptr, x.len);
            uint64_t v;
            while (pb_more(&q)) {
                if (pb_read_varint(&q, &v)) return -1;
                if (k < max) types[k] = (int64_t)v;
                k++;
            }
        } else if (field == 7 && x.wire == PB_LEN) {
            const char *why;
            if (k < max && fr_pb_parse_shape(x.ptr, x.len, &shapes[k], &why)) return -1;
            k++;
        }
    }
    return k;
}

static int64_t attr_int(const fr_node *n, const char *key, int64_t dflt) {
    fr_pb_attr a;
    return fr_node_attr_get(n, key, &a) == 1 && (a.kind == FR_ATTR_I || a.kind == FR_ATTR_B) ? a.i : dflt;
}

/* 1 when attribute `key` is the string s (absent: s is ""). */
static int attr_is(const fr_node *n, const char *key, const char *s) {
    fr_pb_attr a;
    int r = fr_node_attr_get(n, key, &a);
    if (r != 1 || a.kind != FR_ATTR_S) return !*s;
    return a.len == strlen(s) && !memcmp(a.ptr, s, a.len);
}

#define FD_MAX_FEATURES 1024

static int build_parse(fd_build *b, int v, int in) {
    const fr_node *n = &b->g->nodes[v];
    int v2 = !strcmp(n->op, "ParseExampleV2");
    int64_t types[FD_MAX_FEATURES], rtypes[1];
    fr_pb_shape *shapes = calloc(FD_MAX_FEATURES, sizeof *shapes);
    if (!shapes) return fd_fail(b, n, FROST_E_NO_MEMORY, "out of memory");
    int nd = attr_list(n, "Tdense", 6, types, NULL, FD_MAX_FEATURES);
    int ns = attr_list(n, "dense_shapes", 7, NULL, shapes, FD_MAX_FEATURES);
    int n_sparse = (int)attr_int(n, v2 ? "num_sparse" : "Nsparse", 0);
    int n_ragged = v2 ? attr_list(n, "ragged_value_types", 6, rtypes, NULL, 1) : 0;
    int rc = -1;
    if (nd < 0 || ns < 0 || n_ragged < 0) {
        fd_fail(b, n, FROST_E_GRAPH, "malformed Tdense, dense_shapes or ragged_value_types");
        goto done;
    }
    if (nd > FD_MAX_FEATURES || nd != ns) {
        fd_fail(b, n, FROST_E_GRAPH, "%d dense types for %d dense shapes (at most %d features)", nd, ns,
                FD_MAX_FEATURES);
        goto done;
    }
    if (n_sparse || n_ragged) {
        fd_fail(b, n, FROST_E_UNSUPPORTED_OP, "it reads %d sparse and %d ragged features; frost reads dense ones only",
                n_sparse, n_ragged);
        goto done;
    }
    int first_default = v2 ? 5 : 2 + nd;
    if (n->n_inputs != first_default + nd || (!v2 && attr_int(n, "Ndense", nd) != nd)) {
        fd_fail(b, n, FROST_E_GRAPH, "%d inputs for %d dense features", n->n_inputs, nd);
        goto done;
    }
    fd_step *s = new_step(b, FD_PARSE, v, in);
    if (!s) goto done;
    s->n_feat = nd;
    s->feat = calloc((size_t)nd + 1, sizeof *s->feat);
    if (!s->feat) {
        fd_fail(b, n, FROST_E_NO_MEMORY, "out of memory");
        goto done;
    }
    int item_rank = b->f->slots[in].rank;
    for (int i = 0; i < nd; i++) {
        fr_example_feature *ft = &s->feat[i];
        if (types[i] != FR_DT_FLOAT && types[i] != FR_DT_INT64) {
            fd_fail(b, n, FROST_E_UNSUPPORTED_OP, "dense feature %d is of type %s; frost reads float and int64 ones", i,
                    fr_dtype_name((int)types[i]));
            goto done;
        }
        ft->dtype = (int)types[i];
        if (const_string(b, n, &n->inputs[v2 ? 3 : 2 + i], v2 ? i : 0, &ft->key, &ft->key_len)) goto done;
        const fr_pb_shape *sh = &shapes[i];
        size_t count = 1;
        for (int d = 0; d < sh->rank; d++) {
            if (sh->dims[d] < 0 || sh->dims[d] > (1 << 24)) {
                fd_fail(b, n, FROST_E_UNSUPPORTED_OP, "dense feature '%.*s' has a shape of unknown or huge dimension %d",
                        (int)ft->key_len, ft->key, d);
                goto done;
            }
            count *= (size_t)sh->dims[d];
        }
        if (sh->rank < 0 || sh->rank + item_rank > FROST_MAX_RANK || count > (1 << 24)) {
            fd_fail(b, n, FROST_E_UNSUPPORTED_OP, "dense feature '%.*s' has an unknown or too large shape",
                    (int)ft->key_len, ft->key);
            goto done;
        }
        ft->count = count;
        float *d = NULL;
        int64_t nv = 0;
        if (const_floats(b, n, &n->inputs[first_default + i], &d, &nv)) goto done;
        if (nv && (size_t)nv != count) {
            free(d);
            fd_fail(b, n, FROST_E_SHAPE, "the default of dense feature '%.*s' has %lld values, its shape %zu",
                    (int)ft->key_len, ft->key, (long long)nv, count);
            goto done;
        }
        if (!nv) {
            free(d);
        } else if (ft->dtype == FR_DT_FLOAT) {
            ft->dflt = d;
        } else {
            int64_t *di = malloc(sizeof *di * count);
            for (size_t k = 0; di && k < count; k++) di[k] = (int64_t)d[k];
            free(d);
            if (!di) {
                fd_fail(b, n, FROST_E_NO_MEMORY, "out of memory");
                goto done;
            }
            ft->dflt_i64 = di;
        }
        int sl = new_slot(b, v, i, ft->dtype, item_rank + sh->rank);
        if (sl < 0) goto done;
        s = &b->f->steps[b->f->n_steps - 1];
        if (i == 0) s->out = sl;
        s->n_out++;
        fd_slot *o = &b->f->slots[sl];
        if (item_rank) o->dims[0] = 1;
        for (int d2 = 0; d2 < sh->rank; d2++) o->dims[item_rank + d2] = sh->dims[d2];
    }
    if (nd) b->first_slot[v] = b->f->steps[b->f->n_steps - 1].out;
    rc = 0;
done:
    free(shapes);
    return rc;
}

static int build_decode(fd_build *b, int v, int in) {
    const fr_node *n = &b->g->nodes[v];
    if (b->f->slots[in].rank != 0)
        return fd_fail(b, n, FROST_E_UNSUPPORTED_OP,
                       "it decodes one image, but its input is a batch of strings (decoding each needs tf.map_fn's "
                       "control flow, which frost does not run); give the string input the shape []");
    /* channels as TensorFlow's ops take them; 0 (the image's own) is
     * compiled as 3, and an image of another count fails its run */
    int64_t ch = attr_int(n, "channels", 0);
    int jpeg = !strcmp(n->op, "DecodeJpeg"), bmp = !strcmp(n->op, "DecodeBmp");
    if (ch != 0 && ch != 1 && ch != 3 && ch != 4)
        return fd_fail(b, n, FROST_E_GRAPH, "channels=%lld: must be 0, 1, 3 or 4", (long long)ch);
    if ((jpeg && ch == 4) || (bmp && ch == 1))
        return fd_fail(b, n, FROST_E_GRAPH, "channels=%lld: %s takes 0, %s", (long long)ch, n->op,
                       jpeg ? "1 or 3" : "3 or 4");
    fr_pb_attr a;
    if (fr_node_attr_get(n, "dtype", &a) == 1 && a.kind == FR_ATTR_TYPE && a.i != FR_DT_UINT8)
        return fd_fail(b, n, FROST_E_UNSUPPORTED_OP, "dtype %s: frost decodes to uint8", fr_dtype_name((int)a.i));
    fd_step *s = new_step(b, FD_DECODE, v, in);
    if (!s) return -1;
    s->ratio = 1;
    s->formats = !strcmp(n->op, "DecodeBmp") ? FD_BMP_ONLY : !strcmp(n->op, "DecodeImage") ? FD_ANY_IMAGE : FD_JPEG_PNG;
    s->no_gif = !strcmp(n->op, "DecodeImage") && attr_int(n, "expand_animations", 1);
    s->channels = (int)ch;
    if (!strcmp(n->op, "DecodeJpeg")) {
        int64_t r = attr_int(n, "ratio", 1);
        if (r != 1 && r != 2 && r != 4 && r != 8)
            return fd_fail(b, n, FROST_E_GRAPH, "ratio=%lld: must be 1, 2, 4 or 8", (long long)r);
        s->ratio = (unsigned)r;
        if (attr_is(n, "dct_method", "INTEGER_ACCURATE")) s->dct_method = FROST_DCT_INTEGER_ACCURATE;
        else if (!attr_is(n, "dct_method", "") && !attr_is(n, "dct_method", "INTEGER_FAST"))
            return fd_fail(b, n, FROST_E_UNSUPPORTED_OP,
                           "dct_method: frost decodes with \"\" / INTEGER_FAST (the default) or INTEGER_ACCURATE");
        if (!attr_int(n, "fancy_upscaling", 1) || attr_int(n, "try_recover_truncated", 0))
            return fd_fail(b, n, FROST_E_UNSUPPORTED_OP,
                           "fancy_upscaling=false or try_recover_truncated=true: not supported");
    }
    int sl = new_slot(b, v, 0, FR_DT_UINT8, 3);
    if (sl < 0) return -1;
    b->f->steps[b->f->n_steps - 1].out = sl;
    b->f->steps[b->f->n_steps - 1].n_out = 1;
    b->f->slots[sl].dims[2] = ch ? ch : 3;
    b->first_slot[v] = sl;
    return 0;
}

/* Cast, ExpandDims, ResizeBilinear, Identity on a tensor of run-time shape. */
static int build_shape_op(fd_build *b, int v, int in) {
    const fr_node *n = &b->g->nodes[v];
    const fd_slot *x = &b->f->slots[in];
    fd_slot o = *x;
    int kind;
    if (x->dtype == FR_DT_STRING)
        return fd_fail(b, n, FROST_E_UNSUPPORTED_OP, "it reads the string '%s'; frost decodes strings only with "
                       "ParseExample, ParseExampleV2, DecodeJpeg, DecodePng, DecodeBmp and DecodeImage",
                       n->inputs[0].name);
    if (!strcmp(n->op, "Identity") || !strcmp(n->op, "Snapshot")) {
        kind = FD_IDENTITY;
    } else if (!strcmp(n->op, "Cast")) {
        fr_pb_attr a;
        if (fr_node_attr_get(n, "DstT", &a) != 1 || a.kind != FR_ATTR_TYPE || a.i != FR_DT_FLOAT)
            return fd_fail(b, n, FROST_E_UNSUPPORTED_OP, "on a decoded image frost casts to float only");
        kind = FD_CAST;
        o.dtype = FR_DT_FLOAT;
    } else if (!strcmp(n->op, "ExpandDims") && n->n_inputs == 2) {
        float *ax = NULL;
        int64_t cnt = 0;
        if (const_floats(b, n, &n->inputs[1], &ax, &cnt)) return -1;
        int axis = cnt == 1 ? (int)ax[0] : 99;
        free(ax);
        if (x->rank < 0 || x->rank >= FROST_MAX_RANK) return fd_fail(b, n, FROST_E_SHAPE, "input of unknown rank");
        if (axis < 0) axis += x->rank + 1;
        if (axis < 0 || axis > x->rank) return fd_fail(b, n, FROST_E_SHAPE, "axis out of range");
        kind = FD_EXPAND;
        o.rank = x->rank + 1;
        for (int d = 0; d < o.rank; d++) o.dims[d] = d < axis ? x->dims[d] : d == axis ? 1 : x->dims[d - 1];
        fd_step *s = new_step(b, kind, v, in);
        if (!s) return -1;
        s->axis = axis;
        goto slot;
    } else if (!strcmp(n->op, "ResizeBilinear") && n->n_inputs == 2) {
        float *sz = NULL;
        int64_t cnt = 0;
        if (const_floats(b, n, &n->inputs[1], &sz, &cnt)) return -1;
        int64_t oh = cnt == 2 ? (int64_t)sz[0] : 0, ow = cnt == 2 ? (int64_t)sz[1] : 0;
        free(sz);
        if (oh <= 0 || ow <= 0 || oh > 1 << 15 || ow > 1 << 15)
            return fd_fail(b, n, FROST_E_SHAPE, "size must be two positive constants up to 32768");
        if (x->rank != 4 || x->dims[3] <= 0)
            return fd_fail(b, n, FROST_E_SHAPE, "it resizes a 4-D image of known channels (ExpandDims before it)");
        kind = FD_RESIZE;
        o.dtype = FR_DT_FLOAT;
        o.dims[1] = oh;
        o.dims[2] = ow;
        fd_step *s = new_step(b, kind, v, in);
        if (!s) return -1;
        s->oh = oh;
        s->ow = ow;
        s->align = attr_int(n, "align_corners", 0) != 0;
        s->half = attr_int(n, "half_pixel_centers", 0) != 0;
        goto slot;
    } else {
        return fd_fail(b, n, FROST_E_SHAPE,
                       "it reads '%s', whose shape is known only at run time (a decoded image); before other ops the "
                       "graph must fix it (Cast, ExpandDims, ResizeBilinear)",
                       n->inputs[0].name);
    }
    if (!new_step(b, kind, v, in)) return -1;
slot:;
    int sl = new_slot(b, v, 0, o.dtype, o.rank);
    if (sl < 0) return -1;
    memcpy(b->f->slots[sl].dims, o.dims, sizeof o.dims);
    b->f->steps[b->f->n_steps - 1].out = sl;
    b->f->steps[b->f->n_steps - 1].n_out = 1;
    b->first_slot[v] = sl;
    return 0;
}

/* The nodes the outputs need (not through the inputs), in topological order;
 * their count, -1 on failure.  A cycle or a missing input is left to the
 * compiler's messages: such nodes are simply not ordered twice. */
static int order_nodes(fd_build *b, const fr_io_spec *pub, const unsigned char *is_in, int *order) {
    const frost_graph *g = b->g;
    int n = g->n_nodes, no = 0;
    unsigned char *color = calloc((size_t)n + 1, 1);
    int *stack = malloc(sizeof(int) * (size_t)(n + 1)), *next = calloc((size_t)n + 1, sizeof(int));
    if (!color || !stack || !next) {
        free(color), free(stack), free(next);
        return fd_fail(b, NULL, FROST_E_NO_MEMORY, "out of memory");
    }
    for (int o = 0; o < pub->n_outputs; o++) {
        int root = pub->out_node[o], sp = 0;
        if (color[root]) continue;
        stack[sp++] = root;
        color[root] = 1;
        while (sp) {
            int v = stack[sp - 1];
            const fr_node *nd = &g->nodes[v];
            if (!is_in[v] && next[v] < nd->n_inputs) {
                int u = nd->inputs[next[v]++].node;
                if (u >= 0 && !color[u]) color[u] = 1, stack[sp++] = u;
            } else {
                color[v] = 2;
                order[no++] = v;
                sp--;
            }
        }
    }
    free(color), free(stack), free(next);
    return no;
}

/* Boundary slot s: a static shape whose first dimension is the item's. */
static int mark_bound(fd_build *b, int s, const fr_node *reader) {
    const fd_slot *x = &b->f->slots[s];
    const fr_node *n = &b->g->nodes[x->node];
    if (b->is_bound[s]) return 0;
    if (is_dynamic(x) || x->rank < 1 || x->dims[0] != 1) {
        char sh[128] = "?";
        int len = 0;
        for (int d = 0; d < x->rank && len < 100; d++)
            len += snprintf(sh + len, sizeof sh - (size_t)len, "%s%lld", d ? "," : "", (long long)x->dims[d]);
        return fd_fail(b, reader ? reader : n, FROST_E_SHAPE,
                       "'%s' (%s) reaches the rest of the graph with shape [%s] per item (-1: known at run time "
                       "only); frost needs a static shape whose first dimension is the batch",
                       n->name, x->dtype == FR_DT_STRING ? "a string" : fr_dtype_name(x->dtype), x->rank < 0 ? "?" : sh);
    }
    b->is_bound[s] = 1;
    return 0;
}

static char *tensor_name(const char *node, int index) {
    size_t n = strlen(node) + 16;
    char *s = malloc(n);
    if (s) snprintf(s, n, index ? "%s:%d" : "%s", node, index);
    return s;
}

/* The plan's inputs: the float inputs of pub, then the boundaries. */
static int plan_io(fd_build *b, const fr_io_spec *pub) {
    fr_feed *f = b->f;
    fr_io_spec *io = &f->io;
    int cap = pub->n_inputs + f->n_slots + 1;
    io->in_node = calloc((size_t)cap, sizeof(int));
    io->in_index = calloc((size_t)cap, sizeof(int));
    io->in_shape = calloc((size_t)cap, sizeof *io->in_shape);
    io->in_names = calloc((size_t)cap, sizeof(char *));
    f->src = calloc((size_t)cap, sizeof(int));
    f->bound_size = calloc((size_t)f->n_slots + 1, sizeof(size_t));
    f->bound_slot = calloc((size_t)f->n_slots + 1, sizeof(int));
    io->out_node = calloc((size_t)pub->n_outputs + 1, sizeof(int));
    io->out_index = calloc((size_t)pub->n_outputs + 1, sizeof(int));
    io->out_names = calloc((size_t)pub->n_outputs + 1, sizeof(char *));
    if (!io->in_node || !io->in_index || !io->in_shape || !io->in_names || !f->src || !f->bound_size ||
        !f->bound_slot || !io->out_node || !io->out_index || !io->out_names)
        return fd_fail(b, NULL, FROST_E_NO_MEMORY, "out of memory");
    for (int i = 0; i < pub->n_outputs; i++) {
        io->out_node[i] = pub->out_node[i];
        io->out_index[i] = pub->out_index[i];
        if (!(io->out_names[i] = strdup(pub->out_names[i]))) return fd_fail(b, NULL, FROST_E_NO_MEMORY, "out of memory");
        io->n_outputs++;
    }
    for (int i = 0; i < pub->n_inputs + f->n_slots; i++) {
        int j = io->n_inputs;
        if (i < pub->n_inputs) {
            if (f->in_slot[i] >= 0) continue;
            io->in_node[j] = pub->in_node[i];
            io->in_shape[j] = pub->in_shape[i];
            io->in_names[j] = strdup(pub->in_names[i]);
            f->src[j] = i;
        } else {
            int s = i - pub->n_inputs;
            if (!b->is_bound[s]) continue;
            const fd_slot *x = &f->slots[s];
            io->in_node[j] = x->node;
            io->in_index[j] = x->index;
            io->in_shape[j].rank = x->rank;
            io->in_shape[j].dims[0] = -1;
            size_t size = 1;
            for (int d = 1; d < x->rank; d++) size *= (size_t)(io->in_shape[j].dims[d] = x->dims[d]);
            io->in_names[j] = tensor_name(b->g->nodes[x->node].name, x->index);
            f->bound_slot[f->n_bound] = s;
            f->bound_size[f->n_bound] = size;
            f->src[j] = -1 - f->n_bound++;
        }
        if (!io->in_names[j]) return fd_fail(b, NULL, FROST_E_NO_MEMORY, "out of memory");
        io->n_inputs++;
    }
    return 0;
}

frost_status fr_feed_build(const frost_graph *g, const fr_io_spec *pub, fr_feed **out, char **err) {
    *out = NULL;
    int any = 0;
    for (int i = 0; i < pub->n_inputs; i++) any |= pub->in_dtype && pub->in_dtype[i] == FR_DT_STRING;
    if (!any) return FROST_OK;
    fd_build bb = {g, calloc(1, sizeof(fr_feed)), err, FROST_OK, NULL, 0, 0, NULL}, *b = &bb;
    int n = g->n_nodes;
    b->first_slot = malloc(sizeof(int) * (size_t)(n + 1));
    unsigned char *is_in = calloc((size_t)n + 1, 1);
    int *order = malloc(sizeof(int) * (size_t)(n + 1));
    if (b->f) {
        b->f->g = g;
        b->f->n_inputs = pub->n_inputs;
        b->f->in_slot = malloc(sizeof(int) * (size_t)(pub->n_inputs + 1));
    }
    if (!b->f || !b->first_slot || !is_in || !order || !b->f->in_slot) {
        fd_fail(b, NULL, FROST_E_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int v = 0; v < n; v++) b->first_slot[v] = -1;
    for (int i = 0; i < pub->n_inputs; i++) is_in[pub->in_node[i]] = 1;
    int no = order_nodes(b, pub, is_in, order);
    if (no < 0) goto done;
    /* the string inputs: a scalar per item where a Decode* op reads one of
     * unknown rank, else a vector of one */
    for (int i = 0; i < pub->n_inputs && b->st == FROST_OK; i++) {
        b->f->in_slot[i] = -1;
        if (pub->in_dtype[i] != FR_DT_STRING) continue;
        int v = pub->in_node[i], rank = pub->in_shape[i].rank;
        if (rank < 0) {
            rank = 1;
            for (int k = 0; k < no; k++) {
                const fr_node *nd = &g->nodes[order[k]];
                if (in_list(decode_ops, nd->op) && nd->n_inputs && nd->inputs[0].node == v) rank = 0;
            }
        }
        if (rank > 1 || (rank == 1 && pub->in_shape[i].dims[0] > 1))
            fd_fail(b, &g->nodes[v], FROST_E_SHAPE, "a string input takes one string per batch item: shape [] or [-1]");
        else if ((b->f->in_slot[i] = b->first_slot[v] = new_slot(b, v, 0, FR_DT_STRING, rank)) >= 0 && rank)
            b->f->slots[b->first_slot[v]].dims[0] = 1;
    }
    /* forward: the nodes that must run before the plan */
    for (int k = 0; k < no && b->st == FROST_OK; k++) {
        int v = order[k];
        const fr_node *nd = &g->nodes[v];
        if (is_in[v]) continue;
        int host = -1, dyn = 0;
        for (int i = 0; i < nd->n_inputs; i++) {
            int s = slot_of(b, &nd->inputs[i]);
            if (s < 0) continue;
            if (host < 0) host = s;
            dyn |= is_dynamic(&b->f->slots[s]);
        }
        if (host < 0) {
            if (fr_feed_op_known(nd->op))
                fd_fail(b, nd, FROST_E_UNSUPPORTED_OP,
                        "frost runs it only on what a string input of the model decodes to, and its input '%s' is "
                        "not (name the string it decodes as an input to feed it)",
                        nd->n_inputs ? nd->inputs[0].name : "");
            continue;
        }
        if (in_list(parse_ops, nd->op) || in_list(decode_ops, nd->op)) {
            int s = nd->n_inputs ? slot_of(b, &nd->inputs[0]) : -1;
            if (s < 0 || b->f->slots[s].dtype != FR_DT_STRING)
                fd_fail(b, nd, FROST_E_GRAPH, "its first input is not the string input");
            else if (in_list(parse_ops, nd->op)) build_parse(b, v, s);
            else build_decode(b, v, s);
        } else if (dyn) {
            build_shape_op(b, v, host);
        } /* else the plan runs it: its inputs from the feed are boundaries (below) */
    }
    if (b->st != FROST_OK) goto done;
    b->is_bound = calloc((size_t)b->f->n_slots + 1, 1);
    if (!b->is_bound) {
        fd_fail(b, NULL, FROST_E_NO_MEMORY, "out of memory");
        goto done;
    }
    /* the boundaries: what the plan's nodes and the outputs read */
    for (int k = 0; k < no && b->st == FROST_OK; k++) {
        const fr_node *nd = &g->nodes[order[k]];
        int runs_first = 0;
        for (int j = 0; j < b->f->n_steps; j++) runs_first |= b->f->steps[j].node == order[k];
        if (is_in[order[k]] || runs_first) continue;
        for (int i = 0; i < nd->n_inputs && b->st == FROST_OK; i++) {
            int s = slot_of(b, &nd->inputs[i]);
            if (s >= 0) mark_bound(b, s, nd);
        }
    }
    for (int o = 0; o < pub->n_outputs && b->st == FROST_OK; o++) {
        fr_input_ref r = {pub->out_names[o], pub->out_node[o], pub->out_index[o]};
        int s = slot_of(b, &r);
        if (s >= 0) mark_bound(b, s, NULL);
    }
    if (b->st == FROST_OK) plan_io(b, pub);
done:
    free(b->first_slot);
    free(b->is_bound);
    free(is_in);
    free(order);
    if (b->st != FROST_OK) {
        fr_feed_free(b->f);
        return b->st;
    }
    *out = b->f;
    return FROST_OK;
}

void fr_feed_free(fr_feed *f) {
    if (!f) return;
    fr_io_spec_free(&f->io);
    for (int i = 0; i < f->n_steps; i++) {
        for (int k = 0; k < f->steps[i].n_feat; k++) {
            free((void *)(uintptr_t)f->steps[i].feat[k].dflt);
            free((void *)(uintptr_t)f->steps[i].feat[k].dflt_i64);
        }
        free(f->steps[i].feat);
    }
    free(f->steps);
    free(f->slots);
    free(f->src);
    free(f->bound_size);
    free(f->bound_slot);
    free(f->in_slot);
    free(f);
}

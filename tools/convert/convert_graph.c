/* TensorFlow.js graph models: modelTopology is a GraphDef in protobuf's JSON
 * mapping, whose Const nodes take their values from the weights manifest.
 * Written out as a binary GraphDef; the fused ops that TensorFlow's grappler
 * and the TF.js converter create (_FusedConv2D, FusedDepthwiseConv2dNative,
 * _FusedMatMul) are expanded into the standard ops they stand for; every other
 * node is passed through with its attributes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

#define NAME_MAX_LEN 4096

static const struct {
    const char *name;
    int value;
} dt_names[] = {
    {"DT_INVALID", 0},    {"DT_FLOAT", 1},      {"DT_DOUBLE", 2},      {"DT_INT32", 3},    {"DT_UINT8", 4},
    {"DT_INT16", 5},      {"DT_INT8", 6},       {"DT_STRING", 7},      {"DT_COMPLEX64", 8}, {"DT_INT64", 9},
    {"DT_BOOL", 10},      {"DT_QINT8", 11},     {"DT_QUINT8", 12},     {"DT_QINT32", 13},  {"DT_BFLOAT16", 14},
    {"DT_QINT16", 15},    {"DT_QUINT16", 16},   {"DT_UINT16", 17},     {"DT_COMPLEX128", 18}, {"DT_HALF", 19},
    {"DT_RESOURCE", 20},  {"DT_VARIANT", 21},   {"DT_UINT32", 22},     {"DT_UINT64", 23},
};

static int dt_value(json_t *v) {
    if (json_is_integer(v)) return (int)json_integer_value(v);
    const char *s = json_string_value(v);
    for (size_t i = 0; s && i < sizeof dt_names / sizeof dt_names[0]; i++)
        if (!strcmp(dt_names[i].name, s)) return dt_names[i].value;
    return -1;
}

/* int64 as protobuf's JSON writes it: a string ("-1") or a number. */
static int json_i64(json_t *v, int64_t *out) {
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    if (!s || !*s) return -1;
    char *end;
    long long x = strtoll(s, &end, 10);
    if (*end) return -1;
    *out = x;
    return 0;
}

static int json_f64(json_t *v, double *out) {
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    if (!s) return -1;
    if (!strcmp(s, "NaN")) *out = NAN;
    else if (!strcmp(s, "Infinity")) *out = INFINITY;
    else if (!strcmp(s, "-Infinity")) *out = -INFINITY;
    else {
        char *end;
        *out = strtod(s, &end);
        if (*end || end == s) return -1;
    }
    return 0;
}

/* Base64 (standard or URL alphabet, padding optional) into a malloc'd buffer. */
static int b64_decode(const char *s, uint8_t **out, size_t *len) {
    size_t n = strlen(s);
    uint8_t *buf = malloc(n / 4 * 3 + 3);
    if (!buf) return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i], v;
        if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
        else if (ch == '+' || ch == '-') v = 62;
        else if (ch == '/' || ch == '_') v = 63;
        else if (ch == '=') break;
        else {
            free(buf);
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out = buf;
    *len = o;
    return 0;
}

typedef struct gctx {
    cv_ctx *c;
    const char *node; /* for messages */
    const char *key;
} gctx;

static int bad_attr(gctx *x, const char *what) {
    return cv_fail(x->c, "%s: node '%s': attribute '%s': %s", x->c->path, x->node, x->key, what);
}

static int b64_field(gctx *x, fr_pbw *w, int field, json_t *v) {
    uint8_t *bytes;
    size_t len;
    if (!json_is_string(v) || b64_decode(json_string_value(v), &bytes, &len)) return bad_attr(x, "bad base64 bytes");
    fr_pbw_bytes(w, field, bytes, len);
    free(bytes);
    return 0;
}

static int shape_pb(gctx *x, json_t *shape, fr_pbw *w) {
    json_t *dims = json_object_get(shape, "dim");
    fr_pbw d;
    fr_pbw_init(&d);
    for (size_t i = 0; i < json_array_size(dims); i++) {
        json_t *dim = json_array_get(dims, i);
        int64_t size = 0;
        json_t *js = json_object_get(dim, "size");
        if (js && json_i64(js, &size)) {
            fr_pbw_free(&d);
            return bad_attr(x, "bad shape dimension");
        }
        fr_pbw_reset(&d);
        if (size) fr_pbw_int(&d, 1, size);
        const char *dn = json_string_value(json_object_get(dim, "name"));
        if (dn) fr_pbw_str(&d, 2, dn);
        fr_pbw_msg(w, 2, &d);
    }
    fr_pbw_free(&d);
    if (json_is_true(json_object_get(shape, "unknownRank"))) fr_pbw_int(w, 3, 1);
    return 0;
}

/* Repeated numeric JSON array as a packed field.  kind: 'i' varint, 'f' float, 'd' double, 'b' bool. */
static int packed(gctx *x, fr_pbw *w, int field, json_t *arr, int kind) {
    if (!json_is_array(arr)) return bad_attr(x, "expected an array");
    size_t n = json_array_size(arr);
    if (!n) return 0;
    fr_pbw body;
    fr_pbw_init(&body);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        int64_t iv;
        double dv;
        if (kind == 'b') {
            fr_pbw_varint(&body, json_is_true(v) ? 1 : 0);
        } else if (kind == 't') {
            int t = dt_value(v);
            if (t < 0) {
                fr_pbw_free(&body);
                return bad_attr(x, "unknown data type");
            }
            fr_pbw_varint(&body, (uint64_t)t);
        } else if (kind == 'i') {
            if (json_i64(v, &iv)) {
                fr_pbw_free(&body);
                return bad_attr(x, "bad integer");
            }
            fr_pbw_varint(&body, (uint64_t)iv);
        } else {
            if (json_f64(v, &dv)) {
                fr_pbw_free(&body);
                return bad_attr(x, "bad number");
            }
            if (kind == 'f') {
                float f = (float)dv;
                fr_pbw_raw(&body, &f, 4);
            } else {
                fr_pbw_raw(&body, &dv, 8);
            }
        }
    }
    fr_pbw_msg(w, field, &body);
    fr_pbw_free(&body);
    return 0;
}

static int tensor_pb(gctx *x, json_t *t, fr_pbw *w) {
    json_t *v;
    if ((v = json_object_get(t, "dtype"))) {
        int dt = dt_value(v);
        if (dt < 0) return bad_attr(x, "unknown tensor dtype");
        fr_pbw_int(w, 1, dt);
    }
    if ((v = json_object_get(t, "tensorShape"))) {
        fr_pbw s;
        fr_pbw_init(&s);
        int rc = shape_pb(x, v, &s);
        fr_pbw_msg(w, 2, &s);
        fr_pbw_free(&s);
        if (rc) return -1;
    }
    int64_t ver;
    if ((v = json_object_get(t, "versionNumber")) && !json_i64(v, &ver)) fr_pbw_int(w, 3, ver);
    if ((v = json_object_get(t, "tensorContent")) && b64_field(x, w, 4, v)) return -1;
    if ((v = json_object_get(t, "floatVal")) && packed(x, w, 5, v, 'f')) return -1;
    if ((v = json_object_get(t, "doubleVal")) && packed(x, w, 6, v, 'd')) return -1;
    if ((v = json_object_get(t, "intVal")) && packed(x, w, 7, v, 'i')) return -1;
    if ((v = json_object_get(t, "stringVal")))
        for (size_t i = 0; i < json_array_size(v); i++)
            if (b64_field(x, w, 8, json_array_get(v, i))) return -1;
    if ((v = json_object_get(t, "int64Val")) && packed(x, w, 10, v, 'i')) return -1;
    if ((v = json_object_get(t, "boolVal")) && packed(x, w, 11, v, 'b')) return -1;
    if ((v = json_object_get(t, "halfVal")) && packed(x, w, 13, v, 'i')) return -1;
    return 0;
}

static int sub_msg(gctx *x, fr_pbw *w, int field, json_t *v, int (*fn)(gctx *, json_t *, fr_pbw *)) {
    fr_pbw s;
    fr_pbw_init(&s);
    int rc = fn(x, v, &s);
    fr_pbw_msg(w, field, &s);
    fr_pbw_free(&s);
    return rc;
}

static int list_pb(gctx *x, json_t *l, fr_pbw *w) {
    json_t *v;
    if ((v = json_object_get(l, "s")))
        for (size_t i = 0; i < json_array_size(v); i++)
            if (b64_field(x, w, 2, json_array_get(v, i))) return -1;
    if ((v = json_object_get(l, "i")) && packed(x, w, 3, v, 'i')) return -1;
    if ((v = json_object_get(l, "f")) && packed(x, w, 4, v, 'f')) return -1;
    if ((v = json_object_get(l, "b")) && packed(x, w, 5, v, 'b')) return -1;
    if ((v = json_object_get(l, "type")) && packed(x, w, 6, v, 't')) return -1;
    if ((v = json_object_get(l, "shape")))
        for (size_t i = 0; i < json_array_size(v); i++)
            if (sub_msg(x, w, 7, json_array_get(v, i), shape_pb)) return -1;
    if ((v = json_object_get(l, "tensor")))
        for (size_t i = 0; i < json_array_size(v); i++)
            if (sub_msg(x, w, 8, json_array_get(v, i), tensor_pb)) return -1;
    if (json_object_get(l, "func")) return bad_attr(x, "function attributes are not supported");
    return 0;
}

/* AttrValue from its JSON form. */
static int attr_pb(gctx *x, json_t *a, fr_pbw *w) {
    json_t *v;
    if ((v = json_object_get(a, "list"))) return sub_msg(x, w, 1, v, list_pb);
    if ((v = json_object_get(a, "s"))) return b64_field(x, w, 2, v);
    if ((v = json_object_get(a, "i"))) {
        int64_t i;
        if (json_i64(v, &i)) return bad_attr(x, "bad integer");
        fr_pbw_int(w, 3, i);
        return 0;
    }
    if ((v = json_object_get(a, "f"))) {
        double d;
        if (json_f64(v, &d)) return bad_attr(x, "bad number");
        fr_pbw_float(w, 4, (float)d);
        return 0;
    }
    if ((v = json_object_get(a, "b"))) {
        fr_pbw_int(w, 5, json_is_true(v));
        return 0;
    }
    if ((v = json_object_get(a, "type"))) {
        int t = dt_value(v);
        if (t < 0) return bad_attr(x, "unknown data type");
        fr_pbw_int(w, 6, t);
        return 0;
    }
    if ((v = json_object_get(a, "shape"))) return sub_msg(x, w, 7, v, shape_pb);
    if ((v = json_object_get(a, "tensor"))) return sub_msg(x, w, 8, v, tensor_pb);
    if ((v = json_object_get(a, "placeholder"))) {
        fr_pbw_str(w, 9, json_string_value(v) ? json_string_value(v) : "");
        return 0;
    }
    if (json_object_get(a, "func")) return bad_attr(x, "function attributes are not supported");
    return 0; /* an empty AttrValue */
}

/* Copy attribute `key` of JSON node `node` (if present) to the node being built. */
static int copy_attr(cv_ctx *c, const char *node, json_t *attrs, const char *key) {
    json_t *a = json_object_get(attrs, key);
    if (!a) return 0;
    gctx x = {c, node, key};
    fr_pbw w;
    fr_pbw_init(&w);
    int rc = attr_pb(&x, a, &w);
    if (!rc && w.failed) rc = cv_fail(c, "out of memory");
    if (!rc) fr_gdw_attr_raw(c->g, key, w.data, w.len);
    fr_pbw_free(&w);
    return rc;
}

static int end_node(cv_ctx *c, const char *name) {
    if (fr_gdw_node_end(c->g)) {
        if (c->g->out.failed) return cv_fail(c, "out of memory");
        return cv_fail(c, "%s: duplicate node name '%s'", c->path, name);
    }
    return 0;
}

/* Decoded string attribute (AttrValue.s is base64 in JSON). */
static char *attr_string(json_t *attrs, const char *key) {
    const char *b = json_string_value(json_object_get(json_object_get(attrs, key), "s"));
    uint8_t *s;
    size_t n;
    if (!b || b64_decode(b, &s, &n)) return NULL;
    s[n] = 0; /* b64_decode leaves room */
    return (char *)s;
}

static int join_name(cv_ctx *c, char *out, const char *a, const char *b) {
    int n = snprintf(out, NAME_MAX_LEN, "%s/%s", a, b);
    if (n < 0 || n >= NAME_MAX_LEN) return cv_fail(c, "%s: node name too long: '%s'", c->path, a);
    return 0;
}

/* A Const node from the weights manifest. */
static int emit_weight_const(cv_ctx *c, const char *name, cv_weight *w) {
    if (w->dtype != FR_DT_FLOAT && w->dtype != FR_DT_INT32 && w->dtype != FR_DT_BOOL)
        return cv_fail(c, "%s: Const '%s' has an unsupported weight dtype", c->path, name);
    w->used = 1;
    fr_gdw_node_begin(c->g, name, "Const");
    fr_gdw_attr_type(c->g, "dtype", w->dtype);
    fr_gdw_attr_tensor(c->g, "value", w->dtype, w->rank, w->dims, w->data, w->nbytes);
    return end_node(c, name);
}

static const char *fused_base_op(const char *op) {
    if (!strcmp(op, "_FusedConv2D")) return "Conv2D";
    if (!strcmp(op, "FusedDepthwiseConv2dNative")) return "DepthwiseConv2dNative";
    if (!strcmp(op, "_FusedMatMul")) return "MatMul";
    return NULL;
}

/* _FusedConv2D / FusedDepthwiseConv2dNative / _FusedMatMul:
 *   inputs: x, w, args[num_args], ^controls;  fused_ops: e.g. [BiasAdd, Relu6].
 * Written as base op, then one op per fused op; the last keeps the node's name. */
static int expand_fused(cv_ctx *c, json_t *node, const char *name, const char *op) {
    const char *base = fused_base_op(op);
    json_t *attrs = json_object_get(node, "attr"), *inputs = json_object_get(node, "input");
    json_t *fl = json_object_get(json_object_get(json_object_get(attrs, "fused_ops"), "list"), "s");
    size_t nf = json_array_size(fl);
    char *fused[8] = {0};
    const char *data[64], *controls[64];
    int nd = 0, nc = 0, rc = 0;
    if (nf > 8) return cv_fail(c, "%s: node '%s' (%s): too many fused ops", c->path, name, op);
    for (size_t i = 0; i < json_array_size(inputs) && i < 64; i++) {
        const char *in = json_string_value(json_array_get(inputs, i));
        if (!in) return cv_fail(c, "%s: node '%s': bad input", c->path, name);
        if (in[0] == '^') controls[nc++] = in;
        else data[nd++] = in;
    }
    int64_t num_args = 0;
    json_i64(json_object_get(json_object_get(attrs, "num_args"), "i"), &num_args);
    if (nd < 2 || num_args != nd - 2)
        return cv_fail(c, "%s: node '%s' (%s): %d inputs do not match num_args %lld", c->path, name, op, nd,
                       (long long)num_args);
    for (size_t i = 0; i < nf; i++) {
        gctx x = {c, name, "fused_ops"};
        uint8_t *b;
        size_t n;
        const char *b64 = json_string_value(json_array_get(fl, i));
        if (!b64 || b64_decode(b64, &b, &n)) {
            rc = bad_attr(&x, "bad string");
            goto out;
        }
        b[n] = 0;
        fused[i] = (char *)b;
    }
    char *data_format = attr_string(attrs, "data_format");
    const char *df = data_format ? data_format : "NHWC";
    /* base op */
    char cur[NAME_MAX_LEN], next[NAME_MAX_LEN];
    if (nf) rc = join_name(c, cur, name, base);
    else snprintf(cur, sizeof cur, "%s", name);
    if (!rc) {
        static const char *const conv_attrs[] = {"T", "strides", "padding", "explicit_paddings", "data_format",
                                                 "dilations", "use_cudnn_on_gpu", NULL};
        static const char *const dw_attrs[] = {"T", "strides", "padding", "explicit_paddings", "data_format",
                                               "dilations", NULL};
        static const char *const mm_attrs[] = {"T", "transpose_a", "transpose_b", NULL};
        const char *const *keep = !strcmp(base, "Conv2D") ? conv_attrs : !strcmp(base, "MatMul") ? mm_attrs : dw_attrs;
        fr_gdw_node_begin(c->g, cur, base);
        fr_gdw_input(c->g, data[0]);
        fr_gdw_input(c->g, data[1]);
        for (int i = 0; i < nc; i++) fr_gdw_input(c->g, controls[i]);
        for (int i = 0; keep[i] && !rc; i++) {
            /* explicit_paddings only matters (and only exists in older TF) with EXPLICIT padding */
            if (!strcmp(keep[i], "explicit_paddings") &&
                !json_array_size(json_object_get(json_object_get(json_object_get(attrs, keep[i]), "list"), "i")))
                continue;
            rc = copy_attr(c, name, attrs, keep[i]);
        }
        if (!rc) rc = end_node(c, cur);
    }
    int arg = 2;
    float eps = (float)json_number_value(json_object_get(json_object_get(attrs, "epsilon"), "f"));
    for (size_t i = 0; i < nf && !rc; i++) {
        const char *f = fused[i];
        int last = i + 1 == nf;
        char leaf[64];
        snprintf(leaf, sizeof leaf, "%s", f);
        if (last) snprintf(next, sizeof next, "%s", name);
        else if ((rc = join_name(c, next, name, leaf))) break;
        if (!strcmp(f, "BiasAdd") || !strcmp(f, "Add") || !strcmp(f, "AddV2")) {
            if (arg >= nd) goto few;
            int bias = !strcmp(f, "BiasAdd");
            fr_gdw_node_begin(c->g, next, bias ? "BiasAdd" : "AddV2");
            fr_gdw_input(c->g, cur);
            fr_gdw_input(c->g, data[arg++]);
            fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
            if (bias) fr_gdw_attr_str(c->g, "data_format", df);
        } else if (!strcmp(f, "FusedBatchNorm")) {
            if (arg + 4 > nd) goto few;
            fr_gdw_node_begin(c->g, next, "FusedBatchNormV3");
            fr_gdw_input(c->g, cur);
            for (int k = 0; k < 4; k++) fr_gdw_input(c->g, data[arg++]);
            fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
            fr_gdw_attr_type(c->g, "U", FR_DT_FLOAT);
            fr_gdw_attr_float(c->g, "epsilon", eps);
            fr_gdw_attr_str(c->g, "data_format", df);
            fr_gdw_attr_bool(c->g, "is_training", 0);
        } else if (!strcmp(f, "Relu") || !strcmp(f, "Relu6") || !strcmp(f, "Elu") || !strcmp(f, "Sigmoid") ||
                   !strcmp(f, "Tanh")) {
            fr_gdw_node_begin(c->g, next, f);
            fr_gdw_input(c->g, cur);
            fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
        } else if (!strcmp(f, "LeakyRelu")) {
            fr_gdw_node_begin(c->g, next, "LeakyRelu");
            fr_gdw_input(c->g, cur);
            fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
            json_t *a = json_object_get(json_object_get(attrs, "leakyrelu_alpha"), "f");
            fr_gdw_attr_float(c->g, "alpha", json_is_number(a) ? (float)json_number_value(a) : 0.2f);
        } else if (!strcmp(f, "Prelu")) {
            /* TF.js only: relu(x) + alpha * min(x, 0) */
            if (arg >= nd) goto few;
            char relu[NAME_MAX_LEN], zero[NAME_MAX_LEN], mn[NAME_MAX_LEN], mul[NAME_MAX_LEN];
            float z = 0.0f;
            if ((rc = join_name(c, relu, next, "Prelu/Relu")) || (rc = join_name(c, zero, next, "Prelu/zero")) ||
                (rc = join_name(c, mn, next, "Prelu/Minimum")) || (rc = join_name(c, mul, next, "Prelu/mul")))
                break;
            fr_gdw_node_begin(c->g, relu, "Relu");
            fr_gdw_input(c->g, cur);
            fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
            if ((rc = end_node(c, relu))) break;
            if (fr_gdw_const_f(c->g, zero, 0, NULL, &z)) {
                rc = cv_fail(c, "%s: cannot add node '%s' (duplicate name or out of memory)", c->path, zero);
                break;
            }
            fr_gdw_node_begin(c->g, mn, "Minimum");
            fr_gdw_input(c->g, cur);
            fr_gdw_input(c->g, zero);
            fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
            if ((rc = end_node(c, mn))) break;
            fr_gdw_node_begin(c->g, mul, "Mul");
            fr_gdw_input(c->g, data[arg++]);
            fr_gdw_input(c->g, mn);
            fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
            if ((rc = end_node(c, mul))) break;
            fr_gdw_node_begin(c->g, next, "AddV2");
            fr_gdw_input(c->g, relu);
            fr_gdw_input(c->g, mul);
            fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
        } else {
            rc = cv_fail(c, "%s: node '%s' (%s): fused op '%s' is not supported (BiasAdd, FusedBatchNorm, Add, Relu, "
                         "Relu6, Elu, Sigmoid, Tanh, LeakyRelu, Prelu)",
                         c->path, name, op, f);
            break;
        }
        if ((rc = end_node(c, next))) break;
        snprintf(cur, sizeof cur, "%s", next);
        continue;
    few:
        rc = cv_fail(c, "%s: node '%s' (%s): too few inputs for fused op '%s'", c->path, name, op, f);
        break;
    }
    if (!rc && arg != nd) rc = cv_fail(c, "%s: node '%s' (%s): %d unused inputs", c->path, name, op, nd - arg);
    free(data_format);
out:
    for (size_t i = 0; i < nf; i++) free(fused[i]);
    return rc;
}

/* Ops that only TensorFlow.js defines and that this converter does not expand. */
static int tfjs_only(const char *op) {
    static const char *const ops[] = {"Prelu", "_FusedBatchMatMul", "FusedBatchMatMul", NULL};
    for (int i = 0; ops[i]; i++)
        if (!strcmp(op, ops[i])) return 1;
    return 0;
}

static int pass_through(cv_ctx *c, json_t *node, const char *name, const char *op) {
    json_t *inputs = json_object_get(node, "input"), *attrs = json_object_get(node, "attr");
    fr_gdw_node_begin(c->g, name, op);
    for (size_t i = 0; i < json_array_size(inputs); i++) {
        const char *in = json_string_value(json_array_get(inputs, i));
        if (!in) return cv_fail(c, "%s: node '%s': bad input", c->path, name);
        fr_gdw_input(c->g, in);
    }
    const char *key;
    json_t *v;
    (void)v;
    json_object_foreach(attrs, key, v) {
        if (copy_attr(c, name, attrs, key)) return -1;
    }
    return end_node(c, name);
}

int cv_convert_graph(cv_ctx *c, json_t *topology) {
    json_t *nodes = json_object_get(topology, "node");
    if (!json_is_array(nodes)) return cv_fail(c, "%s: graph model topology has no \"node\" array", c->path);
    json_t *lib = json_object_get(topology, "library");
    if (json_array_size(json_object_get(lib, "function")))
        return cv_fail(c, "%s: the graph has a function library (control flow); not supported", c->path);
    /* Name every op the converter cannot express up front. */
    char bad[1024] = "";
    for (size_t i = 0; i < json_array_size(nodes); i++) {
        json_t *n = json_array_get(nodes, i);
        const char *op = json_string_value(json_object_get(n, "op"));
        const char *name = json_string_value(json_object_get(n, "name"));
        if (!op || !name) return cv_fail(c, "%s: graph node %zu has no name or op", c->path, i);
        if (tfjs_only(op) && !strstr(bad, op))
            snprintf(bad + strlen(bad), sizeof bad - strlen(bad), "%s%s (node '%s')", bad[0] ? ", " : "", op, name);
    }
    if (bad[0]) return cv_fail(c, "%s: unsupported TensorFlow.js op(s): %s", c->path, bad);

    for (size_t i = 0; i < json_array_size(nodes); i++) {
        json_t *n = json_array_get(nodes, i);
        const char *op = json_string_value(json_object_get(n, "op"));
        const char *name = json_string_value(json_object_get(n, "name"));
        int rc;
        cv_weight *w;
        if (!strcmp(op, "Const") && (w = cv_weight_find(c, name)) && !strcmp(w->name, name))
            rc = emit_weight_const(c, name, w);
        else if (fused_base_op(op))
            rc = expand_fused(c, n, name, op);
        else
            rc = pass_through(c, n, name, op);
        if (rc) return -1;
        if (!strcmp(op, "Placeholder") && !c->input_name && !(c->input_name = strdup(name)))
            return cv_fail(c, "out of memory");
    }
    /* The model's output, from the signature when present. */
    json_t *outs = json_object_get(json_object_get(c->signature, "signature"), "outputs");
    const char *key;
    json_t *v;
    json_object_foreach(outs, key, v) {
        const char *on = json_string_value(json_object_get(v, "name"));
        if (!on) on = key;
        char *s = strdup(on);
        if (!s) return cv_fail(c, "out of memory");
        char *colon = strrchr(s, ':');
        if (colon && !strcmp(colon, ":0")) *colon = 0;
        c->output_name = s;
        break;
    }
    return 0;
}

/* TensorFlow.js layers models (Keras topology, as Keras 2.x writes it) to the
 * standard TensorFlow ops that freezing the Keras model in TensorFlow gives:
 * node names follow Keras' scopes ("conv2d_1/convolution", "dense_3/Softmax").
 * Shapes are propagated (NHWC, batch -1) so that every layer is checked
 * against its weights and Flatten / Reshape / Concatenate get static values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

#define NAME_MAX_LEN 1024

/* A Keras tensor: output `index` of call `node` of layer `layer`. */
typedef struct ktensor {
    char *layer;
    int node, index;
    char *tf; /* the TensorFlow tensor name */
    int rank;
    int64_t dims[CV_MAX_RANK]; /* dims[0] = -1: the batch */
} ktensor;

typedef struct kmodel {
    cv_ctx *c;
    ktensor *t;
    int n, cap;
} kmodel;

static ktensor *kt_find(kmodel *m, const char *layer, int node, int index) {
    for (int i = 0; i < m->n; i++)
        if (m->t[i].node == node && m->t[i].index == index && !strcmp(m->t[i].layer, layer)) return &m->t[i];
    return NULL;
}

static int kt_add(kmodel *m, const char *layer, int node, const char *tf, int rank, const int64_t *dims) {
    if (m->n == m->cap) {
        int cap = m->cap ? m->cap * 2 : 64;
        ktensor *t = realloc(m->t, (size_t)cap * sizeof *t);
        if (!t) return cv_fail(m->c, "out of memory");
        m->t = t;
        m->cap = cap;
    }
    ktensor *k = &m->t[m->n];
    memset(k, 0, sizeof *k);
    k->layer = strdup(layer);
    k->tf = strdup(tf);
    if (!k->layer || !k->tf) {
        free(k->layer);
        free(k->tf);
        return cv_fail(m->c, "out of memory");
    }
    k->node = node;
    k->rank = rank;
    memcpy(k->dims, dims, (size_t)rank * sizeof *dims);
    m->n++;
    return 0;
}

/* ---- JSON config helpers -------------------------------------------------- */

static int cfg_int(json_t *cfg, const char *key, int def) {
    json_t *v = json_object_get(cfg, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : def;
}

static const char *cfg_str(json_t *cfg, const char *key, const char *def) {
    const char *s = json_string_value(json_object_get(cfg, key));
    return s ? s : def;
}

static int cfg_bool(json_t *cfg, const char *key, int def) {
    json_t *v = json_object_get(cfg, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

/* An int or [a, b] (kernel_size, strides, pool_size, dilation_rate). */
static int cfg_pair(cv_ctx *c, const char *layer, json_t *cfg, const char *key, int def, int out[2]) {
    json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v)) {
        out[0] = out[1] = def;
    } else if (json_is_integer(v)) {
        out[0] = out[1] = (int)json_integer_value(v);
    } else if (json_is_array(v) && json_array_size(v) == 2 && json_is_integer(json_array_get(v, 0)) &&
               json_is_integer(json_array_get(v, 1))) {
        out[0] = (int)json_integer_value(json_array_get(v, 0));
        out[1] = (int)json_integer_value(json_array_get(v, 1));
    } else {
        return cv_fail(c, "%s: layer '%s': \"%s\" must be an integer or a pair of integers", c->path, layer, key);
    }
    if (out[0] < 1 || out[1] < 1 || out[0] > 65536 || out[1] > 65536)
        return cv_fail(c, "%s: layer '%s': \"%s\" out of range", c->path, layer, key);
    return 0;
}

static int check_channels_last(cv_ctx *c, const char *layer, json_t *cfg) {
    const char *df = cfg_str(cfg, "data_format", "channels_last");
    if (strcmp(df, "channels_last"))
        return cv_fail(c, "%s: layer '%s': data_format '%s' is not supported (only channels_last)", c->path, layer, df);
    return 0;
}

/* ---- emitting ------------------------------------------------------------- */

static int end_node(cv_ctx *c) {
    if (fr_gdw_node_end(c->g)) {
        if (c->g->out.failed) return cv_fail(c, "out of memory");
        return cv_fail(c, "%s: two nodes would be named alike (layer names must be unique)", c->path);
    }
    return 0;
}

static int join(cv_ctx *c, char *out, const char *scope, const char *leaf) {
    int n = snprintf(out, NAME_MAX_LEN, "%s/%s", scope, leaf);
    if (n < 0 || n >= NAME_MAX_LEN) return cv_fail(c, "%s: node name too long: '%s/%s'", c->path, scope, leaf);
    return 0;
}

/* A weight of a layer checked against the expected shape (-1: any size);
 * emitted once as a Const named "<layer>/<param>".  `const_name` receives it. */
static int layer_weight(cv_ctx *c, const char *layer, const char *param, int rank, const int64_t *expect,
                        char *const_name, cv_weight **out) {
    char wname[NAME_MAX_LEN];
    if (join(c, wname, layer, param)) return -1;
    cv_weight *w = cv_weight_find(c, wname);
    if (!w) return cv_fail(c, "%s: layer '%s': weight '%s' not found in the weights manifest", c->path, layer, wname);
    int ok = w->rank == rank && w->dtype == FR_DT_FLOAT;
    for (int i = 0; ok && i < rank; i++)
        if (expect[i] >= 0 && w->dims[i] != expect[i]) ok = 0;
    if (!ok) {
        char got[256] = "", want[256] = "";
        for (int i = 0; i < w->rank; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? "," : "", (long long)w->dims[i]);
        for (int i = 0; i < rank; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? "," : "", (long long)expect[i]);
        return cv_fail(c, "%s: layer '%s': weight '%s' has shape [%s], expected [%s] (-1: any)%s", c->path, layer,
                       wname, got, want, w->dtype == FR_DT_FLOAT ? "" : " of float32");
    }
    strcpy(const_name, wname);
    w->used = 1;
    if (out) *out = w;
    if (fr_gdw_has(c->g, wname)) return 0; /* shared layer: already emitted */
    if (fr_gdw_const_f(c->g, wname, w->rank, w->dims, w->data)) return cv_fail(c, "out of memory");
    return 0;
}

static int const_i32(cv_ctx *c, const char *name, int rank, const int64_t *dims, const int32_t *v) {
    if (fr_gdw_const_i32(c->g, name, rank, dims, v))
        return c->g->out.failed ? cv_fail(c, "out of memory") : cv_fail(c, "%s: duplicate node '%s'", c->path, name);
    return 0;
}

static int const_f32(cv_ctx *c, const char *name, int rank, const int64_t *dims, const float *v) {
    if (fr_gdw_const_f(c->g, name, rank, dims, v))
        return c->g->out.failed ? cv_fail(c, "out of memory") : cv_fail(c, "%s: duplicate node '%s'", c->path, name);
    return 0;
}

/* A unary op `op` named scope/leaf on `x`; `out` receives the name. */
static int unary(cv_ctx *c, const char *scope, const char *leaf, const char *op, const char *x, char *out) {
    if (join(c, out, scope, leaf)) return -1;
    fr_gdw_node_begin(c->g, out, op);
    fr_gdw_input(c->g, x);
    fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
    return end_node(c);
}

static int binary(cv_ctx *c, const char *name, const char *op, const char *a, const char *b) {
    fr_gdw_node_begin(c->g, name, op);
    fr_gdw_input(c->g, a);
    fr_gdw_input(c->g, b);
    fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
    return end_node(c);
}

/* Keras activation by name; `x` is updated to the output tensor. */
static int activation(cv_ctx *c, const char *layer, const char *scope, const char *act, int rank, char *x) {
    static const struct {
        const char *keras, *op;
    } map[] = {{"relu", "Relu"}, {"relu6", "Relu6"}, {"sigmoid", "Sigmoid"}, {"tanh", "Tanh"}, {"softmax", "Softmax"}};
    if (!act || !strcmp(act, "linear")) return 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(act, map[i].keras)) continue;
        char out[NAME_MAX_LEN];
        if (unary(c, scope, map[i].op, map[i].op, x, out)) return -1;
        strcpy(x, out);
        (void)rank;
        return 0;
    }
    return cv_fail(c,
                   "%s: layer '%s': activation '%s' is not supported (supported: linear, relu, relu6, sigmoid, "
                   "tanh, softmax)",
                   c->path, layer, act);
}

static int64_t conv_out(cv_ctx *c, const char *layer, int64_t in, int k, int s, int d, int same) {
    if (in < 0) return -1;
    int64_t eff = (int64_t)(k - 1) * d + 1;
    if (same) return (in + s - 1) / s;
    if (in < eff) {
        cv_fail(c, "%s: layer '%s': window %lld larger than input %lld (padding 'valid')", c->path, layer,
                (long long)eff, (long long)in);
        return -2;
    }
    return (in - eff) / s + 1;
}

static int padding_same(cv_ctx *c, const char *layer, json_t *cfg, int *same) {
    const char *p = cfg_str(cfg, "padding", "valid");
    if (!strcmp(p, "same")) *same = 1;
    else if (!strcmp(p, "valid")) *same = 0;
    else return cv_fail(c, "%s: layer '%s': padding '%s' is not supported (same, valid)", c->path, layer, p);
    return 0;
}

static void put_spatial_attrs(cv_ctx *c, const int s[2], const int d[2], int same) {
    int64_t strides[4] = {1, s[0], s[1], 1}, dil[4] = {1, d[0], d[1], 1};
    fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
    fr_gdw_attr_ints(c->g, "strides", 4, strides);
    fr_gdw_attr_str(c->g, "padding", same ? "SAME" : "VALID");
    fr_gdw_attr_str(c->g, "data_format", "NHWC");
    fr_gdw_attr_ints(c->g, "dilations", 4, dil);
}

/* ---- layers --------------------------------------------------------------- */

typedef struct kcall {
    const char *layer; /* Keras layer name (weights) */
    const char *cls;
    json_t *cfg;
    char scope[NAME_MAX_LEN]; /* TF name scope of this call */
    ktensor **in;
    int n_in;
    /* result */
    char out[NAME_MAX_LEN];
    int rank;
    int64_t dims[CV_MAX_RANK];
} kcall;

/* The layer's bias (its "bias" weight of cout values, when use_bias) and
 * activation after the tensor `cur` (updated to the last output), then
 * k->out = cur. */
static int bias_activation(cv_ctx *c, kcall *k, int64_t cout, int rank, char *cur) {
    if (cfg_bool(k->cfg, "use_bias", 1)) {
        char w[NAME_MAX_LEN], node[NAME_MAX_LEN];
        if (layer_weight(c, k->layer, "bias", 1, &cout, w, NULL) || join(c, node, k->scope, "BiasAdd")) return -1;
        fr_gdw_node_begin(c->g, node, "BiasAdd");
        fr_gdw_input(c->g, cur);
        fr_gdw_input(c->g, w);
        fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
        fr_gdw_attr_str(c->g, "data_format", "NHWC");
        if (end_node(c)) return -1;
        strcpy(cur, node);
    }
    if (activation(c, k->layer, k->scope, cfg_str(k->cfg, "activation", "linear"), rank, cur)) return -1;
    strcpy(k->out, cur);
    return 0;
}

static int need_rank(cv_ctx *c, kcall *k, int rank) {
    if (k->n_in != 1) return cv_fail(c, "%s: layer '%s' (%s) takes one input, got %d", c->path, k->layer, k->cls, k->n_in);
    if (k->in[0]->rank != rank)
        return cv_fail(c, "%s: layer '%s' (%s) needs a rank-%d input, got rank %d", c->path, k->layer, k->cls, rank,
                       k->in[0]->rank);
    return 0;
}

static void same_shape(kcall *k) {
    k->rank = k->in[0]->rank;
    memcpy(k->dims, k->in[0]->dims, sizeof k->dims);
}

/* Conv2D, DepthwiseConv2D, SeparableConv2D. */
static int layer_conv(cv_ctx *c, kcall *k) {
    if (need_rank(c, k, 4) || check_channels_last(c, k->layer, k->cfg)) return -1;
    int ks[2], s[2], d[2], same = 0;
    if (cfg_pair(c, k->layer, k->cfg, "kernel_size", 1, ks) || cfg_pair(c, k->layer, k->cfg, "strides", 1, s) ||
        cfg_pair(c, k->layer, k->cfg, "dilation_rate", 1, d) || padding_same(c, k->layer, k->cfg, &same))
        return -1;
    if ((s[0] > 1 || s[1] > 1) && (d[0] > 1 || d[1] > 1))
        return cv_fail(c, "%s: layer '%s': strides > 1 with dilation_rate > 1", c->path, k->layer);
    const ktensor *x = k->in[0];
    int64_t cin = x->dims[3];
    int64_t filters = cfg_int(k->cfg, "filters", -1);
    int depthwise = !strcmp(k->cls, "DepthwiseConv2D"), separable = !strcmp(k->cls, "SeparableConv2D");
    int mult = cfg_int(k->cfg, "depth_multiplier", 1);
    char w[NAME_MAX_LEN], node[NAME_MAX_LEN], cur[NAME_MAX_LEN];
    int64_t cout;
    if (depthwise || separable) {
        int64_t e[4] = {ks[0], ks[1], cin, mult};
        if (layer_weight(c, k->layer, "depthwise_kernel", 4, e, w, NULL)) return -1;
        if (join(c, node, k->scope, separable ? "separable_conv2d/depthwise" : "depthwise")) return -1;
        fr_gdw_node_begin(c->g, node, "DepthwiseConv2dNative");
        fr_gdw_input(c->g, x->tf);
        fr_gdw_input(c->g, w);
        put_spatial_attrs(c, s, d, same);
        if (end_node(c)) return -1;
        strcpy(cur, node);
        cout = cin * mult;
        if (separable) {
            int64_t pe[4] = {1, 1, cin * mult, filters};
            int one[2] = {1, 1};
            if (layer_weight(c, k->layer, "pointwise_kernel", 4, pe, w, NULL)) return -1;
            if (join(c, node, k->scope, "separable_conv2d")) return -1;
            fr_gdw_node_begin(c->g, node, "Conv2D");
            fr_gdw_input(c->g, cur);
            fr_gdw_input(c->g, w);
            put_spatial_attrs(c, one, one, 0);
            fr_gdw_attr_bool(c->g, "use_cudnn_on_gpu", 1);
            if (end_node(c)) return -1;
            strcpy(cur, node);
            cout = filters;
        }
    } else {
        int64_t e[4] = {ks[0], ks[1], cin, filters};
        if (layer_weight(c, k->layer, "kernel", 4, e, w, NULL)) return -1;
        if (join(c, node, k->scope, "convolution")) return -1;
        fr_gdw_node_begin(c->g, node, "Conv2D");
        fr_gdw_input(c->g, x->tf);
        fr_gdw_input(c->g, w);
        put_spatial_attrs(c, s, d, same);
        fr_gdw_attr_bool(c->g, "use_cudnn_on_gpu", 1);
        if (end_node(c)) return -1;
        strcpy(cur, node);
        cout = filters;
    }
    if (cout < 1) return cv_fail(c, "%s: layer '%s': bad \"filters\"", c->path, k->layer);
    if (bias_activation(c, k, cout, 4, cur)) return -1;
    k->rank = 4;
    k->dims[0] = -1;
    for (int i = 0; i < 2; i++) {
        k->dims[1 + i] = conv_out(c, k->layer, x->dims[1 + i], ks[i], s[i], d[i], same);
        if (k->dims[1 + i] == -2) return -1;
    }
    k->dims[3] = cout;
    return 0;
}

static int layer_batchnorm(cv_ctx *c, kcall *k) {
    if (k->n_in != 1) return need_rank(c, k, 4);
    const ktensor *x = k->in[0];
    int axis = cfg_int(k->cfg, "axis", -1);
    json_t *ja = json_object_get(k->cfg, "axis");
    if (json_is_array(ja) && json_array_size(ja) == 1) axis = (int)json_integer_value(json_array_get(ja, 0));
    if (axis < 0) axis += x->rank;
    if (axis != x->rank - 1 || x->rank < 2)
        return cv_fail(c, "%s: layer '%s': BatchNormalization over axis %d of a rank-%d tensor is not supported (only the last axis)",
                       c->path, k->layer, axis, x->rank);
    int64_t ch = x->dims[x->rank - 1];
    double eps = json_number_value(json_object_get(k->cfg, "epsilon"));
    if (!json_is_number(json_object_get(k->cfg, "epsilon"))) eps = 1e-3;
    int center = cfg_bool(k->cfg, "center", 1), scale = cfg_bool(k->cfg, "scale", 1);
    int64_t e[1] = {ch};
    char gamma[NAME_MAX_LEN], beta[NAME_MAX_LEN], mean[NAME_MAX_LEN], var[NAME_MAX_LEN], node[NAME_MAX_LEN];
    cv_weight *wg = NULL, *wb = NULL, *wm, *wv;
    if (scale && layer_weight(c, k->layer, "gamma", 1, e, gamma, &wg)) return -1;
    if (center && layer_weight(c, k->layer, "beta", 1, e, beta, &wb)) return -1;
    if (layer_weight(c, k->layer, "moving_mean", 1, e, mean, &wm) ||
        layer_weight(c, k->layer, "moving_variance", 1, e, var, &wv))
        return -1;
    ch = wm->dims[0];
    same_shape(k);
    if (x->rank == 4) {
        /* What Keras' batch_normalization gives for NHWC: one fused op
         * (gamma = ones / beta = zeros when scale / center is off). */
        float *fill = calloc((size_t)ch, sizeof *fill);
        if (!fill) return cv_fail(c, "out of memory");
        int rc = 0;
        if (!scale) {
            for (int64_t i = 0; i < ch; i++) fill[i] = 1.0f;
            rc = join(c, gamma, k->scope, "Const") || const_f32(c, gamma, 1, e, fill);
        }
        if (!rc && !center) {
            for (int64_t i = 0; i < ch; i++) fill[i] = 0.0f;
            rc = join(c, beta, k->scope, "Const_1") || const_f32(c, beta, 1, e, fill);
        }
        free(fill);
        if (rc || join(c, node, k->scope, "FusedBatchNormV3")) return -1;
        fr_gdw_node_begin(c->g, node, "FusedBatchNormV3");
        fr_gdw_input(c->g, x->tf);
        fr_gdw_input(c->g, gamma);
        fr_gdw_input(c->g, beta);
        fr_gdw_input(c->g, mean);
        fr_gdw_input(c->g, var);
        fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
        fr_gdw_attr_type(c->g, "U", FR_DT_FLOAT);
        fr_gdw_attr_float(c->g, "epsilon", (float)eps);
        fr_gdw_attr_str(c->g, "data_format", "NHWC");
        fr_gdw_attr_bool(c->g, "is_training", 0);
        if (end_node(c)) return -1;
        strcpy(k->out, node);
        return 0;
    }
    /* Other ranks: y = x * a + b with a = gamma / sqrt(var + eps), b = beta - mean * a
     * (tf.nn.batch_normalization, its constant part evaluated here). */
    float *a = malloc((size_t)ch * 2 * sizeof *a);
    if (!a) return cv_fail(c, "out of memory");
    float *b = a + ch;
    const float *fm = wm->data, *fv = wv->data;
    for (int64_t i = 0; i < ch; i++) {
        float r = (float)(1.0 / sqrt((double)fv[i] + eps));
        float g = wg ? ((float *)wg->data)[i] : 1.0f;
        a[i] = r * g;
        b[i] = (wb ? ((float *)wb->data)[i] : 0.0f) - fm[i] * a[i];
    }
    char an[NAME_MAX_LEN], bn[NAME_MAX_LEN], mul[NAME_MAX_LEN];
    int rc = join(c, an, k->scope, "batchnorm/mul/y") || const_f32(c, an, 1, e, a) ||
             join(c, bn, k->scope, "batchnorm/sub") || const_f32(c, bn, 1, e, b);
    free(a);
    if (rc || join(c, mul, k->scope, "batchnorm/mul_1") || binary(c, mul, "Mul", x->tf, an) ||
        join(c, node, k->scope, "batchnorm/add_1") || binary(c, node, "Add", mul, bn))
        return -1;
    strcpy(k->out, node);
    return 0;
}

static int layer_activation(cv_ctx *c, kcall *k) {
    if (k->n_in != 1) return need_rank(c, k, 4);
    strcpy(k->out, k->in[0]->tf);
    same_shape(k);
    if (!strcmp(k->cls, "Softmax")) {
        int axis = cfg_int(k->cfg, "axis", -1);
        if (axis != -1 && axis != k->rank - 1)
            return cv_fail(c, "%s: layer '%s': Softmax over axis %d is not supported (only the last)", c->path,
                           k->layer, axis);
        return activation(c, k->layer, k->scope, "softmax", k->rank, k->out);
    }
    const char *act = cfg_str(k->cfg, "activation", "linear");
    if (!strcmp(act, "linear")) return unary(c, k->scope, "Identity", "Identity", k->in[0]->tf, k->out);
    return activation(c, k->layer, k->scope, act, k->rank, k->out);
}

static int layer_relu(cv_ctx *c, kcall *k) {
    if (k->n_in != 1) return need_rank(c, k, 4);
    same_shape(k);
    json_t *jmax = json_object_get(k->cfg, "max_value");
    double slope = json_number_value(json_object_get(k->cfg, "negative_slope"));
    double thr = json_number_value(json_object_get(k->cfg, "threshold"));
    if (slope != 0 || thr != 0)
        return cv_fail(c, "%s: layer '%s': ReLU with negative_slope or threshold is not supported", c->path, k->layer);
    if (json_is_number(jmax) && json_number_value(jmax) == 6)
        return unary(c, k->scope, "Relu6", "Relu6", k->in[0]->tf, k->out);
    char relu[NAME_MAX_LEN];
    if (unary(c, k->scope, "Relu", "Relu", k->in[0]->tf, relu)) return -1;
    if (!json_is_number(jmax)) {
        strcpy(k->out, relu);
        return 0;
    }
    /* relu then clip: Minimum(relu, max_value) */
    char cn[NAME_MAX_LEN];
    float mv = (float)json_number_value(jmax);
    if (join(c, cn, k->scope, "clip_by_value/Minimum/y") || const_f32(c, cn, 0, NULL, &mv) ||
        join(c, k->out, k->scope, "clip_by_value/Minimum") || binary(c, k->out, "Minimum", relu, cn))
        return -1;
    return 0;
}

static int layer_leaky_relu(cv_ctx *c, kcall *k) {
    if (k->n_in != 1) return need_rank(c, k, 4);
    same_shape(k);
    json_t *ja = json_object_get(k->cfg, "alpha");
    float alpha = json_is_number(ja) ? (float)json_number_value(ja) : 0.3f;
    if (!(alpha >= 0 && alpha <= 1))
        return cv_fail(c, "%s: layer '%s': LeakyReLU alpha must be in [0, 1]", c->path, k->layer);
    /* max(x, alpha * x) */
    char an[NAME_MAX_LEN], mul[NAME_MAX_LEN];
    if (join(c, an, k->scope, "LeakyRelu/alpha") || const_f32(c, an, 0, NULL, &alpha) ||
        join(c, mul, k->scope, "LeakyRelu/mul") || binary(c, mul, "Mul", an, k->in[0]->tf) ||
        join(c, k->out, k->scope, "LeakyRelu/Maximum") || binary(c, k->out, "Maximum", k->in[0]->tf, mul))
        return -1;
    return 0;
}

static int layer_pool(cv_ctx *c, kcall *k) {
    if (need_rank(c, k, 4) || check_channels_last(c, k->layer, k->cfg)) return -1;
    int ks[2], s[2], one[2] = {1, 1}, same = 0;
    if (cfg_pair(c, k->layer, k->cfg, "pool_size", 2, ks) || padding_same(c, k->layer, k->cfg, &same)) return -1;
    json_t *js = json_object_get(k->cfg, "strides");
    if (!js || json_is_null(js)) s[0] = ks[0], s[1] = ks[1];
    else if (cfg_pair(c, k->layer, k->cfg, "strides", 1, s)) return -1;
    int max = !strcmp(k->cls, "MaxPooling2D");
    const char *op = max ? "MaxPool" : "AvgPool";
    if (join(c, k->out, k->scope, op)) return -1;
    int64_t ksize[4] = {1, ks[0], ks[1], 1}, strides[4] = {1, s[0], s[1], 1};
    fr_gdw_node_begin(c->g, k->out, op);
    fr_gdw_input(c->g, k->in[0]->tf);
    fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
    fr_gdw_attr_ints(c->g, "ksize", 4, ksize);
    fr_gdw_attr_ints(c->g, "strides", 4, strides);
    fr_gdw_attr_str(c->g, "padding", same ? "SAME" : "VALID");
    fr_gdw_attr_str(c->g, "data_format", "NHWC");
    if (end_node(c)) return -1;
    same_shape(k);
    for (int i = 0; i < 2; i++) {
        k->dims[1 + i] = conv_out(c, k->layer, k->in[0]->dims[1 + i], ks[i], s[i], one[i], same);
        if (k->dims[1 + i] == -2) return -1;
    }
    return 0;
}

static int layer_global_avg(cv_ctx *c, kcall *k) {
    if (need_rank(c, k, 4) || check_channels_last(c, k->layer, k->cfg)) return -1;
    char ax[NAME_MAX_LEN];
    int32_t axes[2] = {1, 2};
    int64_t d2[1] = {2};
    if (join(c, k->out, k->scope, "Mean") || join(c, ax, k->scope, "Mean/reduction_indices") ||
        const_i32(c, ax, 1, d2, axes))
        return -1;
    fr_gdw_node_begin(c->g, k->out, "Mean");
    fr_gdw_input(c->g, k->in[0]->tf);
    fr_gdw_input(c->g, ax);
    fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
    fr_gdw_attr_type(c->g, "Tidx", FR_DT_INT32);
    fr_gdw_attr_bool(c->g, "keep_dims", 0);
    if (end_node(c)) return -1;
    k->rank = 2;
    k->dims[0] = -1;
    k->dims[1] = k->in[0]->dims[3];
    return 0;
}

static int layer_concat(cv_ctx *c, kcall *k) {
    if (k->n_in < 2) return cv_fail(c, "%s: layer '%s': Concatenate needs at least two inputs", c->path, k->layer);
    int rank = k->in[0]->rank, axis = cfg_int(k->cfg, "axis", -1);
    if (axis < 0) axis += rank;
    if (axis < 1 || axis >= rank) return cv_fail(c, "%s: layer '%s': bad concatenation axis", c->path, k->layer);
    same_shape(k);
    k->dims[axis] = 0;
    for (int i = 0; i < k->n_in; i++) {
        const ktensor *t = k->in[i];
        int ok = t->rank == rank;
        for (int d = 1; ok && d < rank; d++)
            if (d != axis && t->dims[d] != k->in[0]->dims[d]) ok = 0;
        if (!ok) return cv_fail(c, "%s: layer '%s': Concatenate inputs have mismatched shapes", c->path, k->layer);
        k->dims[axis] = (k->dims[axis] < 0 || t->dims[axis] < 0) ? -1 : k->dims[axis] + t->dims[axis];
    }
    char ax[NAME_MAX_LEN];
    int32_t a = axis;
    if (join(c, k->out, k->scope, "concat") || join(c, ax, k->scope, "concat/axis") || const_i32(c, ax, 0, NULL, &a))
        return -1;
    fr_gdw_node_begin(c->g, k->out, "ConcatV2");
    for (int i = 0; i < k->n_in; i++) fr_gdw_input(c->g, k->in[i]->tf);
    fr_gdw_input(c->g, ax);
    fr_gdw_attr_int(c->g, "N", k->n_in);
    fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
    fr_gdw_attr_type(c->g, "Tidx", FR_DT_INT32);
    return end_node(c);
}

/* Add, Multiply, Subtract, Maximum, Minimum: a chain of binary ops. */
static int layer_merge(cv_ctx *c, kcall *k) {
    static const struct {
        const char *cls, *op, *leaf;
    } map[] = {{"Add", "Add", "add"}, {"Multiply", "Mul", "mul"}, {"Subtract", "Sub", "sub"},
               {"Maximum", "Maximum", "Maximum"}, {"Minimum", "Minimum", "Minimum"}};
    size_t m = 0;
    while (strcmp(map[m].cls, k->cls)) m++;
    if (k->n_in < 2 || (!strcmp(k->cls, "Subtract") && k->n_in != 2))
        return cv_fail(c, "%s: layer '%s': %s needs %s inputs", c->path, k->layer, k->cls,
                       strcmp(k->cls, "Subtract") ? "at least two" : "exactly two");
    same_shape(k);
    for (int i = 1; i < k->n_in; i++)
        if (k->in[i]->rank != k->rank || memcmp(k->in[i]->dims, k->dims, sizeof(int64_t) * (size_t)k->rank))
            return cv_fail(c, "%s: layer '%s': %s inputs have different shapes", c->path, k->layer, k->cls);
    char prev[NAME_MAX_LEN];
    strcpy(prev, k->in[0]->tf);
    for (int i = 1; i < k->n_in; i++) {
        char leaf[64];
        if (i == 1) snprintf(leaf, sizeof leaf, "%s", map[m].leaf);
        else snprintf(leaf, sizeof leaf, "%s_%d", map[m].leaf, i - 1);
        if (join(c, k->out, k->scope, leaf) || binary(c, k->out, map[m].op, prev, k->in[i]->tf)) return -1;
        strcpy(prev, k->out);
    }
    return 0;
}

static int64_t elements_of(const ktensor *t, int from) {
    int64_t n = 1;
    for (int i = from; i < t->rank; i++) {
        if (t->dims[i] < 0) return -1;
        n *= t->dims[i];
    }
    return n;
}

static int layer_flatten(cv_ctx *c, kcall *k) {
    if (k->n_in != 1) return need_rank(c, k, 2);
    const ktensor *x = k->in[0];
    if (x->rank < 2) return cv_fail(c, "%s: layer '%s': Flatten needs rank >= 2", c->path, k->layer);
    int64_t n = elements_of(x, 1);
    if (n < 0) return cv_fail(c, "%s: layer '%s': Flatten of a tensor with unknown dimensions", c->path, k->layer);
    k->rank = 2;
    k->dims[0] = -1;
    k->dims[1] = n;
    char shape[NAME_MAX_LEN];
    int64_t d1[1] = {1}, d2[1] = {2};
    if (c->flatten_const) {
        int32_t v[2] = {-1, (int32_t)n};
        if (join(c, shape, k->scope, "Reshape/shape") || const_i32(c, shape, 1, d2, v)) return -1;
    } else {
        /* Keras' batch_flatten: reshape(x, stack([-1, prod(shape(x)[1:])])) */
        char sh[NAME_MAX_LEN], b[NAME_MAX_LEN], e[NAME_MAX_LEN], st[NAME_MAX_LEN], ss[NAME_MAX_LEN],
            ax[NAME_MAX_LEN], prod[NAME_MAX_LEN], m1[NAME_MAX_LEN];
        int32_t one = 1, zero = 0, minus1 = -1;
        if (join(c, sh, k->scope, "Shape")) return -1;
        fr_gdw_node_begin(c->g, sh, "Shape");
        fr_gdw_input(c->g, x->tf);
        fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
        fr_gdw_attr_type(c->g, "out_type", FR_DT_INT32);
        if (end_node(c) || join(c, b, k->scope, "strided_slice/stack") || const_i32(c, b, 1, d1, &one) ||
            join(c, e, k->scope, "strided_slice/stack_1") || const_i32(c, e, 1, d1, &zero) ||
            join(c, st, k->scope, "strided_slice/stack_2") || const_i32(c, st, 1, d1, &one) ||
            join(c, ss, k->scope, "strided_slice"))
            return -1;
        fr_gdw_node_begin(c->g, ss, "StridedSlice");
        fr_gdw_input(c->g, sh);
        fr_gdw_input(c->g, b);
        fr_gdw_input(c->g, e);
        fr_gdw_input(c->g, st);
        fr_gdw_attr_type(c->g, "T", FR_DT_INT32);
        fr_gdw_attr_type(c->g, "Index", FR_DT_INT32);
        fr_gdw_attr_int(c->g, "begin_mask", 0);
        fr_gdw_attr_int(c->g, "end_mask", 1);
        fr_gdw_attr_int(c->g, "ellipsis_mask", 0);
        fr_gdw_attr_int(c->g, "new_axis_mask", 0);
        fr_gdw_attr_int(c->g, "shrink_axis_mask", 0);
        if (end_node(c) || join(c, ax, k->scope, "Const") || const_i32(c, ax, 1, d1, &zero) ||
            join(c, prod, k->scope, "Prod"))
            return -1;
        fr_gdw_node_begin(c->g, prod, "Prod");
        fr_gdw_input(c->g, ss);
        fr_gdw_input(c->g, ax);
        fr_gdw_attr_type(c->g, "T", FR_DT_INT32);
        fr_gdw_attr_type(c->g, "Tidx", FR_DT_INT32);
        fr_gdw_attr_bool(c->g, "keep_dims", 0);
        if (end_node(c) || join(c, m1, k->scope, "stack/0") || const_i32(c, m1, 0, NULL, &minus1) ||
            join(c, shape, k->scope, "stack"))
            return -1;
        fr_gdw_node_begin(c->g, shape, "Pack");
        fr_gdw_input(c->g, m1);
        fr_gdw_input(c->g, prod);
        fr_gdw_attr_type(c->g, "T", FR_DT_INT32);
        fr_gdw_attr_int(c->g, "N", 2);
        fr_gdw_attr_int(c->g, "axis", 0);
        if (end_node(c)) return -1;
    }
    if (join(c, k->out, k->scope, "Reshape")) return -1;
    fr_gdw_node_begin(c->g, k->out, "Reshape");
    fr_gdw_input(c->g, x->tf);
    fr_gdw_input(c->g, shape);
    fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
    fr_gdw_attr_type(c->g, "Tshape", FR_DT_INT32);
    return end_node(c);
}

static int layer_reshape(cv_ctx *c, kcall *k) {
    if (k->n_in != 1) return need_rank(c, k, 2);
    const ktensor *x = k->in[0];
    json_t *ts = json_object_get(k->cfg, "target_shape");
    if (!json_is_array(ts) || json_array_size(ts) + 1 > CV_MAX_RANK)
        return cv_fail(c, "%s: layer '%s': Reshape needs a \"target_shape\"", c->path, k->layer);
    int64_t total = elements_of(x, 1), known = 1;
    int unknown = -1;
    k->rank = (int)json_array_size(ts) + 1;
    k->dims[0] = -1;
    for (int i = 1; i < k->rank; i++) {
        json_t *d = json_array_get(ts, (size_t)i - 1);
        int64_t v = json_is_integer(d) ? json_integer_value(d) : -1;
        if (v == -1 && unknown < 0) unknown = i;
        else if (v < 1) return cv_fail(c, "%s: layer '%s': bad \"target_shape\"", c->path, k->layer);
        else known *= v;
        k->dims[i] = v;
    }
    if (total < 0) return cv_fail(c, "%s: layer '%s': Reshape of a tensor with unknown dimensions", c->path, k->layer);
    if (unknown > 0) {
        if (total % known) return cv_fail(c, "%s: layer '%s': cannot reshape %lld elements", c->path, k->layer, (long long)total);
        k->dims[unknown] = total / known;
    } else if (known != total) {
        return cv_fail(c, "%s: layer '%s': target_shape has %lld elements, input %lld", c->path, k->layer,
                       (long long)known, (long long)total);
    }
    int32_t v[CV_MAX_RANK];
    int64_t d1[1] = {k->rank};
    for (int i = 0; i < k->rank; i++) v[i] = (int32_t)k->dims[i];
    char shape[NAME_MAX_LEN];
    if (join(c, shape, k->scope, "Reshape/shape") || const_i32(c, shape, 1, d1, v) ||
        join(c, k->out, k->scope, "Reshape"))
        return -1;
    fr_gdw_node_begin(c->g, k->out, "Reshape");
    fr_gdw_input(c->g, x->tf);
    fr_gdw_input(c->g, shape);
    fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
    fr_gdw_attr_type(c->g, "Tshape", FR_DT_INT32);
    return end_node(c);
}

static int layer_dense(cv_ctx *c, kcall *k) {
    if (need_rank(c, k, 2)) return -1;
    int64_t units = cfg_int(k->cfg, "units", -1);
    if (units < 1) return cv_fail(c, "%s: layer '%s': bad \"units\"", c->path, k->layer);
    int64_t e[2] = {k->in[0]->dims[1], units};
    char w[NAME_MAX_LEN], cur[NAME_MAX_LEN];
    if (layer_weight(c, k->layer, "kernel", 2, e, w, NULL) || join(c, cur, k->scope, "MatMul")) return -1;
    fr_gdw_node_begin(c->g, cur, "MatMul");
    fr_gdw_input(c->g, k->in[0]->tf);
    fr_gdw_input(c->g, w);
    fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
    fr_gdw_attr_bool(c->g, "transpose_a", 0);
    fr_gdw_attr_bool(c->g, "transpose_b", 0);
    if (end_node(c) || bias_activation(c, k, units, 2, cur)) return -1;
    k->rank = 2;
    k->dims[0] = -1;
    k->dims[1] = units;
    return 0;
}

static int layer_identity(cv_ctx *c, kcall *k) {
    if (k->n_in != 1) return need_rank(c, k, 4);
    same_shape(k);
    return unary(c, k->scope, "Identity", "Identity", k->in[0]->tf, k->out);
}

static int layer_zero_padding(cv_ctx *c, kcall *k) {
    if (need_rank(c, k, 4) || check_channels_last(c, k->layer, k->cfg)) return -1;
    json_t *p = json_object_get(k->cfg, "padding");
    int pad[4]; /* top, bottom, left, right */
    if (json_is_integer(p)) {
        pad[0] = pad[1] = pad[2] = pad[3] = (int)json_integer_value(p);
    } else if (json_is_array(p) && json_array_size(p) == 2 && json_is_integer(json_array_get(p, 0))) {
        pad[0] = pad[1] = (int)json_integer_value(json_array_get(p, 0));
        pad[2] = pad[3] = (int)json_integer_value(json_array_get(p, 1));
    } else if (json_is_array(p) && json_array_size(p) == 2 && json_array_size(json_array_get(p, 0)) == 2 &&
               json_array_size(json_array_get(p, 1)) == 2) {
        for (int i = 0; i < 4; i++) pad[i] = (int)json_integer_value(json_array_get(json_array_get(p, (size_t)i / 2), (size_t)i % 2));
    } else {
        return cv_fail(c, "%s: layer '%s': bad \"padding\"", c->path, k->layer);
    }
    for (int i = 0; i < 4; i++)
        if (pad[i] < 0 || pad[i] > 65536) return cv_fail(c, "%s: layer '%s': bad \"padding\"", c->path, k->layer);
    int32_t v[8] = {0, 0, pad[0], pad[1], pad[2], pad[3], 0, 0};
    int64_t d[2] = {4, 2};
    char pn[NAME_MAX_LEN];
    if (join(c, pn, k->scope, "Pad/paddings") || const_i32(c, pn, 2, d, v) || join(c, k->out, k->scope, "Pad"))
        return -1;
    fr_gdw_node_begin(c->g, k->out, "Pad");
    fr_gdw_input(c->g, k->in[0]->tf);
    fr_gdw_input(c->g, pn);
    fr_gdw_attr_type(c->g, "T", FR_DT_FLOAT);
    fr_gdw_attr_type(c->g, "Tpaddings", FR_DT_INT32);
    if (end_node(c)) return -1;
    same_shape(k);
    for (int i = 0; i < 2; i++)
        if (k->dims[1 + i] >= 0) k->dims[1 + i] += pad[2 * i] + pad[2 * i + 1];
    return 0;
}

static const struct {
    const char *cls;
    int (*fn)(cv_ctx *, kcall *);
} layer_table[] = {
    {"Activation", layer_activation},
    {"ActivityRegularization", layer_identity},
    {"Add", layer_merge},
    {"AlphaDropout", layer_identity},
    {"AveragePooling2D", layer_pool},
    {"BatchNormalization", layer_batchnorm},
    {"Concatenate", layer_concat},
    {"Conv2D", layer_conv},
    {"DepthwiseConv2D", layer_conv},
    {"Dense", layer_dense},
    {"Dropout", layer_identity},
    {"Flatten", layer_flatten},
    {"GaussianDropout", layer_identity},
    {"GaussianNoise", layer_identity},
    {"GlobalAveragePooling2D", layer_global_avg},
    {"LeakyReLU", layer_leaky_relu},
    {"MaxPooling2D", layer_pool},
    {"Maximum", layer_merge},
    {"Minimum", layer_merge},
    {"Multiply", layer_merge},
    {"ReLU", layer_relu},
    {"Reshape", layer_reshape},
    {"SeparableConv2D", layer_conv},
    {"Softmax", layer_activation},
    {"SpatialDropout2D", layer_identity},
    {"Subtract", layer_merge},
    {"ZeroPadding2D", layer_zero_padding},
};

static const char *supported_list(void) {
    static char buf[1024];
    if (!buf[0]) {
        strcpy(buf, "InputLayer");
        for (size_t i = 0; i < sizeof layer_table / sizeof layer_table[0]; i++) {
            strcat(buf, ", ");
            strcat(buf, layer_table[i].cls);
        }
    }
    return buf;
}

/* ---- topology ------------------------------------------------------------- */

static int input_layer(cv_ctx *c, kmodel *m, const char *name, json_t *cfg) {
    json_t *shape = json_object_get(cfg, "batch_input_shape");
    if (!shape) shape = json_object_get(cfg, "batch_shape");
    const char *dtype = cfg_str(cfg, "dtype", "float32");
    if (strcmp(dtype, "float32"))
        return cv_fail(c, "%s: input layer '%s' has dtype '%s' (only float32 inputs are supported)", c->path, name, dtype);
    if (!json_is_array(shape) || json_array_size(shape) < 1 || json_array_size(shape) > CV_MAX_RANK)
        return cv_fail(c, "%s: input layer '%s' has no \"batch_input_shape\"", c->path, name);
    int rank = (int)json_array_size(shape);
    int64_t dims[CV_MAX_RANK];
    for (int i = 0; i < rank; i++) {
        json_t *d = json_array_get(shape, (size_t)i);
        dims[i] = json_is_integer(d) ? json_integer_value(d) : -1;
    }
    dims[0] = -1;
    fr_gdw_placeholder(c->g, name, rank, dims);
    if (end_node(c)) return -1;
    if (!c->input_name && !(c->input_name = strdup(name))) return cv_fail(c, "out of memory");
    return kt_add(m, name, 0, name, rank, dims);
}

/* One call of a layer (inbound node `node`): 1 done, 0 inputs not ready yet, -1 error. */
static int layer_call(cv_ctx *c, kmodel *m, json_t *layer, int node, json_t *inbound) {
    const char *name = json_string_value(json_object_get(layer, "name"));
    if (!name) name = cfg_str(json_object_get(layer, "config"), "name", NULL);
    const char *cls = json_string_value(json_object_get(layer, "class_name"));
    if (!name || !*name) return cv_fail(c, "%s: a layer has no \"name\"", c->path);
    if (!cls) return cv_fail(c, "%s: layer '%s' has no \"class_name\"", c->path, name);
    json_t *cfg = json_object_get(layer, "config");
    kcall k;
    memset(&k, 0, sizeof k);
    k.layer = name;
    k.cls = cls;
    k.cfg = cfg;
    size_t n = json_array_size(inbound);
    if (!json_is_array(inbound) || n == 0)
        return cv_fail(c, "%s: layer '%s': unsupported \"inbound_nodes\" format", c->path, name);
    ktensor *ins[64];
    if (n > 64) return cv_fail(c, "%s: layer '%s': too many inputs", c->path, name);
    for (size_t i = 0; i < n; i++) {
        json_t *ref = json_array_get(inbound, i);
        const char *src = json_string_value(json_array_get(ref, 0));
        if (!src || !json_is_integer(json_array_get(ref, 1)))
            return cv_fail(c, "%s: layer '%s': unsupported \"inbound_nodes\" format", c->path, name);
        int sn = (int)json_integer_value(json_array_get(ref, 1));
        int si = json_is_integer(json_array_get(ref, 2)) ? (int)json_integer_value(json_array_get(ref, 2)) : 0;
        ins[i] = kt_find(m, src, sn, si);
        if (!ins[i]) return 0;
    }
    k.in = ins;
    k.n_in = (int)n;
    if (node == 0) snprintf(k.scope, sizeof k.scope, "%s", name);
    else snprintf(k.scope, sizeof k.scope, "%s/call_%d", name, node);
    for (size_t i = 0; i < sizeof layer_table / sizeof layer_table[0]; i++) {
        if (strcmp(layer_table[i].cls, cls)) continue;
        if (layer_table[i].fn(c, &k)) return -1;
        if (kt_add(m, name, node, k.out, k.rank, k.dims)) return -1;
        return 1;
    }
    if (!strcmp(cls, "Model") || !strcmp(cls, "Functional") || !strcmp(cls, "Sequential"))
        return cv_fail(c, "%s: layer '%s' is a nested model (%s); nested models are not supported", c->path, name, cls);
    return cv_fail(c, "%s: layer '%s' has unsupported type %s (supported: %s)", c->path, name, cls, supported_list());
}

/* Check every layer class up front, so that the error names all of them. */
static int check_classes(cv_ctx *c, json_t *layers) {
    char bad[1024] = "";
    int nbad = 0;
    for (size_t i = 0; i < json_array_size(layers); i++) {
        json_t *l = json_array_get(layers, i);
        const char *cls = json_string_value(json_object_get(l, "class_name"));
        if (!cls) return cv_fail(c, "%s: layer %zu has no \"class_name\"", c->path, i);
        int ok = !strcmp(cls, "InputLayer");
        for (size_t t = 0; !ok && t < sizeof layer_table / sizeof layer_table[0]; t++) ok = !strcmp(layer_table[t].cls, cls);
        if (ok || strstr(bad, cls)) continue;
        const char *name = json_string_value(json_object_get(l, "name"));
        if (!name) name = cfg_str(json_object_get(l, "config"), "name", "?");
        snprintf(bad + strlen(bad), sizeof bad - strlen(bad), "%s%s (layer '%s')", nbad++ ? ", " : "", cls, name);
    }
    if (nbad)
        return cv_fail(c, "%s: unsupported layer type%s: %s; supported: %s", c->path, nbad > 1 ? "s" : "", bad,
                       supported_list());
    return 0;
}

static int functional(cv_ctx *c, kmodel *m, json_t *config) {
    json_t *layers = json_object_get(config, "layers");
    if (!json_is_array(layers)) return cv_fail(c, "%s: model config has no \"layers\"", c->path);
    if (check_classes(c, layers)) return -1;
    size_t nl = json_array_size(layers);
    /* done[i]: calls of layer i converted so far */
    int *done = calloc(nl ? nl : 1, sizeof *done);
    if (!done) return cv_fail(c, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < nl && !rc; i++) {
        json_t *l = json_array_get(layers, i);
        if (!strcmp(json_string_value(json_object_get(l, "class_name")), "InputLayer")) {
            const char *name = json_string_value(json_object_get(l, "name"));
            if (!name) name = cfg_str(json_object_get(l, "config"), "name", "input");
            rc = input_layer(c, m, name, json_object_get(l, "config"));
            done[i] = -1;
        }
    }
    /* Convert the calls in dependency order (layers are usually listed in order). */
    for (int progress = 1; progress && !rc;) {
        progress = 0;
        for (size_t i = 0; i < nl && !rc; i++) {
            if (done[i] < 0) continue;
            json_t *l = json_array_get(layers, i);
            json_t *inb = json_object_get(l, "inbound_nodes");
            while (!rc && done[i] < (int)json_array_size(inb)) {
                int r = layer_call(c, m, l, done[i], json_array_get(inb, (size_t)done[i]));
                if (r < 0) rc = -1;
                if (r <= 0) break;
                done[i]++;
                progress = 1;
            }
        }
    }
    for (size_t i = 0; i < nl && !rc; i++) {
        json_t *l = json_array_get(layers, i);
        if (done[i] >= 0 && done[i] < (int)json_array_size(json_object_get(l, "inbound_nodes")))
            rc = cv_fail(c, "%s: layer '%s': its inputs are never computed (cycle or missing layer)", c->path,
                         json_string_value(json_object_get(l, "name")));
    }
    free(done);
    if (rc) return -1;
    json_t *outs = json_object_get(config, "output_layers");
    if (!json_is_array(outs) || !json_array_size(outs)) return cv_fail(c, "%s: model has no \"output_layers\"", c->path);
    for (size_t i = 0; i < json_array_size(outs); i++) {
        json_t *o = json_array_get(outs, i);
        const char *ln = json_string_value(json_array_get(o, 0));
        ktensor *t = ln ? kt_find(m, ln, (int)json_integer_value(json_array_get(o, 1)),
                                  (int)json_integer_value(json_array_get(o, 2)))
                        : NULL;
        if (!t) return cv_fail(c, "%s: output layer '%s' not found", c->path, ln ? ln : "?");
        if (!c->output_name && !(c->output_name = strdup(t->tf))) return cv_fail(c, "out of memory");
    }
    return 0;
}

static int sequential(cv_ctx *c, kmodel *m, json_t *config) {
    json_t *layers = json_is_array(config) ? config : json_object_get(config, "layers");
    if (!json_is_array(layers) || !json_array_size(layers)) return cv_fail(c, "%s: Sequential model without layers", c->path);
    if (check_classes(c, layers)) return -1;
    const char *prev = NULL;
    char input[NAME_MAX_LEN];
    for (size_t i = 0; i < json_array_size(layers); i++) {
        json_t *l = json_array_get(layers, i);
        const char *cls = json_string_value(json_object_get(l, "class_name"));
        json_t *cfg = json_object_get(l, "config");
        const char *name = cfg_str(cfg, "name", json_string_value(json_object_get(l, "name")));
        if (!name) return cv_fail(c, "%s: layer %zu has no name", c->path, i);
        if (!strcmp(cls, "InputLayer")) {
            if (i) return cv_fail(c, "%s: InputLayer '%s' inside a Sequential model", c->path, name);
            if (input_layer(c, m, name, cfg)) return -1;
            prev = name;
            continue;
        }
        if (!prev) { /* the first layer carries the input shape: Keras names the input "<layer>_input" */
            snprintf(input, sizeof input, "%s_input", name);
            if (input_layer(c, m, input, cfg)) return -1;
            prev = input;
        }
        json_t *inbound = json_pack("[[s, i, i]]", prev, 0, 0);
        json_t *wrapped = json_pack("{s:s, s:s, s:O}", "name", name, "class_name", cls, "config", cfg);
        int r = inbound && wrapped ? layer_call(c, m, wrapped, 0, inbound) : cv_fail(c, "out of memory");
        json_decref(inbound);
        json_decref(wrapped);
        if (r < 0) return -1;
        prev = name;
    }
    ktensor *t = kt_find(m, prev, 0, 0);
    if (!t) return cv_fail(c, "%s: Sequential model produces no output", c->path);
    if (!(c->output_name = strdup(t->tf))) return cv_fail(c, "out of memory");
    return 0;
}

int cv_convert_layers(cv_ctx *c, json_t *topology) {
    /* {keras_version, backend, model_config: {class_name, config}} or the model config itself. */
    json_t *mc = json_object_get(topology, "model_config");
    if (!mc) mc = topology;
    const char *cls = json_string_value(json_object_get(mc, "class_name"));
    json_t *config = json_object_get(mc, "config");
    if (!cls || !config) return cv_fail(c, "%s: \"modelTopology\" has no model_config with class_name and config", c->path);
    kmodel m = {c, NULL, 0, 0};
    int rc;
    if (!strcmp(cls, "Sequential")) rc = sequential(c, &m, config);
    else if (!strcmp(cls, "Model") || !strcmp(cls, "Functional")) rc = functional(c, &m, config);
    else rc = cv_fail(c, "%s: model class '%s' is not supported (Model, Functional, Sequential)", c->path, cls);
    for (int i = 0; i < m.n; i++) {
        free(m.t[i].layer);
        free(m.t[i].tf);
    }
    free(m.t);
    return rc;
}

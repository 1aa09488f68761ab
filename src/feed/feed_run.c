/* The feed at run time: each item's steps on the host (feed.h). */
#include <stdlib.h>
#include <string.h>

#include "feed/feed_internal.h"
#include "image/image_internal.h"

/* A tensor of one item. */
typedef struct {
    int dtype, rank;
    int64_t dims[FROST_MAX_RANK];
    size_t count;
    void *data;
    int owned;
} fd_val;

static size_t dtype_size(int dtype) {
    switch (dtype) {
    case FR_DT_FLOAT:
    case FR_DT_INT32: return 4;
    case FR_DT_INT64: return 8;
    case FR_DT_UINT8: return 1;
    default: return sizeof(frost_string);
    }
}

static float elem_float(const fd_val *x, size_t i) {
    switch (x->dtype) {
    case FR_DT_FLOAT: return ((const float *)x->data)[i];
    case FR_DT_INT32: return (float)((const int32_t *)x->data)[i];
    case FR_DT_INT64: return (float)((const int64_t *)x->data)[i];
    case FR_DT_UINT8: return (float)((const uint8_t *)x->data)[i];
    default: return 0.0f;
    }
}

static int alloc_val(fd_val *v, int dtype, int rank, const int64_t *dims) {
    v->dtype = dtype;
    v->rank = rank;
    v->count = 1;
    for (int d = 0; d < rank; d++) v->count *= (size_t)(v->dims[d] = dims[d]);
    v->data = malloc(v->count * dtype_size(dtype) + 1);
    v->owned = 1;
    return v->data ? 0 : -1;
}

static int to_float(const fd_val *x, fd_val *o) {
    if (x->dtype == FR_DT_FLOAT) {
        *o = *x;
        o->owned = 0;
        return 0;
    }
    if (alloc_val(o, FR_DT_FLOAT, x->rank, x->dims)) return -1;
    for (size_t i = 0; i < x->count; i++) ((float *)o->data)[i] = elem_float(x, i);
    return 0;
}

/* The image as the op decodes it (fr_decode_tf: TensorFlow's channels),
 * into a [h, w, want] uint8 tensor. */
static frost_status run_decode(const fd_step *s, const fd_val *x, int64_t want, fd_val *o, char **err) {
    const frost_string *str = x->data;
    const uint8_t *p = str->data;
    frost_decode_options opt;
    frost_decode_options_init(&opt);
    opt.dct_method = s->dct_method;
    frost_image_format fmt = frost_image_detect(p, str->size);
    frost_status st;
    if (fmt == FROST_IMAGE_UNKNOWN || (s->formats == FD_BMP_ONLY && fmt != FROST_IMAGE_BMP) ||
        (s->formats == FD_JPEG_PNG && fmt != FROST_IMAGE_JPEG && fmt != FROST_IMAGE_PNG) ||
        (s->no_gif && fmt == FROST_IMAGE_GIF)) {
        static const char *const names[] = {"unknown", "JPEG", "PNG", "BMP", "GIF"};
        fr_errorf(err, "%zu bytes of %s data: not an image this op decodes%s", str->size, names[fmt],
                  fmt == FROST_IMAGE_GIF ? " (a GIF would be decoded as 4-D frames)" : "");
        return FROST_E_IMAGE;
    }
    fr_pixels px;
    if ((st = fr_decode_tf(p, str->size, &opt, s->ratio, s->channels, &px, err)) != FROST_OK) return st;
    if (px.channels != want) {
        fr_errorf(err, "the image has %d channel%s, and channels=0 decodes it so (as TensorFlow does), but the graph "
                  "was compiled for %lld (give the node channels=%lld to convert)",
                  px.channels, px.channels > 1 ? "s" : "", (long long)want, (long long)want);
        free(px.data);
        return FROST_E_IMAGE; /* this image's, as an undecodable one: the batch's others still run */
    }
    int64_t dims[3] = {px.height, px.width, px.channels};
    o->dtype = FR_DT_UINT8;
    o->rank = 3;
    memcpy(o->dims, dims, sizeof dims);
    o->count = (size_t)px.height * (size_t)px.width * (size_t)px.channels;
    o->data = px.data; /* taken over */
    o->owned = 1;
    return FROST_OK;
}

static frost_status run_step(const fr_feed *f, const fd_step *s, fd_val *vals, char **err) {
    const fd_val *x = &vals[s->in];
    fd_val *o = &vals[s->out];
    switch (s->kind) {
    case FD_PARSE: {
        const frost_string *str = x->data;
        void *outs[1024];
        for (int i = 0; i < s->n_feat; i++) {
            const fd_slot *sl = &f->slots[s->out + i];
            if (alloc_val(&vals[s->out + i], sl->dtype, sl->rank, sl->dims)) return FROST_E_NO_MEMORY;
            outs[i] = vals[s->out + i].data;
        }
        return fr_example_parse(str->data ? str->data : (const void *)"", str->size, s->feat, s->n_feat, outs, err);
    }
    case FD_DECODE: return run_decode(s, x, f->slots[s->out].dims[2], o, err);
    case FD_CAST: return to_float(x, o) ? FROST_E_NO_MEMORY : FROST_OK;
    case FD_IDENTITY:
        *o = *x;
        o->owned = 0;
        return FROST_OK;
    case FD_EXPAND:
        *o = *x;
        o->owned = 0;
        o->rank = x->rank + 1;
        for (int d = 0; d < o->rank; d++) o->dims[d] = d < s->axis ? x->dims[d] : d == s->axis ? 1 : x->dims[d - 1];
        return FROST_OK;
    case FD_RESIZE: {
        fd_val xf;
        if (x->rank != 4 || x->dims[1] <= 0 || x->dims[2] <= 0 || to_float(x, &xf)) return FROST_E_NO_MEMORY;
        int64_t dims[4] = {x->dims[0], s->oh, s->ow, x->dims[3]};
        frost_status st = alloc_val(o, FR_DT_FLOAT, 4, dims) ? FROST_E_NO_MEMORY : FROST_OK;
        size_t in_item = (size_t)(x->dims[1] * x->dims[2] * x->dims[3]), out_item = (size_t)(s->oh * s->ow * x->dims[3]);
        for (int64_t b = 0; st == FROST_OK && b < x->dims[0]; b++)
            fr_resize_bilinear((const float *)xf.data + (size_t)b * in_item, x->dims[1], x->dims[2], x->dims[3], s->oh,
                               s->ow, s->align, s->half, (float *)o->data + (size_t)b * out_item);
        if (xf.owned) free(xf.data);
        return st;
    }
    default: return FROST_E_INTERNAL;
    }
}

frost_status fr_feed_run(const fr_feed *f, const frost_string *const *strings, int batch, float *const *stage,
                         char **err) {
    fd_val *vals = calloc((size_t)f->n_slots + 1, sizeof *vals);
    if (!vals) return FROST_E_NO_MEMORY;
    frost_status st = FROST_OK;
    for (int item = 0; item < batch && st == FROST_OK; item++) {
        for (int i = 0; i < f->n_inputs; i++) {
            if (f->in_slot[i] < 0) continue;
            fd_val *v = &vals[f->in_slot[i]];
            const fd_slot *sl = &f->slots[f->in_slot[i]];
            v->dtype = FR_DT_STRING;
            v->rank = sl->rank;
            v->dims[0] = 1;
            v->count = 1;
            v->data = (void *)(uintptr_t)&strings[i][item];
        }
        for (int k = 0; k < f->n_steps && st == FROST_OK; k++) {
            const fd_step *s = &f->steps[k];
            char *msg = NULL;
            st = run_step(f, s, vals, &msg);
            if (st != FROST_OK) {
                const fr_node *n = &f->g->nodes[s->node];
                fr_errorf(err, "item %d: node '%s' (%s): %s", item, n->name, n->op, msg ? msg : frost_strerror(st));
            }
            free(msg);
        }
        for (int k = 0; k < f->n_bound && st == FROST_OK; k++) {
            const fd_val *v = &vals[f->bound_slot[k]];
            const fd_slot *sl = &f->slots[f->bound_slot[k]];
            if (v->count != f->bound_size[k] || v->rank != sl->rank) {
                fr_errorf(err, "item %d: '%s' has %zu values at run time; the model was compiled for %zu", item,
                          f->g->nodes[sl->node].name, v->count, f->bound_size[k]);
                st = FROST_E_SHAPE;
                break;
            }
            float *dst = stage[k] + (size_t)item * f->bound_size[k];
            for (size_t i = 0; i < v->count; i++) dst[i] = elem_float(v, i);
        }
        for (int k = 0; k < f->n_slots; k++) {
            if (vals[k].owned) free(vals[k].data);
            memset(&vals[k], 0, sizeof vals[k]);
        }
    }
    free(vals);
    return st;
}

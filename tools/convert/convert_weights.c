/* TensorFlow.js weights manifest: [{paths: [shard, ...], weights: [{name, shape,
 * dtype, quantization?}, ...]}, ...].  Each group's shards concatenate into one
 * buffer holding its weights back to back, in manifest order.  Quantized
 * tensors are dequantized as TensorFlow.js does: value = q * scale + min
 * (computed in double, stored as float32; int32 tensors are rounded), float16
 * widened to float32. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

int cv_fail(cv_ctx *c, const char *fmt, ...) {
    if (c->err[0]) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return -1;
}

int cv_dtype_from_name(const char *s) {
    static const struct {
        const char *name;
        int dtype;
    } map[] = {{"float32", FR_DT_FLOAT}, {"DT_FLOAT", FR_DT_FLOAT}, {"int32", FR_DT_INT32},   {"DT_INT32", FR_DT_INT32},
               {"bool", FR_DT_BOOL},     {"DT_BOOL", FR_DT_BOOL},   {"DT_DOUBLE", FR_DT_DOUBLE}, {"DT_UINT8", FR_DT_UINT8},
               {"DT_INT16", FR_DT_INT16}, {"DT_INT8", FR_DT_INT8},  {"string", FR_DT_STRING}, {"DT_STRING", FR_DT_STRING},
               {"DT_INT64", FR_DT_INT64}, {"int64", FR_DT_INT64},   {"DT_UINT16", FR_DT_UINT16}, {"DT_HALF", FR_DT_HALF}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(s, map[i].name)) return map[i].dtype;
    return -1;
}

float cv_half_to_float(uint16_t h) {
    int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    float v;
    if (exp == 0) v = ldexpf((float)man, -24); /* zero and subnormals */
    else if (exp == 31) v = man ? NAN : INFINITY;
    else v = ldexpf((float)(man | 0x400), exp - 25);
    return sign ? -v : v;
}

void cv_weights_free(cv_weights *w) {
    for (int i = 0; i < w->n; i++) {
        free(w->w[i].name);
        free(w->w[i].data);
    }
    free(w->w);
    w->w = NULL;
    w->n = 0;
}

cv_weight *cv_weight_find(cv_ctx *c, const char *name) {
    cv_weights *ws = &c->weights;
    for (int i = 0; i < ws->n; i++)
        if (!strcmp(ws->w[i].name, name)) return &ws->w[i];
    /* Layers models saved from a nested scope: "model/conv2d_1/kernel". */
    size_t n = strlen(name);
    cv_weight *found = NULL;
    for (int i = 0; i < ws->n; i++) {
        size_t m = strlen(ws->w[i].name);
        if (m > n && ws->w[i].name[m - n - 1] == '/' && !strcmp(ws->w[i].name + m - n, name)) {
            if (found) return NULL; /* ambiguous */
            found = &ws->w[i];
        }
    }
    return found;
}

/* Read a whole file into memory. */
static int read_file(cv_ctx *c, const char *path, uint8_t **data, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return cv_fail(c, "%s: cannot open weight shard: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 65536) {
            size_t ncap = cap ? cap * 2 : 1 << 20;
            uint8_t *p = realloc(buf, ncap);
            if (!p) {
                free(buf);
                fclose(f);
                return cv_fail(c, "%s: out of memory", path);
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return cv_fail(c, "%s: read error", path);
    }
    *data = buf;
    *size = len;
    return 0;
}

/* Shape array of a manifest entry or a model.json field. */
static int parse_shape(cv_ctx *c, json_t *shape, const char *what, int *rank, int64_t *dims, size_t *count) {
    if (!json_is_array(shape) || json_array_size(shape) > CV_MAX_RANK)
        return cv_fail(c, "%s: weight '%s': bad or missing \"shape\"", c->path, what);
    *rank = (int)json_array_size(shape);
    size_t n = 1;
    for (int i = 0; i < *rank; i++) {
        json_t *d = json_array_get(shape, (size_t)i);
        if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > (1 << 30))
            return cv_fail(c, "%s: weight '%s': bad dimension in \"shape\"", c->path, what);
        dims[i] = json_integer_value(d);
        if (dims[i] && n > ((size_t)1 << 34) / (size_t)dims[i])
            return cv_fail(c, "%s: weight '%s' is too large", c->path, what);
        n *= (size_t)dims[i];
    }
    *count = n;
    return 0;
}

/* Decode one weight from `p` (at most `avail` bytes); *used = bytes consumed. */
static int decode_weight(cv_ctx *c, json_t *spec, const uint8_t *p, size_t avail, size_t *used, cv_weight *w) {
    const char *name = json_string_value(json_object_get(spec, "name"));
    const char *dtype = json_string_value(json_object_get(spec, "dtype"));
    if (!name || !dtype) return cv_fail(c, "%s: weights manifest entry without \"name\" or \"dtype\"", c->path);
    w->name = strdup(name);
    if (!w->name) return cv_fail(c, "out of memory");
    if (parse_shape(c, json_object_get(spec, "shape"), name, &w->rank, w->dims, &w->count)) return -1;
    w->dtype = cv_dtype_from_name(dtype);
    json_t *q = json_object_get(spec, "quantization");
    const char *qtype = q ? json_string_value(json_object_get(q, "dtype")) : NULL;
    if (q && !qtype) return cv_fail(c, "%s: weight '%s': quantization without \"dtype\"", c->path, name);

    if (w->dtype == FR_DT_STRING) {
        /* Strings: per element a uint32 byte length, then the bytes.  Skipped
         * (a frozen graph of frost never needs them); an error if used. */
        size_t off = 0;
        for (size_t i = 0; i < w->count; i++) {
            if (avail - off < 4) return cv_fail(c, "%s: weight data ends inside '%s'", c->path, name);
            uint32_t len = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
                           (uint32_t)p[off + 3] << 24;
            off += 4;
            if (avail - off < len) return cv_fail(c, "%s: weight data ends inside '%s'", c->path, name);
            off += len;
        }
        *used = off;
        return 0;
    }
    if (w->dtype != FR_DT_FLOAT && w->dtype != FR_DT_INT32 && w->dtype != FR_DT_BOOL)
        return cv_fail(c, "%s: weight '%s' has unsupported dtype '%s' (float32, int32, bool are supported)",
                       c->path, name, dtype);

    size_t esize = w->dtype == FR_DT_BOOL ? 1 : 4;
    int qkind = -1; /* 0 uint8, 1 uint16, 2 float16 */
    if (qtype) {
        if (!strcmp(qtype, "uint8")) qkind = 0, esize = 1;
        else if (!strcmp(qtype, "uint16")) qkind = 1, esize = 2;
        else if (!strcmp(qtype, "float16")) qkind = 2, esize = 2;
        else
            return cv_fail(c, "%s: weight '%s': unsupported quantization dtype '%s' (uint8, uint16, float16 are supported)",
                           c->path, name, qtype);
        if (w->dtype == FR_DT_BOOL || (qkind == 2 && w->dtype != FR_DT_FLOAT))
            return cv_fail(c, "%s: weight '%s': %s quantization of a %s tensor is not supported", c->path, name,
                           qtype, dtype);
        w->quantization = qkind == 0 ? "uint8" : qkind == 1 ? "uint16" : "float16";
        c->n_quantized[qkind]++;
    }
    size_t need = w->count * esize;
    if (need > avail)
        return cv_fail(c, "%s: weight data ends inside '%s' (needs %zu bytes, %zu left)", c->path, name, need, avail);
    *used = need;
    w->nbytes = w->count * (w->dtype == FR_DT_BOOL ? 1 : 4);
    w->data = malloc(w->nbytes ? w->nbytes : 1);
    if (!w->data) return cv_fail(c, "out of memory");

    if (qkind < 0) {
        if (need) memcpy(w->data, p, need); /* little-endian on disk, as on the hosts frost supports */
        return 0;
    }
    if (qkind == 2) {
        float *f = w->data;
        for (size_t i = 0; i < w->count; i++) f[i] = cv_half_to_float((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return 0;
    }
    json_t *jmin = json_object_get(q, "min"), *jscale = json_object_get(q, "scale");
    if (!json_is_number(jmin) || !json_is_number(jscale))
        return cv_fail(c, "%s: weight '%s': %s quantization needs numeric \"min\" and \"scale\"", c->path, name, qtype);
    double min = json_number_value(jmin), scale = json_number_value(jscale);
    for (size_t i = 0; i < w->count; i++) {
        unsigned qv = qkind == 0 ? p[i] : (unsigned)(p[2 * i] | p[2 * i + 1] << 8);
        double v = qv * scale + min;
        if (w->dtype == FR_DT_FLOAT) ((float *)w->data)[i] = (float)v;
        else ((int32_t *)w->data)[i] = (int32_t)floor(v + 0.5); /* Math.round */
    }
    return 0;
}

static int join_path(cv_ctx *c, const char *dir, const char *rel, char *out, size_t size) {
    if (strstr(rel, "://")) return cv_fail(c, "%s: weight path '%s' is a URL; download the shards first", c->path, rel);
    int n = rel[0] == '/' || !dir[0] ? snprintf(out, size, "%s", rel) : snprintf(out, size, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= size) return cv_fail(c, "%s: weight path too long", c->path);
    return 0;
}

int cv_weights_load(cv_ctx *c, json_t *manifest, const char *dir) {
    if (!json_is_array(manifest)) return cv_fail(c, "%s: \"weightsManifest\" is missing or not an array", c->path);
    size_t total = 0;
    for (size_t gi = 0; gi < json_array_size(manifest); gi++)
        total += json_array_size(json_object_get(json_array_get(manifest, gi), "weights"));
    c->weights.w = calloc(total ? total : 1, sizeof(cv_weight));
    if (!c->weights.w) return cv_fail(c, "out of memory");

    for (size_t gi = 0; gi < json_array_size(manifest); gi++) {
        json_t *group = json_array_get(manifest, gi);
        json_t *paths = json_object_get(group, "paths"), *weights = json_object_get(group, "weights");
        if (!json_is_array(paths) || !json_is_array(weights))
            return cv_fail(c, "%s: weights manifest group %zu needs \"paths\" and \"weights\" arrays", c->path, gi);
        /* Concatenate the group's shards. */
        uint8_t *buf = NULL;
        size_t len = 0;
        for (size_t pi = 0; pi < json_array_size(paths); pi++) {
            const char *rel = json_string_value(json_array_get(paths, pi));
            char path[4096];
            uint8_t *data = NULL;
            size_t size = 0;
            if (!rel) {
                free(buf);
                return cv_fail(c, "%s: weights manifest group %zu: a path is not a string", c->path, gi);
            }
            if (join_path(c, dir, rel, path, sizeof path) || read_file(c, path, &data, &size)) {
                free(buf);
                return -1;
            }
            uint8_t *nb = realloc(buf, len + size + 1);
            if (!nb) {
                free(buf);
                free(data);
                return cv_fail(c, "out of memory");
            }
            buf = nb;
            memcpy(buf + len, data, size);
            len += size;
            free(data);
        }
        size_t off = 0;
        for (size_t wi = 0; wi < json_array_size(weights); wi++) {
            size_t used = 0;
            cv_weight *w = &c->weights.w[c->weights.n++];
            if (decode_weight(c, json_array_get(weights, wi), buf ? buf + off : NULL, len - off, &used, w)) {
                free(buf);
                return -1;
            }
            off += used;
        }
        free(buf);
        if (off != len)
            return cv_fail(c, "%s: weights manifest group %zu describes %zu bytes but its shards hold %zu", c->path,
                           gi, off, len);
    }
    return 0;
}

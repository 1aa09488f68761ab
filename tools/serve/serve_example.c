/* frost serve: the "examples" of TF Serving's :classify and :regress bodies,
 * each written as a serialized tf.Example protocol buffer (the input of the
 * signature's ParseExample op), with TF Serving's JSON rules
 * (json_tensor.cc's MakeExampleFromJsonObject):
 *
 *   {"examples": [{"x": 2.0, "tags": ["a", "b"], "n": 3, "img": {"b64": "..."}}],
 *    "context": {"common": 1.5}}
 *
 *   a number with a fraction or exponent  -> float_list
 *   an integer, true / false              -> int64_list
 *   a string, {"b64": ...}                -> bytes_list
 *   a list of those (all of one kind)     -> that list; [] -> a feature with no kind
 *
 * Example { Features features = 1 }; Features { map<string, Feature> feature = 1 };
 * Feature { oneof { BytesList bytes_list = 1; FloatList float_list = 2;
 * Int64List int64_list = 3 } }; each list { repeated value = 1 } (numbers packed).
 * The context's features come first in each example's bytes: protobuf merges
 * the two messages when the graph parses them, the example's own features
 * winning, as TF Serving merges ExampleListWithContext. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb/pbwriter.h"
#include "serve.h"

enum { K_NONE, K_BYTES = 1, K_FLOAT = 2, K_INT64 = 3 };

static const char *kind_name(int k) {
    return k == K_BYTES ? "bytes" : k == K_FLOAT ? "float" : k == K_INT64 ? "int64" : "UNKNOWN";
}

static const char *json_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "OBJECT";
    case JSON_ARRAY: return "ARRAY";
    case JSON_STRING: return "STRING";
    case JSON_INTEGER:
    case JSON_REAL: return "NUMBER";
    case JSON_TRUE:
    case JSON_FALSE: return "BOOL";
    default: return "NULL";
    }
}

#define EFAIL(code, ...)                    \
    do {                                    \
        *http_code = (code);                \
        snprintf(err, errlen, __VA_ARGS__); \
        return -1;                          \
    } while (0)

/* The kind of one element, -1 (with err) for what a feature cannot hold. */
static int elem_kind(const char *name, const json_t *v, char *err, size_t errlen, int *http_code) {
    double d;
    if ((json_is_real(v) || json_is_string(v)) && sv_json_float(v, &d)) { /* a string: NaN or +-Infinity */
        if (isfinite(d) && fabs(d) > 3.4028234663852886e38)
            EFAIL(400, "Feature: %.200s has a value %g that does not fit a float", name, d);
        return K_FLOAT;
    }
    if (json_is_integer(v) || json_is_boolean(v)) return K_INT64;
    if (json_is_string(v)) return K_BYTES;
    if (json_is_object(v) && json_object_size(v) == 1 && json_is_string(json_object_get(v, "b64"))) return K_BYTES;
    EFAIL(400, "Feature: %.200s has element with unexpected JSON type: %s", name, json_type_name(v));
}

/* One Feature message for the JSON value v into out. */
static int feature_bytes(const char *name, const json_t *v, fr_pbw *out, char *err, size_t errlen, int *http_code) {
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    int kind = K_NONE;
    for (size_t k = 0; k < n; k++) {
        const json_t *e = json_is_array(v) ? json_array_get(v, k) : v;
        int ek = elem_kind(name, e, err, errlen, http_code);
        if (ek < 0) return -1;
        if (kind != K_NONE && ek != kind)
            EFAIL(400, "Unexpected element type in feature: %.200s expecting type: %s", name, kind_name(kind));
        kind = ek;
    }
    if (kind == K_NONE) return 0; /* an empty list: a Feature with no kind */
    fr_pbw list, packed;
    fr_pbw_init(&list);
    fr_pbw_init(&packed);
    for (size_t k = 0; k < n; k++) {
        const json_t *e = json_is_array(v) ? json_array_get(v, k) : v;
        if (kind == K_FLOAT) {
            double d = 0;
            sv_json_float(e, &d);
            float f = (float)d;
            fr_pbw_raw(&packed, &f, 4); /* little-endian, as the x86 and ARM hosts frost builds on */
        } else if (kind == K_INT64)
            fr_pbw_varint(&packed, (uint64_t)(json_is_boolean(e) ? json_is_true(e) : json_integer_value(e)));
        else if (json_is_string(e))
            fr_pbw_bytes(&list, 1, json_string_value(e), json_string_length(e));
        else {
            const json_t *s = json_object_get(e, "b64");
            size_t bn = 0;
            uint8_t *bytes = sv_base64_decode(json_string_value(s), json_string_length(s), &bn);
            if (!bytes) {
                fr_pbw_free(&list);
                fr_pbw_free(&packed);
                EFAIL(400, "Feature: %.200s: \"b64\" is not valid base64", name);
            }
            fr_pbw_bytes(&list, 1, bytes, bn);
            free(bytes);
        }
    }
    if (kind != K_BYTES) fr_pbw_msg(&list, 1, &packed); /* packed numbers: one length-delimited field */
    fr_pbw_msg(out, kind, &list);
    out->failed |= list.failed | packed.failed;
    fr_pbw_free(&list);
    fr_pbw_free(&packed);
    return 0;
}

/* An Example from a JSON object of features (its serialized bytes appended to out). */
static int example_bytes(const json_t *obj, fr_pbw *out, char *err, size_t errlen, int *http_code) {
    if (!json_is_object(obj)) EFAIL(400, "Example must be JSON object but got JSON %s", json_type_name(obj));
    fr_pbw features, feature, entry;
    fr_pbw_init(&features);
    fr_pbw_init(&feature);
    fr_pbw_init(&entry);
    const char *key;
    json_t *val;
    int rc = 0;
    json_object_foreach((json_t *)obj, key, val) {
        fr_pbw_reset(&feature);
        fr_pbw_reset(&entry);
        if ((rc = feature_bytes(key, val, &feature, err, errlen, http_code))) break;
        fr_pbw_str(&entry, 1, key);
        fr_pbw_msg(&entry, 2, &feature);
        fr_pbw_msg(&features, 1, &entry);
        features.failed |= feature.failed | entry.failed;
    }
    if (!rc && json_object_size(obj)) fr_pbw_msg(out, 1, &features);
    out->failed |= features.failed;
    fr_pbw_free(&features);
    fr_pbw_free(&feature);
    fr_pbw_free(&entry);
    return rc;
}

void sv_examples_free(sv_examples *ex) {
    for (int k = 0; k < ex->count && ex->data; k++) free(ex->data[k]);
    free(ex->data);
    free(ex->size);
    memset(ex, 0, sizeof *ex);
}

int sv_examples_from_json(json_t *root, const sv_limits *lim, sv_examples *out, char *err, size_t errlen,
                          int *http_code) {
    memset(out, 0, sizeof *out);
    const json_t *list = json_object_get(root, "examples");
    if (!list) EFAIL(400, "When method is classify, key 'examples' is expected and was not found");
    if (!json_is_array(list)) EFAIL(400, "Expecting 'examples' value to be an list/array");
    size_t n = json_array_size(list);
    if (n == 0) EFAIL(400, "'examples' value is an empty array");
    if (sv_check_count(lim, n, "examples", err, errlen, http_code)) return -1;
    fr_pbw context, b;
    fr_pbw_init(&context);
    fr_pbw_init(&b);
    const json_t *ctx = json_object_get(root, "context");
    int rc = ctx ? example_bytes(ctx, &context, err, errlen, http_code) : 0;
    out->data = calloc(n, sizeof *out->data);
    out->size = calloc(n, sizeof *out->size);
    if (!rc && (!out->data || !out->size)) rc = -1, b.failed = 1;
    for (size_t k = 0; !rc && k < n; k++) {
        fr_pbw_reset(&b);
        fr_pbw_raw(&b, context.data, context.len);
        if ((rc = example_bytes(json_array_get(list, k), &b, err, errlen, http_code))) break;
        out->data[k] = malloc(b.len ? b.len : 1);
        out->count = (int)k + 1;
        if (!out->data[k] || b.failed || context.failed) {
            rc = -1;
            b.failed = 1;
            break;
        }
        if (b.len) memcpy(out->data[k], b.data, b.len);
        out->size[k] = b.len;
    }
    int oom = b.failed || context.failed;
    fr_pbw_free(&context);
    fr_pbw_free(&b);
    if (rc) {
        sv_examples_free(out);
        if (oom) EFAIL(503, "out of memory");
        return -1;
    }
    return 0;
}

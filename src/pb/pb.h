/* Minimal bounds-checked protobuf wire-format reader and the GraphDef pieces
 * frost needs (field numbers as in TensorFlow's graph.proto, node_def.proto,
 * attr_value.proto, tensor.proto, tensor_shape.proto).  Nothing here allocates; every read is checked against
 * the end of its buffer. */
#ifndef FR_PB_H
#define FR_PB_H

#include <stddef.h>
#include <stdint.h>

#include "frost.h"

enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2, PB_FIXED32 = 5 };

typedef struct pb_reader {
    const uint8_t *p, *end;
} pb_reader;

typedef struct pb_field {
    uint32_t number;
    int wire;
    uint64_t u;         /* PB_VARINT / PB_FIXED64 / PB_FIXED32 value */
    const uint8_t *ptr; /* PB_LEN payload */
    size_t len;
} pb_field;

static inline pb_reader pb_make(const void *data, size_t len) {
    pb_reader r = {(const uint8_t *)data, (const uint8_t *)data + len};
    return r;
}
static inline int pb_more(const pb_reader *r) { return r->p < r->end; }

/* 0 ok, -1 malformed / truncated. */
int pb_read_varint(pb_reader *r, uint64_t *out);
/* Reads the next field (any wire type; groups are rejected). 0 ok, -1 malformed. */
int pb_next(pb_reader *r, pb_field *f);

/* TensorFlow DataType values used here. */
enum {
    FR_DT_INVALID = 0,
    FR_DT_FLOAT = 1,
    FR_DT_DOUBLE = 2,
    FR_DT_INT32 = 3,
    FR_DT_UINT8 = 4,
    FR_DT_INT16 = 5,
    FR_DT_INT8 = 6,
    FR_DT_STRING = 7,
    FR_DT_INT64 = 9,
    FR_DT_BOOL = 10,
    FR_DT_UINT16 = 17,
    FR_DT_HALF = 19
};
const char *fr_dtype_name(int dtype);

/* A decoded TensorShapeProto. */
typedef struct fr_pb_shape {
    int rank; /* -1: unknown rank */
    int64_t dims[FROST_MAX_RANK];
} fr_pb_shape;

int fr_pb_parse_shape(const uint8_t *p, size_t len, fr_pb_shape *out, const char **why);

/* A decoded TensorProto: where its values are. */
typedef struct fr_pb_tensor {
    int dtype;
    fr_pb_shape shape;
    int64_t count;           /* elements */
    const uint8_t *content;  /* tensor_content or NULL */
    size_t content_len;
    const uint8_t *vals;     /* the packed/unpacked *_val payload region (last field seen) */
    int vals_field;          /* which field holds the values (5, 6, 7, 10, 11, 13) or 0 */
    int64_t n_vals;          /* number of *_val entries */
    /* the whole TensorProto, for re-scanning unpacked repeated values */
    const uint8_t *raw;
    size_t raw_len;
} fr_pb_tensor;

/* Parses and validates (dtype supported, shape known, content size or value
 * count consistent).  0 ok; -1 with *why set to a static reason; -2 (also
 * with *why) when the shape holds more than FR_PB_MAX_ELEMENTS elements. */
#define FR_PB_MAX_ELEMENTS ((int64_t)1 << 28)
int fr_pb_parse_tensor(const uint8_t *p, size_t len, fr_pb_tensor *out, const char **why);

/* Converts the tensor's values to float (ints exactly up to 2^24, half,
 * double, bool as 0/1), applying splat semantics.  dst has t->count floats. */
void fr_pb_tensor_to_float(const fr_pb_tensor *t, float *dst);

/* Field iteration over AttrValue payloads. */
typedef enum fr_attr_kind {
    FR_ATTR_NONE = 0,
    FR_ATTR_LIST,
    FR_ATTR_S,
    FR_ATTR_I,
    FR_ATTR_F,
    FR_ATTR_B,
    FR_ATTR_TYPE,
    FR_ATTR_SHAPE,
    FR_ATTR_TENSOR,
    FR_ATTR_OTHER
} fr_attr_kind;

/* A decoded AttrValue (the last oneof member present wins). */
typedef struct fr_pb_attr {
    fr_attr_kind kind;
    int64_t i;
    float f;
    const uint8_t *ptr; /* s / shape / tensor / list payload */
    size_t len;
} fr_pb_attr;

int fr_pb_parse_attr(const uint8_t *p, size_t len, fr_pb_attr *out, const char **why);

/* ListValue: count and read the ints (field 3, packed or not) / floats (4) /
 * strings (2).  Returns the number of entries (<= max stored), -1 if malformed. */
int fr_pb_list_ints(const uint8_t *p, size_t len, int64_t *out, int max);
int fr_pb_list_floats(const uint8_t *p, size_t len, float *out, int max);

/* FNV-1a of the n bytes of a name: the hash of the open-addressing tables of
 * node and tensor names (the imported graph, the GraphDef writer, freezing). */
static inline uint64_t fr_name_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

#endif

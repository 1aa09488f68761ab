/* A small protobuf writer (wire format only) and a TensorFlow GraphDef
 * builder on top of it, for `frost convert`.
 *
 * pbw: a growable byte buffer with protobuf field encoders.  Allocation
 * failures are sticky: every call after one is a no-op and pbw.failed stays 1,
 * so callers check once at the end.
 *
 * gdw: appends NodeDefs to a GraphDef.  A node is built with gdw_node(), its
 * inputs and attributes added, then gdw_end() appends it.  Field numbers are
 * those of tensorflow/core/framework/{graph,node_def,attr_value,tensor,
 * tensor_shape,types}.proto. */
#ifndef FROST_PBWRITER_H
#define FROST_PBWRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct pbw {
    uint8_t *data;
    size_t len, cap;
    int failed;
} pbw;

void pbw_init(pbw *w);
void pbw_free(pbw *w);
void pbw_reset(pbw *w); /* len = 0, keeps the memory */
void pbw_raw(pbw *w, const void *p, size_t n);
void pbw_varint(pbw *w, uint64_t v);
void pbw_tag(pbw *w, int field, int wire_type);
/* Scalar fields.  pbw_int writes int32/int64/enum/bool values as varints
 * (negative values take ten bytes, as protobuf does). */
void pbw_int(pbw *w, int field, int64_t v);
void pbw_float(pbw *w, int field, float v);
void pbw_double(pbw *w, int field, double v);
void pbw_bytes(pbw *w, int field, const void *p, size_t n);
void pbw_str(pbw *w, int field, const char *s);
/* An embedded message: `sub`'s bytes, length-delimited. */
void pbw_msg(pbw *w, int field, const pbw *sub);
/* Packed repeated fields. */
void pbw_packed_int(pbw *w, int field, const int64_t *v, size_t n);
void pbw_packed_float(pbw *w, int field, const float *v, size_t n);

/* TensorFlow DataType values. */
enum {
    TF_FLOAT = 1,
    TF_DOUBLE = 2,
    TF_INT32 = 3,
    TF_UINT8 = 4,
    TF_INT16 = 5,
    TF_INT8 = 6,
    TF_STRING = 7,
    TF_INT64 = 9,
    TF_BOOL = 10,
    TF_UINT16 = 17,
    TF_HALF = 19,
};

/* Encoders of TensorShapeProto and TensorProto messages into `w` (the message
 * body, to be wrapped with pbw_msg). */
void pbw_shape(pbw *w, const int64_t *dims, int rank);
/* TensorProto with tensor_content = `bytes` (raw little-endian). */
void pbw_tensor(pbw *w, int dtype, const int64_t *dims, int rank, const void *bytes, size_t nbytes);

typedef struct gdw_node gdw_node;

typedef struct gdw {
    pbw out;           /* the GraphDef so far */
    gdw_node *node;    /* the node being built, NULL between nodes */
    int nodes;         /* nodes appended */
    char **names;      /* names of the nodes appended, for uniqueness */
    size_t names_cap;
} gdw;

void gdw_init(gdw *g);
void gdw_free(gdw *g);
/* 1 if a node of that name was appended. */
int gdw_has(const gdw *g, const char *name);

/* Start a node (the previous one must have been ended). */
void gdw_node_begin(gdw *g, const char *name, const char *op);
void gdw_input(gdw *g, const char *input);
void gdw_device(gdw *g, const char *device);
void gdw_attr_type(gdw *g, const char *key, int dtype);
void gdw_attr_int(gdw *g, const char *key, int64_t v);
void gdw_attr_float(gdw *g, const char *key, float v);
void gdw_attr_bool(gdw *g, const char *key, int v);
void gdw_attr_str(gdw *g, const char *key, const char *s);
void gdw_attr_ints(gdw *g, const char *key, const int64_t *v, size_t n);
void gdw_attr_shape(gdw *g, const char *key, const int64_t *dims, int rank);
void gdw_attr_tensor(gdw *g, const char *key, int dtype, const int64_t *dims, int rank, const void *bytes,
                     size_t nbytes);
/* An attribute whose AttrValue message is already encoded. */
void gdw_attr_raw(gdw *g, const char *key, const pbw *attr_value);
/* Append the node.  Returns 0, or -1 when the name is already used, or
 * memory ran out (the node is dropped in both cases). */
int gdw_node_end(gdw *g);

/* Convenience: a Const node holding a float32 / int32 tensor. */
int gdw_const_f32(gdw *g, const char *name, const int64_t *dims, int rank, const float *data);
int gdw_const_i32(gdw *g, const char *name, const int64_t *dims, int rank, const int32_t *data);

/* Append GraphDef.versions {producer} and return the finished GraphDef
 * bytes in g->out. */
void gdw_finish(gdw *g, int producer);

#endif

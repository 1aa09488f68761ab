/* The protobuf writer (wire format only) and a TensorFlow GraphDef builder on
 * top of it: `frost convert` writes its graphs with it, the tests and fuzzers
 * build their graphs (well-formed and malformed) with it.
 *
 * fr_pbw: a growable byte buffer with protobuf field encoders.  Allocation
 * failures are sticky: every call after one is a no-op and `failed` stays 1,
 * so callers check once at the end.
 *
 * fr_gdw: appends NodeDefs to a GraphDef.  A node is started with
 * fr_gdw_node_begin() (or fr_gdw_node(), which also adds its inputs), its
 * inputs and attributes added, then fr_gdw_node_end() appends it; starting
 * the next node or finishing the graph ends an open node too.
 *
 *   fr_gdw *w = fr_gdw_new();
 *   fr_gdw_placeholder(w, "x", 4, (int64_t[]){-1, 5, 5, 1});
 *   fr_gdw_const_f(w, "k", 4, dims, values);
 *   fr_gdw_node(w, "y", "Conv2D", (const char *[]){"x", "k", NULL});
 *   fr_gdw_attr_str(w, "padding", "SAME");
 *   fr_gdw_attr_ints(w, "strides", 4, (int64_t[]){1, 2, 2, 1});
 *   size_t n; const uint8_t *bytes = fr_gdw_finish(w, &n);  // owned by w
 *   fr_gdw_free(w);
 *
 * Field numbers are those of tensorflow/core/framework/{graph,node_def,
 * attr_value,tensor,tensor_shape,types}.proto; data types are FR_DT_* (pb.h). */
#ifndef FR_PBWRITER_H
#define FR_PBWRITER_H

#include <stddef.h>
#include <stdint.h>

#include "pb/pb.h"

typedef struct fr_pbw {
    uint8_t *data;
    size_t len, cap;
    int failed;
} fr_pbw;

void fr_pbw_init(fr_pbw *w);
void fr_pbw_free(fr_pbw *w);
void fr_pbw_reset(fr_pbw *w); /* len = 0, keeps the memory */
void fr_pbw_raw(fr_pbw *w, const void *p, size_t n);
void fr_pbw_varint(fr_pbw *w, uint64_t v);
void fr_pbw_tag(fr_pbw *w, int field, int wire_type);
/* Scalar fields.  fr_pbw_int writes int32/int64/enum/bool values as varints
 * (negative values take ten bytes, as protobuf does). */
void fr_pbw_int(fr_pbw *w, int field, int64_t v);
void fr_pbw_float(fr_pbw *w, int field, float v);
void fr_pbw_double(fr_pbw *w, int field, double v);
void fr_pbw_bytes(fr_pbw *w, int field, const void *p, size_t n);
void fr_pbw_str(fr_pbw *w, int field, const char *s);
/* An embedded message: `sub`'s bytes, length-delimited. */
void fr_pbw_msg(fr_pbw *w, int field, const fr_pbw *sub);
/* Packed repeated fields of `n` values. */
void fr_pbw_packed_int(fr_pbw *w, int field, size_t n, const int64_t *v);
void fr_pbw_packed_float(fr_pbw *w, int field, size_t n, const float *v);

/* Encoders of TensorShapeProto and TensorProto message bodies (to be wrapped
 * with fr_pbw_msg).  rank -1: unknown rank. */
void fr_pbw_shape(fr_pbw *w, int rank, const int64_t *dims);
/* TensorProto of `nbytes` raw little-endian values, as TensorFlow's
 * make_tensor_proto writes it: one float32 / int32 / bool value in the typed
 * value field, anything else as tensor_content. */
void fr_pbw_tensor(fr_pbw *w, int dtype, int rank, const int64_t *dims, const void *bytes, size_t nbytes);

typedef struct fr_gdw_pending fr_gdw_pending;

typedef struct fr_gdw {
    fr_pbw out;           /* the GraphDef so far */
    fr_gdw_pending *node; /* the node being built, NULL between nodes */
    int nodes;            /* nodes appended */
    char **names;         /* names of the nodes appended, for uniqueness */
    size_t names_cap;
    int allow_duplicates; /* 1: fr_gdw_node_end appends a node whose name is taken (malformed graphs) */
} fr_gdw;

/* NULL when out of memory; fr_gdw_free(NULL) is a no-op. */
fr_gdw *fr_gdw_new(void);
void fr_gdw_free(fr_gdw *g);
/* 1 if a node of that name was appended. */
int fr_gdw_has(const fr_gdw *g, const char *name);

/* Start a node (an open node is ended first). */
void fr_gdw_node_begin(fr_gdw *g, const char *name, const char *op);
void fr_gdw_input(fr_gdw *g, const char *input);
void fr_gdw_device(fr_gdw *g, const char *device);
/* Attributes of the open node. */
void fr_gdw_attr_type(fr_gdw *g, const char *key, int dtype);
void fr_gdw_attr_int(fr_gdw *g, const char *key, int64_t v);
void fr_gdw_attr_float(fr_gdw *g, const char *key, float v);
void fr_gdw_attr_bool(fr_gdw *g, const char *key, int v);
void fr_gdw_attr_str(fr_gdw *g, const char *key, const char *s);
void fr_gdw_attr_ints(fr_gdw *g, const char *key, size_t n, const int64_t *v);
void fr_gdw_attr_shape(fr_gdw *g, const char *key, int rank, const int64_t *dims);
/* A tensor of raw values, encoded by fr_pbw_tensor. */
void fr_gdw_attr_tensor(fr_gdw *g, const char *key, int dtype, int rank, const int64_t *dims, const void *bytes,
                        size_t nbytes);
/* An attribute whose AttrValue message is already encoded. */
void fr_gdw_attr_raw(fr_gdw *g, const char *key, const void *attr_value, size_t len);
/* Append the open node.  Returns 0, or -1 when there is none, memory ran out,
 * or (unless allow_duplicates) the name is already used; the node is dropped
 * then. */
int fr_gdw_node_end(fr_gdw *g);

/* Append GraphDef.versions {producer}. */
void fr_gdw_versions(fr_gdw *g, int producer);
/* Ends an open node and returns the GraphDef bytes (owned by g, valid until
 * the next call on it), or NULL when memory ran out. */
const uint8_t *fr_gdw_finish(fr_gdw *g, size_t *len);

/* ---- conveniences built on the calls above ---- */

/* Starts a node with inputs from a NULL-terminated list (may be NULL). */
void fr_gdw_node(fr_gdw *g, const char *name, const char *op, const char *const *inputs);
/* A float Placeholder of that shape (left open: more attributes may follow). */
void fr_gdw_placeholder(fr_gdw *g, const char *name, int rank, const int64_t *dims);
/* A Const node holding a float32 / int32 tensor (fr_pbw_tensor), appended. */
int fr_gdw_const_f(fr_gdw *g, const char *name, int rank, const int64_t *dims, const float *v);
int fr_gdw_const_i32(fr_gdw *g, const char *name, int rank, const int64_t *dims, const int32_t *v);
/* A float tensor attribute of `n` values written as float_val (n smaller than
 * the element count: a splat), or as tensor_content when `content` is
 * non-zero; any count may be given, to make malformed tensors. */
void fr_gdw_attr_tensor_f(fr_gdw *g, const char *key, int rank, const int64_t *dims, int n, const float *v,
                          int content);
/* An integer tensor attribute (FR_DT_INT32 / FR_DT_INT64) of `n` values written as int_val / int64_val. */
void fr_gdw_attr_tensor_i(fr_gdw *g, const char *key, int dtype, int rank, const int64_t *dims, int n,
                          const int64_t *v);

#endif

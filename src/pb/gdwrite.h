/* A small GraphDef writer: builds binary GraphDefs programmatically (used by
 * the tests to make graphs for every op, and for malformed-input tests).
 *
 *   fr_gdw *w = fr_gdw_new();
 *   fr_gdw_placeholder(w, "x", 4, (int64_t[]){-1, 5, 5, 1});
 *   fr_gdw_const_f(w, "k", 4, dims, values);
 *   fr_gdw_node(w, "y", "Conv2D", (const char *[]){"x", "k", NULL});
 *   fr_gdw_attr_str(w, "padding", "SAME");
 *   fr_gdw_attr_ints(w, "strides", 4, (int64_t[]){1, 2, 2, 1});
 *   size_t n; const uint8_t *bytes = fr_gdw_finish(w, &n);  // owned by w
 *   ...
 *   fr_gdw_free(w);
 *
 * Attribute calls apply to the node started last.  Allocation failures make
 * fr_gdw_finish() return NULL. */
#ifndef FR_GDWRITE_H
#define FR_GDWRITE_H

#include <stddef.h>
#include <stdint.h>

typedef struct fr_gdw fr_gdw;

fr_gdw *fr_gdw_new(void);
void fr_gdw_free(fr_gdw *w);

/* Starts a node; `inputs` is NULL-terminated (may be NULL). */
void fr_gdw_node(fr_gdw *w, const char *name, const char *op, const char *const *inputs);

void fr_gdw_attr_int(fr_gdw *w, const char *key, int64_t v);
void fr_gdw_attr_float(fr_gdw *w, const char *key, float v);
void fr_gdw_attr_bool(fr_gdw *w, const char *key, int v);
void fr_gdw_attr_type(fr_gdw *w, const char *key, int dtype);
void fr_gdw_attr_str(fr_gdw *w, const char *key, const char *v);
void fr_gdw_attr_ints(fr_gdw *w, const char *key, int n, const int64_t *v);
/* rank -1: unknown rank. */
void fr_gdw_attr_shape(fr_gdw *w, const char *key, int rank, const int64_t *dims);
/* A float tensor: `n` values (n < count: splat) written as float_val, or as
 * tensor_content when `content` is non-zero (then n must equal the count). */
void fr_gdw_attr_tensor_f(fr_gdw *w, const char *key, int rank, const int64_t *dims, int n, const float *v,
                          int content);
/* An integer tensor of dtype (DT_INT32 = 3 / DT_INT64 = 9) written as int_val / int64_val. */
void fr_gdw_attr_tensor_i(fr_gdw *w, const char *key, int dtype, int rank, const int64_t *dims, int n,
                          const int64_t *v);
/* Raw AttrValue bytes. */
void fr_gdw_attr_raw(fr_gdw *w, const char *key, const void *bytes, size_t len);

/* Conveniences: a float Placeholder, a float Const (tensor_content), an int32 Const. */
void fr_gdw_placeholder(fr_gdw *w, const char *name, int rank, const int64_t *dims);
void fr_gdw_const_f(fr_gdw *w, const char *name, int rank, const int64_t *dims, const float *v);
void fr_gdw_const_i32(fr_gdw *w, const char *name, int rank, const int64_t *dims, const int64_t *v);

/* The GraphDef bytes (valid until the next call on w); NULL on failure. */
const uint8_t *fr_gdw_finish(fr_gdw *w, size_t *len);

#endif

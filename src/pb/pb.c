#include "pb/pb.h"

#include <string.h>

int pb_read_varint(pb_reader *r, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) return -1;
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

int pb_next(pb_reader *r, pb_field *f) {
    uint64_t key;
    if (pb_read_varint(r, &key) != 0) return -1;
    f->number = (uint32_t)(key >> 3);
    f->wire = (int)(key & 7);
    if (f->number == 0 || (key >> 3) > 0x1fffffff) return -1;
    f->ptr = NULL;
    f->len = 0;
    f->u = 0;
    switch (f->wire) {
    case PB_VARINT: return pb_read_varint(r, &f->u);
    case PB_FIXED64:
        if (r->end - r->p < 8) return -1;
        for (int i = 7; i >= 0; i--) f->u = (f->u << 8) | r->p[i];
        r->p += 8;
        return 0;
    case PB_FIXED32:
        if (r->end - r->p < 4) return -1;
        for (int i = 3; i >= 0; i--) f->u = (f->u << 8) | r->p[i];
        r->p += 4;
        return 0;
    case PB_LEN: {
        uint64_t n;
        if (pb_read_varint(r, &n) != 0) return -1;
        if (n > (uint64_t)(r->end - r->p)) return -1;
        f->ptr = r->p;
        f->len = (size_t)n;
        r->p += n;
        return 0;
    }
    default: return -1; /* groups (3, 4) and invalid wire types */
    }
}

const char *fr_dtype_name(int dtype) {
    switch (dtype) {
    case FR_DT_FLOAT: return "float32";
    case FR_DT_DOUBLE: return "float64";
    case FR_DT_INT32: return "int32";
    case FR_DT_UINT8: return "uint8";
    case FR_DT_INT16: return "int16";
    case FR_DT_INT8: return "int8";
    case FR_DT_STRING: return "string";
    case FR_DT_INT64: return "int64";
    case FR_DT_BOOL: return "bool";
    case FR_DT_HALF: return "float16";
    default: return "unknown";
    }
}

static int elem_size(int dtype) {
    switch (dtype) {
    case FR_DT_FLOAT: case FR_DT_INT32: return 4;
    case FR_DT_DOUBLE: case FR_DT_INT64: return 8;
    case FR_DT_UINT8: case FR_DT_INT8: case FR_DT_BOOL: return 1;
    case FR_DT_INT16: case FR_DT_HALF: return 2;
    case FR_DT_STRING: return 0;
    default: return -1;
    }
}

int fr_pb_parse_shape(const uint8_t *p, size_t len, fr_pb_shape *out, const char **why) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    out->rank = 0;
    int unknown = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f) != 0) return *why = "malformed TensorShapeProto", -1;
        if (f.number == 2 && f.wire == PB_LEN) {
            if (out->rank >= FROST_MAX_RANK) return *why = "shape rank exceeds 8", -1;
            int64_t size = 0;
            pb_reader d = pb_make(f.ptr, f.len);
            pb_field g;
            while (pb_more(&d)) {
                if (pb_next(&d, &g) != 0) return *why = "malformed TensorShapeProto.Dim", -1;
                if (g.number == 1 && g.wire == PB_VARINT) size = (int64_t)g.u;
            }
            if (size < -1) return *why = "negative dimension in shape", -1;
            out->dims[out->rank++] = size;
        } else if (f.number == 3 && f.wire == PB_VARINT) {
            unknown = f.u != 0;
        }
    }
    if (unknown) out->rank = -1;
    return 0;
}

/* Number of entries in a repeated numeric field occurrence. */
static int64_t count_entries(const pb_field *f, int fixed_size) {
    if (f->wire != PB_LEN) return 1; /* one unpacked entry */
    if (fixed_size) return (f->len % (size_t)fixed_size) ? -1 : (int64_t)(f->len / (size_t)fixed_size);
    int64_t n = 0;
    for (size_t i = 0; i < f->len; i++)
        if (!(f->ptr[i] & 0x80)) n++;
    if (f->len && (f->ptr[f->len - 1] & 0x80)) return -1;
    return n;
}

static int vals_field_for(int dtype) {
    switch (dtype) {
    case FR_DT_FLOAT: return 5;
    case FR_DT_DOUBLE: return 6;
    case FR_DT_INT32: case FR_DT_UINT8: case FR_DT_INT16: case FR_DT_INT8: return 7;
    case FR_DT_STRING: return 8;
    case FR_DT_INT64: return 10;
    case FR_DT_BOOL: return 11;
    case FR_DT_HALF: return 13;
    default: return 0;
    }
}

static int fixed_size_of(int field) { return field == 5 ? 4 : field == 6 ? 8 : 0; }

int fr_pb_parse_tensor(const uint8_t *p, size_t len, fr_pb_tensor *t, const char **why) {
    memset(t, 0, sizeof *t);
    t->raw = p;
    t->raw_len = len;
    pb_reader r = pb_make(p, len);
    pb_field f;
    int have_shape = 0;
    const uint8_t *shape_p = NULL;
    size_t shape_len = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f) != 0) return *why = "malformed TensorProto", -1;
        if (f.number == 1 && f.wire == PB_VARINT) t->dtype = (int)f.u;
        else if (f.number == 2 && f.wire == PB_LEN) have_shape = 1, shape_p = f.ptr, shape_len = f.len;
        else if (f.number == 4 && f.wire == PB_LEN) t->content = f.ptr, t->content_len = f.len;
    }
    int es = elem_size(t->dtype);
    if (es < 0) return *why = "unsupported tensor dtype", -1;
    t->shape.rank = 0;
    if (have_shape && fr_pb_parse_shape(shape_p, shape_len, &t->shape, why) != 0) return -1;
    if (t->shape.rank < 0) return *why = "constant tensor of unknown rank", -1;
    int64_t count = 1;
    for (int i = 0; i < t->shape.rank; i++) {
        if (t->shape.dims[i] < 0) return *why = "constant tensor with unknown dimension", -1;
        if (t->shape.dims[i] && count > FR_PB_MAX_ELEMENTS / t->shape.dims[i])
            return *why = "constant tensor too large (more than 2^28 elements)", -2;
        count *= t->shape.dims[i];
    }
    t->count = count;
    t->vals_field = vals_field_for(t->dtype);
    /* count the *_val entries (also when tensor_content is present: then they must be absent) */
    r = pb_make(p, len);
    while (pb_more(&r)) {
        if (pb_next(&r, &f) != 0) return *why = "malformed TensorProto", -1;
        if ((int)f.number != t->vals_field) continue;
        int64_t n = count_entries(&f, fixed_size_of(t->vals_field));
        if (n < 0) return *why = "malformed packed values in TensorProto", -1;
        if (f.wire != PB_LEN) {
            int want = t->vals_field == 5 ? PB_FIXED32 : t->vals_field == 6 ? PB_FIXED64 : PB_VARINT;
            if (t->vals_field == 8) want = PB_LEN;
            if (f.wire != want) return *why = "wrong wire type for tensor values", -1;
        }
        t->n_vals += n;
        t->vals = f.ptr;
    }
    if (t->dtype == FR_DT_STRING) return 0; /* accepted, never used as data */
    if (t->content) {
        if ((uint64_t)t->content_len != (uint64_t)count * (uint64_t)es)
            return *why = "tensor_content size does not match the shape", -1;
    } else if (t->n_vals > count) {
        return *why = "more values than the shape holds", -1;
    }
    return 0;
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) man <<= 1, exp--;
            man &= 0x3ff;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp - 15 + 127) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static float convert_scalar(int dtype, uint64_t raw) {
    switch (dtype) {
    case FR_DT_FLOAT: {
        uint32_t b = (uint32_t)raw;
        float f;
        memcpy(&f, &b, 4);
        return f;
    }
    case FR_DT_DOUBLE: {
        double d;
        memcpy(&d, &raw, 8);
        return (float)d;
    }
    case FR_DT_INT32: return (float)(int32_t)(uint32_t)raw;
    case FR_DT_INT16: return (float)(int16_t)(uint16_t)raw;
    case FR_DT_INT8: return (float)(int8_t)(uint8_t)raw;
    case FR_DT_UINT8: return (float)(uint8_t)raw;
    case FR_DT_INT64: return (float)(int64_t)raw;
    case FR_DT_BOOL: return raw ? 1.0f : 0.0f;
    case FR_DT_HALF: return half_to_float((uint16_t)raw);
    default: return 0.0f;
    }
}

void fr_pb_tensor_to_float(const fr_pb_tensor *t, float *dst) {
    int64_t n = t->count;
    if (t->dtype == FR_DT_STRING) {
        memset(dst, 0, (size_t)n * sizeof *dst);
        return;
    }
    if (t->content) {
        int es = elem_size(t->dtype);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (t->dtype == FR_DT_FLOAT) { /* the wire format is little-endian IEEE: a plain copy */
            memcpy(dst, t->content, (size_t)n * sizeof *dst);
            return;
        }
#endif
        for (int64_t i = 0; i < n; i++) {
            uint64_t raw = 0;
            for (int b = es - 1; b >= 0; b--) raw = (raw << 8) | t->content[i * es + b];
            dst[i] = convert_scalar(t->dtype, raw);
        }
        return;
    }
    int64_t k = 0;
    float last = 0.0f;
    pb_reader r = pb_make(t->raw, t->raw_len);
    pb_field f;
    while (pb_more(&r) && k < n) {
        if (pb_next(&r, &f) != 0) break;
        if ((int)f.number != t->vals_field) continue;
        if (f.wire != PB_LEN) {
            dst[k++] = last = convert_scalar(t->dtype, f.u);
            continue;
        }
        pb_reader v = pb_make(f.ptr, f.len);
        while (pb_more(&v) && k < n) {
            uint64_t raw = 0;
            int fs = fixed_size_of(t->vals_field);
            if (fs) {
                if (v.end - v.p < fs) break;
                for (int b = fs - 1; b >= 0; b--) raw = (raw << 8) | v.p[b];
                v.p += fs;
            } else if (pb_read_varint(&v, &raw) != 0) {
                break;
            }
            dst[k++] = last = convert_scalar(t->dtype, raw);
        }
    }
    for (; k < n; k++) dst[k] = last; /* splat (zeros when no values) */
}

int fr_pb_parse_attr(const uint8_t *p, size_t len, fr_pb_attr *a, const char **why) {
    memset(a, 0, sizeof *a);
    pb_reader r = pb_make(p, len);
    pb_field f;
    while (pb_more(&r)) {
        if (pb_next(&r, &f) != 0) return *why = "malformed AttrValue", -1;
        switch (f.number) {
        case 1: if (f.wire == PB_LEN) a->kind = FR_ATTR_LIST, a->ptr = f.ptr, a->len = f.len; break;
        case 2: if (f.wire == PB_LEN) a->kind = FR_ATTR_S, a->ptr = f.ptr, a->len = f.len; break;
        case 3: if (f.wire == PB_VARINT) a->kind = FR_ATTR_I, a->i = (int64_t)f.u; break;
        case 4:
            if (f.wire == PB_FIXED32) {
                uint32_t b = (uint32_t)f.u;
                a->kind = FR_ATTR_F;
                memcpy(&a->f, &b, 4);
            }
            break;
        case 5: if (f.wire == PB_VARINT) a->kind = FR_ATTR_B, a->i = f.u != 0; break;
        case 6: if (f.wire == PB_VARINT) a->kind = FR_ATTR_TYPE, a->i = (int64_t)f.u; break;
        case 7: if (f.wire == PB_LEN) a->kind = FR_ATTR_SHAPE, a->ptr = f.ptr, a->len = f.len; break;
        case 8: if (f.wire == PB_LEN) a->kind = FR_ATTR_TENSOR, a->ptr = f.ptr, a->len = f.len; break;
        default: a->kind = FR_ATTR_OTHER; break;
        }
    }
    return 0;
}

int fr_pb_list_ints(const uint8_t *p, size_t len, int64_t *out, int max) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    int n = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f) != 0) return -1;
        if (f.number != 3) continue;
        if (f.wire == PB_VARINT) {
            if (n < max) out[n] = (int64_t)f.u;
            n++;
        } else if (f.wire == PB_LEN) {
            pb_reader v = pb_make(f.ptr, f.len);
            while (pb_more(&v)) {
                uint64_t x;
                if (pb_read_varint(&v, &x) != 0) return -1;
                if (n < max) out[n] = (int64_t)x;
                n++;
            }
        }
    }
    return n;
}

int fr_pb_list_floats(const uint8_t *p, size_t len, float *out, int max) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    int n = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f) != 0) return -1;
        if (f.number != 4) continue;
        if (f.wire == PB_FIXED32) {
            uint32_t b = (uint32_t)f.u;
            if (n < max) memcpy(&out[n], &b, 4);
            n++;
        } else if (f.wire == PB_LEN) {
            if (f.len % 4) return -1;
            for (size_t i = 0; i < f.len; i += 4) {
                uint32_t b = (uint32_t)f.ptr[i] | (uint32_t)f.ptr[i + 1] << 8 | (uint32_t)f.ptr[i + 2] << 16 |
                             (uint32_t)f.ptr[i + 3] << 24;
                if (n < max) memcpy(&out[n], &b, 4);
                n++;
            }
        }
    }
    return n;
}

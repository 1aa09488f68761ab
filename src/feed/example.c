/* tf.Example parsing for ParseExample's dense features (example.h). */
#include "feed/example.h"

#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "pb/pb.h"

/* The last Feature bytes of each wanted key, from Example bytes p; -1 when
 * the bytes are no Example. */
static int find_features(const uint8_t *p, size_t len, const fr_example_feature *f, int n, const uint8_t **val,
                         size_t *val_len, unsigned char *seen) {
    pb_reader r = pb_make(p, len);
    pb_field x;
    while (pb_more(&r)) {
        if (pb_next(&r, &x)) return -1;
        if (x.number != 1) continue;
        if (x.wire != PB_LEN) return -1;
        pb_reader fs = pb_make(x.ptr, x.len); /* Features */
        pb_field e;
        while (pb_more(&fs)) {
            if (pb_next(&fs, &e)) return -1;
            if (e.number != 1) continue;
            if (e.wire != PB_LEN) return -1;
            pb_reader m = pb_make(e.ptr, e.len); /* map entry */
            pb_field g;
            const uint8_t *key = (const uint8_t *)"", *v = (const uint8_t *)"";
            size_t kl = 0, vl = 0;
            while (pb_more(&m)) {
                if (pb_next(&m, &g)) return -1;
                if ((g.number == 1 || g.number == 2) && g.wire != PB_LEN) return -1;
                if (g.number == 1) key = g.ptr, kl = g.len;
                else if (g.number == 2) v = g.ptr, vl = g.len;
            }
            for (int i = 0; i < n; i++)
                if (f[i].key_len == kl && !memcmp(f[i].key, key, kl)) {
                    val[i] = v;
                    val_len[i] = vl;
                    seen[i] = 1;
                }
        }
    }
    return 0;
}

static const char *kind_name(uint32_t k) {
    return k == 1 ? "a bytes_list" : k == 2 ? "a float_list" : k == 3 ? "an int64_list" : "no list";
}

/* Counts (out NULL) or reads the values of one FloatList / Int64List: -1
 * when malformed. */
static long read_list(const uint8_t *p, size_t len, int dtype, void *out, size_t cap) {
    pb_reader r = pb_make(p, len);
    pb_field x;
    size_t n = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &x)) return -1;
        if (x.number != 1) continue;
        if (dtype == FR_DT_FLOAT) {
            if (x.wire == PB_FIXED32) {
                if (out && n < cap) {
                    uint32_t b = (uint32_t)x.u;
                    memcpy((float *)out + n, &b, 4);
                }
                n++;
            } else if (x.wire == PB_LEN && x.len % 4 == 0) {
                for (size_t i = 0; i < x.len / 4; i++, n++)
                    if (out && n < cap) {
                        uint32_t b = (uint32_t)x.ptr[4 * i] | (uint32_t)x.ptr[4 * i + 1] << 8 |
                                     (uint32_t)x.ptr[4 * i + 2] << 16 | (uint32_t)x.ptr[4 * i + 3] << 24;
                        memcpy((float *)out + n, &b, 4);
                    }
            } else {
                return -1;
            }
        } else {
            if (x.wire == PB_VARINT) {
                if (out && n < cap) ((int64_t *)out)[n] = (int64_t)x.u;
                n++;
            } else if (x.wire == PB_LEN) {
                pb_reader q = pb_make(x.ptr, x.len);
                uint64_t v;
                while (pb_more(&q)) {
                    if (pb_read_varint(&q, &v)) return -1;
                    if (out && n < cap) ((int64_t *)out)[n] = (int64_t)v;
                    n++;
                }
            } else {
                return -1;
            }
        }
        if (n > ((size_t)1 << 40)) return -1;
    }
    return (long)n;
}

frost_status fr_example_parse(const uint8_t *p, size_t len, const fr_example_feature *f, int n, void *const *out,
                              char **err) {
    const uint8_t **val = calloc((size_t)n + 1, sizeof *val);
    size_t *val_len = calloc((size_t)n + 1, sizeof *val_len);
    unsigned char *seen = calloc((size_t)n + 1, 1);
    frost_status st = FROST_OK;
    if (!val || !val_len || !seen) {
        st = FROST_E_NO_MEMORY;
        fr_errorf(err, "out of memory");
        goto done;
    }
    if (find_features(p, len, f, n, val, val_len, seen)) {
        st = FROST_E_PARSE;
        fr_errorf(err, "the %zu bytes are not a serialized tf.Example (malformed protobuf)", len);
        goto done;
    }
    for (int i = 0; i < n && st == FROST_OK; i++) {
        const fr_example_feature *ft = &f[i];
        size_t es = ft->dtype == FR_DT_FLOAT ? sizeof(float) : sizeof(int64_t);
        /* Feature: the last list set */
        uint32_t kind = 0;
        const uint8_t *lp = NULL;
        size_t ll = 0;
        if (seen[i]) {
            pb_reader r = pb_make(val[i], val_len[i]);
            pb_field x;
            while (pb_more(&r)) {
                if (pb_next(&r, &x) || (x.number >= 1 && x.number <= 3 && x.wire != PB_LEN)) {
                    st = FROST_E_PARSE;
                    fr_errorf(err, "feature '%.*s': malformed Feature", (int)ft->key_len, ft->key);
                    break;
                }
                if (x.number >= 1 && x.number <= 3) kind = x.number, lp = x.ptr, ll = x.len;
            }
            if (st != FROST_OK) break;
        }
        if (!kind) { /* absent (or a Feature with no list): the default */
            const void *d = ft->dtype == FR_DT_FLOAT ? (const void *)ft->dflt : (const void *)ft->dflt_i64;
            if (!d) {
                st = FROST_E_PARSE;
                fr_errorf(err, "feature '%.*s' is required (it has no default) but the Example lacks it",
                          (int)ft->key_len, ft->key);
                break;
            }
            if (ft->count) memcpy(out[i], d, ft->count * es);
            continue;
        }
        uint32_t want = ft->dtype == FR_DT_FLOAT ? 2 : 3;
        if (kind != want) {
            st = FROST_E_PARSE;
            fr_errorf(err, "feature '%.*s' is %s; the model reads %s", (int)ft->key_len, ft->key, kind_name(kind),
                      kind_name(want));
            break;
        }
        long k = read_list(lp, ll, ft->dtype, NULL, 0);
        if (k < 0) {
            st = FROST_E_PARSE;
            fr_errorf(err, "feature '%.*s': malformed %s", (int)ft->key_len, ft->key, kind_name(kind));
            break;
        }
        if ((size_t)k != ft->count) {
            st = FROST_E_PARSE;
            fr_errorf(err, "feature '%.*s' has %ld values; the model reads %zu", (int)ft->key_len, ft->key, k,
                      ft->count);
            break;
        }
        read_list(lp, ll, ft->dtype, out[i], ft->count);
    }
done:
    free(val);
    free(val_len);
    free(seen);
    return st;
}

/* frost_image_preprocess: TensorFlow's ResizeBilinear on a float tensor
 * (cast from uint8), then (x - mean) / std, all in float with TensorFlow's
 * operation order so the results match bit for bit (or within rounding of a
 * fused multiply-add, which is disabled here). */
#include <math.h>
#include <stdint.h>

#include "frost.h"
#include "image/image_internal.h"

/* No fused multiply-add: TensorFlow rounds every product.  (GCC in ISO C
 * mode does not contract; clang honours the standard pragma.) */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

typedef struct {
    int64_t lower, upper;
    float lerp;
} fr_interp;

#define FR_XCACHE 1024 /* 24 KiB of stack */

/* Source coordinate of output index i, as TensorFlow's scalers compute it. */
static fr_interp fr_interp_at(int64_t i, float scale, int half_pixel, int64_t in_size) {
    float in;
    if (half_pixel) {
        float centered = (float)i + 0.5f;
        float scaled = centered * scale;
        in = scaled - 0.5f;
    } else {
        in = (float)i * scale;
    }
    const float in_f = floorf(in);
    fr_interp r;
    r.lower = (int64_t)in_f;
    if (r.lower < 0) r.lower = 0;
    if (r.lower > in_size - 1) r.lower = in_size - 1;
    r.upper = (int64_t)ceilf(in);
    if (r.upper > in_size - 1) r.upper = in_size - 1;
    if (r.upper < 0) r.upper = 0;
    r.lerp = in - in_f;
    return r;
}

/* TensorFlow's CalculateResizeScale. */
static float fr_resize_scale(int64_t in_size, int64_t out_size, int align_corners) {
    if (align_corners && out_size > 1) return (float)(in_size - 1) / (float)(out_size - 1);
    return (float)in_size / (float)out_size;
}

static float fr_lerp(float a, float b, float t) {
    float diff = b - a;
    float scaled = diff * t;
    return a + scaled;
}

/* The resize of an [in_h, in_w, ch] image (uint8 at src8, else float at
 * srcf) into [oh, ow, ch] floats, each (v - mean) / std.  Inlined into each
 * caller with its constant arguments. */
static inline void fr_resize_core(const uint8_t *src8, const float *srcf, int64_t in_h, int64_t in_w, int64_t ch,
                                  int64_t oh, int64_t ow, int align, int half, float mean, float std, float *out) {
    const float sx = fr_resize_scale(in_w, ow, align);
    const float sy = fr_resize_scale(in_h, oh, align);
    const size_t in_stride = (size_t)in_w * (size_t)ch;

    /* Column weights are the same for every row: computed once into a stack
     * cache for usual widths (no allocation), per pixel beyond that. */
    fr_interp xcache[FR_XCACHE];
    const int cached = ow <= FR_XCACHE;
    if (cached)
        for (int64_t x = 0; x < ow; x++) xcache[x] = fr_interp_at(x, sx, half, in_w);

    for (int64_t y = 0; y < oh; y++) {
        const fr_interp iy = fr_interp_at(y, sy, half, in_h);
        const size_t top = (size_t)iy.lower * in_stride, bot = (size_t)iy.upper * in_stride;
        float *o = out + (size_t)y * (size_t)ow * (size_t)ch;
        for (int64_t x = 0; x < ow; x++) {
            const fr_interp ix = cached ? xcache[x] : fr_interp_at(x, sx, half, in_w);
            const size_t l = (size_t)ix.lower * (size_t)ch, r = (size_t)ix.upper * (size_t)ch;
            for (int64_t c = 0; c < ch; c++) {
#define FR_AT(i) (src8 ? (float)src8[i] : srcf[i])
                const float t = fr_lerp(FR_AT(top + l + c), FR_AT(top + r + c), ix.lerp);
                const float b = fr_lerp(FR_AT(bot + l + c), FR_AT(bot + r + c), ix.lerp);
#undef FR_AT
                const float v = fr_lerp(t, b, iy.lerp);
                const float centered = v - mean;
                o[(size_t)x * (size_t)ch + (size_t)c] = centered / std;
            }
        }
    }
}

frost_status frost_image_preprocess(const frost_image *image, const frost_preprocess *pp, float *out) {
    if (!image || !image->rgb || !pp || !out || image->width <= 0 || image->height <= 0 || pp->width <= 0 ||
        pp->height <= 0 || pp->std == 0.0f || !isfinite(pp->std) || !isfinite(pp->mean))
        return FROST_E_INVALID_ARGUMENT;
    const int align = pp->resize == FROST_RESIZE_ALIGN_CORNERS;
    const int half = pp->resize == FROST_RESIZE_TF2;
    if (pp->resize != FROST_RESIZE_TF1 && !align && !half) return FROST_E_INVALID_ARGUMENT;
    fr_resize_core(image->rgb, NULL, image->height, image->width, 3, pp->height, pp->width, align, half, pp->mean,
                   pp->std, out);
    return FROST_OK;
}

void fr_resize_bilinear(const float *in, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow, int align_corners,
                        int half_pixel, float *out) {
    fr_resize_core(NULL, in, h, w, c, oh, ow, align_corners, half_pixel, 0.0f, 1.0f, out);
}

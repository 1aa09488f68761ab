/* Quantization ops: TensorFlow's FakeQuantWithMinMaxArgs,
 * FakeQuantWithMinMaxVars and FakeQuantWithMinMaxVarsPerChannel, lowered
 * into FR_STEP_FAKE_QUANT with the nudged range of every channel resolved
 * here, once, from constant ranges.  The arithmetic is TensorFlow's
 * (tensorflow/core/kernels/fake_quant_ops_functor.h, Nudge() and the
 * functors); docs/int8.md describes it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"

/* The compiler must not contract a * b + c into one rounding: TensorFlow rounds each. */
#ifdef __clang__ /* GCC contracts nothing in ISO C mode (-std=c11) */
#pragma STDC FP_CONTRACT OFF
#endif

void fr_fake_quant_nudge(float min, float max, int quant_min, int quant_max, fr_fq_range *r) {
    memset(r, 0, sizeof *r);
    if (min == 0.0f && max == 0.0f) return; /* TensorFlow outputs zeros: scale 0 says so */
    const float qmin = (float)quant_min, qmax = (float)quant_max;
    const float scale = (max - min) / (qmax - qmin);
    /* TensorFlow recomputes the inverse rather than taking 1 / scale */
    const float inv_scale = (qmax - qmin) / (max - min);
    const float zero_point_from_min = qmin - min / scale;
    uint16_t zp;
    if (zero_point_from_min < qmin) zp = (uint16_t)quant_min;
    else if (zero_point_from_min > qmax) zp = (uint16_t)quant_max;
    else zp = (uint16_t)roundf(zero_point_from_min);
    r->nudged_min = (qmin - (float)zp) * scale;
    r->nudged_max = (qmax - (float)zp) * scale;
    r->scale = scale;
    r->inv_scale = inv_scale;
    r->quant_zero = floorf(-r->nudged_min * inv_scale + 0.5f);
}

/* Checks one (min, max) pair; 0, or -1 after fr_b_fail. */
static int check_range(fr_builder *b, float min, float max, int channel) {
    char where[32] = "";
    if (channel >= 0) snprintf(where, sizeof where, " of channel %d", channel);
    if (!isfinite(min) || !isfinite(max))
        return fr_b_fail(b, FROST_E_GRAPH, "the range%s [%g, %g] is not finite", where, (double)min, (double)max);
    if (min > max)
        return fr_b_fail(b, FROST_E_GRAPH, "the range%s is empty: min %g is greater than max %g", where, (double)min,
                         (double)max);
    if (min == max && min != 0.0f)
        return fr_b_fail(b, FROST_E_GRAPH, "the range%s [%g, %g] has zero width (only min == max == 0 is allowed: "
                                           "TensorFlow outputs zeros then)", where, (double)min, (double)max);
    return 0;
}

static int lower_fake_quant(fr_builder *b, const fr_node *n) {
    int args = !strcmp(n->op, "FakeQuantWithMinMaxArgs"), per_channel = !strcmp(n->op, "FakeQuantWithMinMaxVarsPerChannel");
    int64_t num_bits = fr_b_attr_int(b, "num_bits", 8);
    int narrow = (int)fr_b_attr_int(b, "narrow_range", 0);
    if (b->status != FROST_OK) return -1;
    if (num_bits < 2 || num_bits > 16)
        return fr_b_fail(b, FROST_E_GRAPH, "num_bits is %lld; TensorFlow takes 2 to 16", (long long)num_bits);
    int quant_min = narrow ? 1 : 0, quant_max = (1 << num_bits) - 1;
    int x = fr_b_input(b, 0);
    if (x < 0) return -1;
    const fr_ival *xv = fr_b_val(b, x);
    int rank = xv->v.rank;
    int64_t dims[FROST_MAX_RANK];
    memcpy(dims, xv->v.dims, sizeof dims);
    int channels = 1;
    const float *mins = NULL, *maxs = NULL;
    float amin = 0, amax = 0;
    if (args) {
        if (n->n_inputs != 1) return fr_b_fail(b, FROST_E_GRAPH, "takes 1 input, has %d", n->n_inputs);
        amin = fr_b_attr_float(b, "min", -6.0f);
        amax = fr_b_attr_float(b, "max", 6.0f);
        if (b->status != FROST_OK) return -1;
        /* the Args op's constructor demands min < max (its zero range is no exception) */
        if (isfinite(amin) && isfinite(amax) && !(amin < amax))
            return fr_b_fail(b, FROST_E_GRAPH, "min %g must be smaller than max %g", (double)amin, (double)amax);
        mins = &amin, maxs = &amax;
    } else {
        if (n->n_inputs != 3) return fr_b_fail(b, FROST_E_GRAPH, "takes 3 inputs (x, min, max), has %d", n->n_inputs);
        int lo = fr_b_input(b, 1), hi = fr_b_input(b, 2);
        if (lo < 0 || hi < 0) return -1;
        if (!fr_b_is_const(b, lo) || !fr_b_is_const(b, hi))
            return fr_b_fail(b, FROST_E_GRAPH, "min and max must be constants (frozen into the graph)");
        const fr_value *lv = &fr_b_val(b, lo)->v, *hv = &fr_b_val(b, hi)->v;
        if (per_channel) {
            if (rank < 1) return fr_b_fail(b, FROST_E_SHAPE, "the input must have at least one dimension");
            int64_t d = dims[rank - 1];
            if (lv->rank != 1 || hv->rank != 1 || lv->dims[0] != d || hv->dims[0] != d)
                return fr_b_fail(b, FROST_E_SHAPE, "min and max must be vectors of the last dimension's size (%lld)",
                                 (long long)d);
            channels = (int)d;
        } else if (lv->count != 1 || hv->count != 1 || lv->rank != 0 || hv->rank != 0)
            return fr_b_fail(b, FROST_E_SHAPE, "min and max must be scalars");
        mins = fr_b_data(b, lo);
        maxs = mins ? fr_b_data(b, hi) : NULL;
        if (!mins || !maxs) return -1;
    }
    fr_fq_range *r = fr_b_alloc(b, sizeof *r * (size_t)(channels > 0 ? channels : 1));
    if (!r) return -1;
    for (int c = 0; c < channels; c++) {
        if (check_range(b, mins[c], maxs[c], per_channel ? c : -1)) return -1;
        fr_fake_quant_nudge(mins[c], maxs[c], quant_min, quant_max, &r[c]);
    }
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_FAKE_QUANT;
    s.p.fake_quant.channels = channels;
    s.p.fake_quant.divide = !args && !per_channel;
    s.p.fake_quant.ranges = r;
    return fr_ops_emit(b, &s, &x, 1, rank, dims);
}

const fr_op_def fr_ops_quant[] = {
    {"FakeQuantWithMinMaxArgs", lower_fake_quant},
    {"FakeQuantWithMinMaxVars", lower_fake_quant},
    {"FakeQuantWithMinMaxVarsPerChannel", lower_fake_quant},
    {NULL, NULL},
};

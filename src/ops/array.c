/* Shape and data movement: Reshape, Squeeze, ExpandDims, ConcatV2, Concat,
 * Pack, Pad, PadV2, Transpose, StridedSlice, Slice. */
#include <string.h>

#include "ops/ops.h"

static int emit_copy(fr_builder *b, int x, int rank, const int64_t *dims) {
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_COPY;
    int out = fr_b_emit(b, &s, &x, 1, rank, dims, 0);
    if (out < 0) return -1;
    fr_b_val(b, out)->dtype = fr_b_val(b, x)->dtype;
    fr_b_set_output(b, 0, out);
    return 0;
}

static int lower_reshape(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0), sh = fr_b_input(b, 1);
    if (x < 0 || sh < 0) return -1;
    int64_t dims[FROST_MAX_RANK];
    int r = fr_b_const_ints(b, sh, dims, FROST_MAX_RANK, "the new shape");
    if (r < 0) return -1;
    const fr_ival *xv = fr_b_val(b, x);
    int unknown = -1;
    size_t known = 1;
    for (int i = 0; i < r; i++) {
        if (dims[i] == -1) {
            if (unknown >= 0) return fr_b_fail(b, FROST_E_SHAPE, "more than one -1 in the new shape");
            unknown = i;
        } else if (dims[i] < 0) {
            return fr_b_fail(b, FROST_E_SHAPE, "negative dimension in the new shape");
        } else {
            known *= (size_t)dims[i];
        }
    }
    if (unknown >= 0) {
        if (!known || xv->v.count % known)
            return fr_b_fail(b, FROST_E_SHAPE, "cannot reshape %zu elements with a -1 dimension", xv->v.count);
        dims[unknown] = (int64_t)(xv->v.count / known);
        known *= (size_t)dims[unknown];
    }
    /* Batch-polymorphic reshape.  A frozen graph traced at batch 1 carries
     * Reshape targets such as [1, 1001] (TF-slim's Predictions/Reshape_1: its
     * shape was Shape(logits), folded when freezing).  When the compiled batch
     * B > 1, the input's leading dim is the batch (batch_lead) and equals B,
     * the fully specified target has leading dim 1, and product(target) x B ==
     * the input's count, the target was built for one batch item: dim 0
     * becomes B.  Any other mismatch is an error. */
    if (known != xv->v.count && unknown < 0 && r > 0 && dims[0] == 1 && b->batch > 1 && xv->batch_lead &&
        xv->v.rank > 0 && xv->v.dims[0] == b->batch && known * (size_t)b->batch == xv->v.count) {
        dims[0] = b->batch;
        known = xv->v.count;
    }
    if (known != xv->v.count)
        return fr_b_fail(b, FROST_E_SHAPE, "cannot reshape %zu elements into %zu", xv->v.count, known);
    return emit_copy(b, x, r, dims);
}

static int lower_squeeze(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0);
    if (x < 0) return -1;
    int64_t ax[FROST_MAX_RANK];
    int na = fr_b_attr_ints(b, "squeeze_dims", ax, FROST_MAX_RANK);
    if (!na) na = fr_b_attr_ints(b, "axis", ax, FROST_MAX_RANK);
    if (b->status) return -1;
    const fr_ival *xv = fr_b_val(b, x);
    int r = xv->v.rank, orank = 0;
    unsigned mask = 0;
    for (int i = 0; i < na; i++) {
        int64_t a = ax[i] < 0 ? ax[i] + r : ax[i];
        if (a < 0 || a >= r) return fr_b_fail(b, FROST_E_SHAPE, "squeeze axis %lld out of range", (long long)ax[i]);
        if (xv->v.dims[a] != 1) return fr_b_fail(b, FROST_E_SHAPE, "cannot squeeze dimension %lld of size %lld", (long long)a, (long long)xv->v.dims[a]);
        mask |= 1u << a;
    }
    int64_t dims[FROST_MAX_RANK];
    for (int i = 0; i < r; i++) {
        int drop = na ? (mask >> i) & 1 : xv->v.dims[i] == 1;
        if (!drop) dims[orank++] = xv->v.dims[i];
    }
    return emit_copy(b, x, orank, dims);
}

static int lower_expand_dims(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0), d = fr_b_input(b, 1);
    if (x < 0 || d < 0) return -1;
    int64_t ax;
    if (fr_b_const_ints(b, d, &ax, 1, "the axis") != 1) return fr_b_fail(b, FROST_E_GRAPH, "the axis must be one value");
    const fr_ival *xv = fr_b_val(b, x);
    int r = xv->v.rank;
    if (ax < 0) ax += r + 1;
    if (ax < 0 || ax > r || r >= FROST_MAX_RANK) return fr_b_fail(b, FROST_E_SHAPE, "axis out of range");
    int64_t dims[FROST_MAX_RANK];
    for (int i = 0, k = 0; i <= r; i++) dims[i] = i == ax ? 1 : xv->v.dims[k++];
    return emit_copy(b, x, r + 1, dims);
}

static int concat_common(fr_builder *b, const int *ins, int n_in, int64_t axis, int pack) {
    if (n_in < 1 || n_in > 4096) return fr_b_fail(b, FROST_E_GRAPH, "bad number of inputs (%d)", n_in);
    const fr_ival *v0 = fr_b_val(b, ins[0]);
    int r = v0->v.rank, orank = pack ? r + 1 : r;
    if (orank > FROST_MAX_RANK) return fr_b_fail(b, FROST_E_SHAPE, "rank too large");
    if (axis < 0) axis += orank;
    if (axis < 0 || axis >= orank) return fr_b_fail(b, FROST_E_SHAPE, "axis out of range");
    int64_t dims[FROST_MAX_RANK];
    for (int i = 0, k = 0; i < orank; i++) dims[i] = (pack && i == axis) ? n_in : v0->v.dims[k++];
    if (!pack) dims[axis] = 0;
    for (int j = 0; j < n_in; j++) {
        const fr_ival *v = fr_b_val(b, ins[j]);
        if (v->v.rank != r) return fr_b_fail(b, FROST_E_SHAPE, "input %d has rank %d, expected %d", j, v->v.rank, r);
        for (int i = 0; i < r; i++)
            if ((pack || i != axis) && v->v.dims[i] != v0->v.dims[i])
                return fr_b_fail(b, FROST_E_SHAPE, "input %d has dimension %d = %lld, expected %lld", j, i,
                                 (long long)v->v.dims[i], (long long)v0->v.dims[i]);
        if (!pack) dims[axis] += v->v.dims[axis];
    }
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_CONCAT;
    s.p.concat.axis = (int)axis;
    return fr_ops_emit(b, &s, ins, n_in, orank, dims);
}

static int lower_concat(fr_builder *b, const fr_node *n) {
    int v2 = !strcmp(n->op, "ConcatV2"), n_in = n->n_inputs - 1;
    if (n_in < 1) return fr_b_fail(b, FROST_E_GRAPH, "needs at least 2 inputs");
    int *ins = fr_b_alloc(b, sizeof(int) * (size_t)n_in);
    if (!ins) return -1;
    for (int i = 0; i < n_in; i++)
        if ((ins[i] = fr_b_input(b, v2 ? i : i + 1)) < 0) return -1;
    int a = fr_b_input(b, v2 ? n_in : 0);
    int64_t axis;
    if (a < 0 || fr_b_const_ints(b, a, &axis, 1, "the axis") != 1) return fr_b_fail(b, FROST_E_GRAPH, "the axis must be one value");
    return concat_common(b, ins, n_in, axis, 0);
}

static int lower_pack(fr_builder *b, const fr_node *n) {
    int n_in = n->n_inputs;
    if (n_in < 1) return fr_b_fail(b, FROST_E_GRAPH, "needs inputs");
    int *ins = fr_b_alloc(b, sizeof(int) * (size_t)n_in);
    if (!ins) return -1;
    for (int i = 0; i < n_in; i++)
        if ((ins[i] = fr_b_input(b, i)) < 0) return -1;
    int64_t axis = fr_b_attr_int(b, "axis", 0);
    if (b->status) return -1;
    return concat_common(b, ins, n_in, axis, 1);
}

static int lower_pad(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0), p = fr_b_input(b, 1);
    if (x < 0 || p < 0) return -1;
    float value = 0;
    if (!strcmp(n->op, "PadV2")) {
        int c = fr_b_input(b, 2);
        if (c < 0) return -1;
        const fr_ival *cv = fr_b_val(b, c);
        if (cv->v.kind != FR_VALUE_CONST || cv->v.count != 1) return fr_b_fail(b, FROST_E_GRAPH, "constant_values must be a constant scalar");
        const float *cd = fr_b_data(b, c);
        if (!cd) return -1;
        value = cd[0];
    }
    int64_t pads[2 * FROST_MAX_RANK];
    int np = fr_b_const_ints(b, p, pads, 2 * FROST_MAX_RANK, "the paddings");
    if (np < 0) return -1;
    const fr_ival *xv = fr_b_val(b, x);
    int r = xv->v.rank;
    if (np != 2 * r) return fr_b_fail(b, FROST_E_SHAPE, "paddings must be [%d, 2]", r);
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_PAD;
    s.p.pad.value = value;
    int64_t dims[FROST_MAX_RANK];
    for (int i = 0; i < r; i++) {
        if (pads[2 * i] < 0 || pads[2 * i + 1] < 0 || pads[2 * i] > 1 << 24 || pads[2 * i + 1] > 1 << 24)
            return fr_b_fail(b, FROST_E_SHAPE, "bad padding");
        s.p.pad.before[i] = pads[2 * i];
        s.p.pad.after[i] = pads[2 * i + 1];
        dims[i] = xv->v.dims[i] + pads[2 * i] + pads[2 * i + 1];
    }
    return fr_ops_emit(b, &s, &x, 1, r, dims);
}

static int lower_transpose(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0), p = fr_b_input(b, 1);
    if (x < 0 || p < 0) return -1;
    int64_t perm[FROST_MAX_RANK];
    int np = fr_b_const_ints(b, p, perm, FROST_MAX_RANK, "the permutation");
    if (np < 0) return -1;
    const fr_ival *xv = fr_b_val(b, x);
    int r = xv->v.rank;
    if (np != r) return fr_b_fail(b, FROST_E_SHAPE, "permutation has %d entries for rank %d", np, r);
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_TRANSPOSE;
    unsigned seen = 0;
    int64_t dims[FROST_MAX_RANK];
    for (int i = 0; i < r; i++) {
        int64_t q = perm[i] < 0 ? perm[i] + r : perm[i];
        if (q < 0 || q >= r || (seen & (1u << q))) return fr_b_fail(b, FROST_E_SHAPE, "invalid permutation");
        seen |= 1u << q;
        s.p.transpose.perm[i] = (int)q;
        dims[i] = xv->v.dims[q];
    }
    int out = fr_b_emit(b, &s, &x, 1, r, dims, 0);
    if (out < 0) return -1;
    fr_b_val(b, out)->dtype = fr_b_val(b, x)->dtype;
    fr_b_set_output(b, 0, out);
    return 0;
}

static int emit_slice(fr_builder *b, int x, fr_step *s, int orank, const int64_t *odims) {
    int out = fr_b_emit(b, s, &x, 1, orank, odims, 0);
    if (out < 0) return -1;
    fr_b_val(b, out)->dtype = fr_b_val(b, x)->dtype;
    fr_b_set_output(b, 0, out);
    return 0;
}

static int lower_strided_slice(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0), bi = fr_b_input(b, 1), ei = fr_b_input(b, 2), si = fr_b_input(b, 3);
    if (x < 0 || bi < 0 || ei < 0 || si < 0) return -1;
    int64_t beg[16], end[16], str[16];
    int nb = fr_b_const_ints(b, bi, beg, 16, "begin"), ne = fr_b_const_ints(b, ei, end, 16, "end");
    int ns = fr_b_const_ints(b, si, str, 16, "strides");
    if (nb < 0 || ne < 0 || ns < 0) return -1;
    if (nb != ne || nb != ns) return fr_b_fail(b, FROST_E_SHAPE, "begin, end and strides differ in length");
    unsigned bm = (unsigned)fr_b_attr_int(b, "begin_mask", 0), em = (unsigned)fr_b_attr_int(b, "end_mask", 0);
    unsigned elm = (unsigned)fr_b_attr_int(b, "ellipsis_mask", 0), nam = (unsigned)fr_b_attr_int(b, "new_axis_mask", 0);
    unsigned sam = (unsigned)fr_b_attr_int(b, "shrink_axis_mask", 0);
    if (b->status) return -1;
    const fr_ival *xv = fr_b_val(b, x);
    int r = xv->v.rank;
    /* dense spec over the input dims */
    int64_t db[FROST_MAX_RANK], de[FROST_MAX_RANK], ds[FROST_MAX_RANK];
    int dbm[FROST_MAX_RANK], dem[FROST_MAX_RANK], dsh[FROST_MAX_RANK];
    int gather[2 * FROST_MAX_RANK + 16], ng = 0; /* input dim, or -1 for a new axis */
    int full = 0, seen_ellipsis = 0;
    for (int i = 0; i < r; i++) db[i] = de[i] = 0, ds[i] = 1, dbm[i] = dem[i] = 1, dsh[i] = 0;
    for (int i = 0; i < nb; i++) {
        if ((elm >> i) & 1) {
            if (seen_ellipsis) return fr_b_fail(b, FROST_E_GRAPH, "more than one ellipsis");
            seen_ellipsis = 1;
            int after = 0;
            for (int j = i + 1; j < nb; j++)
                if (!((nam >> j) & 1)) after++;
            int next = r - after;
            for (; full < next; full++) gather[ng++] = full;
        } else if ((nam >> i) & 1) {
            gather[ng++] = -1;
        } else {
            if (full >= r) return fr_b_fail(b, FROST_E_SHAPE, "slice has more dimensions than the input (%d)", r);
            db[full] = beg[i];
            de[full] = end[i];
            ds[full] = str[i];
            dbm[full] = (bm >> i) & 1;
            dem[full] = (em >> i) & 1;
            dsh[full] = (sam >> i) & 1;
            if (!dsh[full]) gather[ng++] = full;
            full++;
        }
    }
    for (; full < r; full++) gather[ng++] = full;
    if (ng > FROST_MAX_RANK) return fr_b_fail(b, FROST_E_SHAPE, "result rank too large");
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_SLICE;
    for (int i = 0; i < r; i++) {
        int64_t d = xv->v.dims[i], st = ds[i];
        if (st == 0) return fr_b_fail(b, FROST_E_GRAPH, "stride 0");
        if (dsh[i]) {
            int64_t k = db[i] < 0 ? db[i] + d : db[i];
            if (k < 0 || k >= d) return fr_b_fail(b, FROST_E_SHAPE, "index %lld out of range for dimension %d of size %lld", (long long)db[i], i, (long long)d);
            s.p.slice.begin[i] = k, s.p.slice.stride[i] = 1, s.p.slice.size[i] = 1;
            continue;
        }
        int64_t lo = st > 0 ? 0 : -1, hi = st > 0 ? d : d - 1;
        int64_t bb = db[i] < 0 ? db[i] + d : db[i], ee = de[i] < 0 ? de[i] + d : de[i];
        bb = dbm[i] ? (st > 0 ? lo : hi) : (bb < lo ? lo : bb > hi ? hi : bb);
        ee = dem[i] ? (st > 0 ? hi : lo) : (ee < lo ? lo : ee > hi ? hi : ee);
        int64_t size = st > 0 ? (ee - bb + st - 1) / st : (bb - ee + (-st) - 1) / (-st);
        if (size < 0) size = 0;
        s.p.slice.begin[i] = bb, s.p.slice.stride[i] = st, s.p.slice.size[i] = size;
    }
    int64_t odims[FROST_MAX_RANK];
    for (int i = 0; i < ng; i++) odims[i] = gather[i] < 0 ? 1 : s.p.slice.size[gather[i]];
    return emit_slice(b, x, &s, ng, odims);
}

static int lower_slice(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0), bi = fr_b_input(b, 1), si = fr_b_input(b, 2);
    if (x < 0 || bi < 0 || si < 0) return -1;
    int64_t beg[FROST_MAX_RANK], size[FROST_MAX_RANK];
    int nb = fr_b_const_ints(b, bi, beg, FROST_MAX_RANK, "begin"), ns = fr_b_const_ints(b, si, size, FROST_MAX_RANK, "size");
    if (nb < 0 || ns < 0) return -1;
    const fr_ival *xv = fr_b_val(b, x);
    int r = xv->v.rank;
    if (nb != r || ns != r) return fr_b_fail(b, FROST_E_SHAPE, "begin and size must have %d entries", r);
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_SLICE;
    int64_t odims[FROST_MAX_RANK];
    for (int i = 0; i < r; i++) {
        int64_t d = xv->v.dims[i], sz = size[i] == -1 ? d - beg[i] : size[i];
        if (beg[i] < 0 || beg[i] > d || sz < 0 || sz > d - beg[i]) return fr_b_fail(b, FROST_E_SHAPE, "slice out of range in dimension %d", i);
        s.p.slice.begin[i] = beg[i], s.p.slice.stride[i] = 1, s.p.slice.size[i] = sz;
        odims[i] = sz;
    }
    return emit_slice(b, x, &s, r, odims);
}

const fr_op_def fr_ops_array[] = {
    {"Reshape", lower_reshape},
    {"Squeeze", lower_squeeze},
    {"ExpandDims", lower_expand_dims},
    {"ConcatV2", lower_concat},
    {"Concat", lower_concat},
    {"Pack", lower_pack},
    {"Pad", lower_pad},
    {"PadV2", lower_pad},
    {"Transpose", lower_transpose},
    {"StridedSlice", lower_strided_slice},
    {"Slice", lower_slice},
    {NULL, NULL},
};

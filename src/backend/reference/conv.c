/* Reference Conv2D / depthwise (NHWC; filters HWIO / [kh][kw][cin][mult]). */
#include "backend/reference/reference.h"

void fr_kernel_conv(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_conv_params *c = &s->p.conv;
    const fr_value *xv = &plan->values[s->inputs[0]], *ov = &plan->values[s->output];
    const float *x = fr_value_ptr(plan, arena, s->inputs[0]);
    float *o = fr_value_ptr(plan, arena, s->output);
    const float *res = c->residual >= 0 ? fr_value_ptr(plan, arena, c->residual) : NULL;
    const float *w = c->weights;
    int N = (int)xv->dims[0], H = (int)xv->dims[1], W = (int)xv->dims[2];
    int OH = (int)ov->dims[1], OW = (int)ov->dims[2], cin = c->cin, cout = c->cout;
    int mult = c->groups > 1 ? cout / cin : 0;
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                float *op = o + (((size_t)n * OH + oy) * OW + ox) * cout;
                for (int co = 0; co < cout; co++) op[co] = c->bias ? c->bias[co] : 0.0f;
                for (int ky = 0; ky < c->kh; ky++) {
                    int iy = oy * c->stride_h - c->pad_top + ky * c->dil_h;
                    if (iy < 0 || iy >= H) continue;
                    for (int kx = 0; kx < c->kw; kx++) {
                        int ix = ox * c->stride_w - c->pad_left + kx * c->dil_w;
                        if (ix < 0 || ix >= W) continue;
                        const float *xp = x + (((size_t)n * H + iy) * W + ix) * cin;
                        if (!mult) {
                            const float *wp = w + ((size_t)ky * c->kw + kx) * cin * cout;
                            for (int ci = 0; ci < cin; ci++) {
                                float xv_ = xp[ci];
                                const float *wr = wp + (size_t)ci * cout;
                                for (int co = 0; co < cout; co++) op[co] += xv_ * wr[co];
                            }
                        } else {
                            const float *wp = w + ((size_t)ky * c->kw + kx) * cout;
                            if (mult == 1) {
                                for (int ci = 0; ci < cin; ci++) op[ci] += xp[ci] * wp[ci];
                            } else {
                                for (int ci = 0; ci < cin; ci++)
                                    for (int m = 0; m < mult; m++) op[ci * mult + m] += xp[ci] * wp[ci * mult + m];
                            }
                        }
                    }
                }
                if (res) {
                    const float *rp = res + (((size_t)n * OH + oy) * OW + ox) * cout;
                    for (int co = 0; co < cout; co++) op[co] += rp[co];
                }
                if (c->act != FR_ACT_NONE)
                    for (int co = 0; co < cout; co++) op[co] = fr_apply_act(op[co], c->act, c->alpha);
            }
    fr_fake_quant_apply(c->out_quant, o, ov->count);
}

/* Reference MaxPool / AvgPool (NHWC; padding never wins a max and is not counted by an average). */
#include <float.h>

#include "backend/reference/reference.h"

void fr_kernel_pool(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_pool_params *p = &s->p.pool;
    const fr_value *xv = &plan->values[s->inputs[0]], *ov = &plan->values[s->output];
    const float *x = fr_value_ptr(plan, arena, s->inputs[0]);
    float *o = fr_value_ptr(plan, arena, s->output);
    int N = (int)xv->dims[0], H = (int)xv->dims[1], W = (int)xv->dims[2], C = (int)xv->dims[3];
    int OH = (int)ov->dims[1], OW = (int)ov->dims[2];
    for (int n = 0; n < N; n++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                float *op = o + (((size_t)n * OH + oy) * OW + ox) * C;
                int y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
                int y1 = y0 + p->kh, x1 = x0 + p->kw;
                if (y0 < 0) y0 = 0;
                if (x0 < 0) x0 = 0;
                if (y1 > H) y1 = H;
                if (x1 > W) x1 = W;
                for (int c = 0; c < C; c++) op[c] = p->op == FR_POOL_MAX ? -FLT_MAX : 0.0f;
                int cnt = 0;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        const float *xp = x + (((size_t)n * H + iy) * W + ix) * C;
                        cnt++;
                        if (p->op == FR_POOL_MAX) {
                            for (int c = 0; c < C; c++)
                                if (xp[c] > op[c]) op[c] = xp[c];
                        } else {
                            for (int c = 0; c < C; c++) op[c] += xp[c];
                        }
                    }
                if (p->op == FR_POOL_AVG && cnt > 0) {
                    for (int c = 0; c < C; c++) op[c] /= (float)cnt;
                }
                if (p->bias || p->act != FR_ACT_NONE)
                    for (int c = 0; c < C; c++) op[c] = fr_apply_act(op[c] + (p->bias ? p->bias[c] : 0.0f), p->act, p->alpha);
            }
}

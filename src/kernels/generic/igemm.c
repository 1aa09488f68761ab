/* The indirect GEMM's 6 x 16 tile in portable C (CPUs without AVX2 / FMA). */
#include "kernels/ukernels.h"

void fr_ig_tile_generic(const fr_ig_epilogue *e, const fr_ig_seg *seg, int n, const float *w, const float *bias,
                        float *y, const float *res, int rows, int cols) {
    float acc[FR_IG_MR][FR_IG_NR] = {{0}};
    for (int s = 0; s < n; s++)
        for (int64_t c = 0; c < seg[s].len; c++, w += FR_IG_NR)
            for (int i = 0; i < FR_IG_MR; i++) {
                float a = seg[s].p[i][c];
                for (int j = 0; j < FR_IG_NR; j++) acc[i][j] += a * w[j];
            }
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            float v = acc[i][j] + (bias ? bias[j] : 0.f);
            if (res) v += res[(size_t)i * (size_t)e->ldy + (size_t)j];
            y[(size_t)i * (size_t)e->ldy + (size_t)j] = act1(e->act, e->alpha, v);
        }
}

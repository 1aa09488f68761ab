/* The pool row in portable C, one channel at a time (pool_template.h). */
#include "kernels/pool_template.h"

void fr_pool_row_generic(const fr_pool_geom *k, const float *x, float *y, int64_t oy) {
    FR_POOL_ROW_BEGIN
    FR_POOL_PIXEL(float, 1, ld1, st1, (k->max ? -FLT_MAX : 0.f), act1)
    FR_POOL_ROW_END
}

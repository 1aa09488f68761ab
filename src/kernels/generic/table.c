/* The byte table (fr_u8_table_fn) in portable C. */
#include "kernels/ukernels.h"

void fr_u8_table_generic(const uint8_t *table, const uint8_t *x, uint8_t *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = table[x[i]];
}

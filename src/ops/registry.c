/* The op table: every family's TensorFlow ops. */
#include <string.h>

#include "ops/ops.h"

static const fr_op_def *const families[] = {fr_ops_basic,  fr_ops_conv,   fr_ops_pool,  fr_ops_elementwise,
                                            fr_ops_nn,     fr_ops_reduce, fr_ops_array, fr_ops_matmul, fr_ops_quant};

const fr_op_def *fr_op_find(const char *name) {
    for (size_t f = 0; f < sizeof families / sizeof *families; f++)
        for (const fr_op_def *d = families[f]; d->tf_name; d++)
            if (!strcmp(d->tf_name, name)) return d;
    return NULL;
}

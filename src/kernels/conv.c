/* fr_kernels_conv: the convolution kernel a choice names (igemm.c or
 * wino.c) behind one interface (kernels.h). */
#include <stdlib.h>

#include "kernels/igemm.h"
#include "kernels/kernels.h"
#include "kernels/wino.h"

struct fr_kernels_conv { /* one of the two */
    fr_igemm *igemm;
    fr_wino *wino;
};

void fr_kernels_conv_weights_dims(const fr_conv_choice *ch, const fr_conv_params *c, int *rank, int64_t dims[3]) {
    if (ch->impl == FR_CONV_WINO) {
        *rank = 2;
        fr_wino_weights_dims(ch, c, dims);
    } else {
        *rank = 3;
        fr_igemm_weights_dims(c, dims);
    }
}

frost_status fr_kernels_conv_pack(const fr_conv_choice *ch, const fr_conv_params *c, float *buf) {
    if (ch->impl == FR_CONV_WINO) return fr_wino_pack(ch, c, buf);
    fr_igemm_pack(c, buf);
    return FROST_OK;
}

frost_status fr_kernels_conv_create(const fr_conv_choice *ch, const fr_plan *plan, const fr_step *step,
                                    const float *packed, fr_kernels_isa isa, int threads, fr_kernels_conv **out) {
    fr_kernels_conv *k = calloc(1, sizeof(*k));
    *out = NULL;
    if (!k) return FROST_E_NO_MEMORY;
    frost_status st = ch->impl == FR_CONV_WINO
                          ? fr_wino_create(ch, plan, step, packed, isa, threads, &k->wino)
                          : fr_igemm_create(plan, step, packed, fr_igemm_simd(isa), threads, &k->igemm);
    if (st != FROST_OK) {
        free(k);
        return st;
    }
    *out = k;
    return FROST_OK;
}

size_t fr_kernels_conv_temp_bytes(const fr_kernels_conv *k) {
    return k->wino ? fr_wino_temp_bytes(k->wino) : fr_igemm_temp_bytes(k->igemm);
}

const char *fr_kernels_conv_name(const fr_kernels_conv *k) {
    return k->wino ? fr_wino_name(k->wino) : "frost:igemm_6x16";
}

void fr_kernels_conv_run(const fr_kernels_conv *k, const fr_team *team, const float *x, float *y, void *temp,
                         const float *res) {
    if (k->wino)
        fr_wino_run(k->wino, team, x, y, temp, res);
    else
        fr_igemm_run(k->igemm, team, x, y, temp, res);
}

void fr_kernels_conv_free(fr_kernels_conv *k) {
    if (!k) return;
    fr_wino_free(k->wino);
    fr_igemm_free(k->igemm);
    free(k);
}

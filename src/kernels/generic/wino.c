/* The Winograd transforms in portable C, one channel at a time
 * (wino_template.h). */
#include "kernels/wino_template.h"

FR_WINO_POINTS(float, 1, )

#define FR_WINO_ATTR
#define FR_WINO_VEC_IN(D, A, BT)
#define FR_WINO_VEC_OUT(D, A, M, AT)
FR_WINO_KERNELS(fr_wino_generic)

/* libFuzzer target: serialized tf.Example protos (the strings a classify /
 * regress request carries) read as ParseExample reads their dense features:
 * float and int64 features, required and with defaults, of several sizes.
 * run: ./fuzz/fuzz_example -max_len=4096 CORPUS_DIR */
#include <stdint.h>
#include <stdlib.h>

#include "feed/example.h"
#include "pb/pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const float fdef[2] = {1, 2};
    static const int64_t idef[1] = {7};
    const fr_example_feature ft[5] = {{"x", 1, FR_DT_FLOAT, 1, NULL, NULL},
                                      {"x2", 2, FR_DT_FLOAT, 2, fdef, NULL},
                                      {"i", 1, FR_DT_INT64, 1, NULL, idef},
                                      {"ids", 3, FR_DT_INT64, 3, NULL, NULL},
                                      {"", 0, FR_DT_FLOAT, 0, NULL, NULL}};
    float x, x2[2], empty[1];
    int64_t i, ids[3];
    void *out[5] = {&x, x2, &i, ids, empty};
    char *err = NULL;
    /* all five, then each alone (a required feature missing stops the first) */
    fr_example_parse(data, size, ft, 5, out, &err);
    free(err);
    for (int k = 0; k < 5; k++) {
        err = NULL;
        fr_example_parse(data, size, &ft[k], 1, &out[k], &err);
        free(err);
    }
    return 0;
}

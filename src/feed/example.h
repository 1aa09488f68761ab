/* tf.Example protos (serialized bytes from the caller: untrusted), read as
 * TensorFlow's ParseExample reads their dense features.
 *
 * Field numbers from TensorFlow's example.proto and feature.proto: Example
 * { features = 1 }, Features { map<string, Feature> feature = 1 } (map
 * entry: key = 1, value = 2), Feature { oneof kind: bytes_list = 1,
 * float_list = 2, int64_list = 3 }, FloatList { repeated float value = 1 },
 * Int64List { repeated int64 value = 1 } (packed or not).  As protobuf
 * merges, a repeated `features` field and a repeated map key are allowed:
 * the last value of a key wins, and within a Feature the last list set. */
#ifndef FR_FEED_EXAMPLE_H
#define FR_FEED_EXAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "frost.h"

/* One dense feature of ParseExample (dense_keys[i], Tdense[i],
 * dense_shapes[i], dense_defaults[i]). */
typedef struct fr_example_feature {
    const char *key;
    size_t key_len;
    int dtype;            /* FR_DT_FLOAT or FR_DT_INT64 */
    size_t count;         /* values per Example: the product of dense_shape */
    const float *dflt;    /* FR_DT_FLOAT: `count` values, NULL: the feature is required */
    const int64_t *dflt_i64; /* FR_DT_INT64: the same */
} fr_example_feature;

/* Reads the n dense features of one serialized Example: feature i's `count`
 * values into out[i] (float * for FR_DT_FLOAT, int64_t * for FR_DT_INT64),
 * its default where the Example lacks it.  FROST_E_PARSE with a message
 * naming the feature (or the malformed bytes) in *err (malloc'ed) for bytes
 * that are no Example, a required feature missing, a feature of another
 * type or with another number of values. */
frost_status fr_example_parse(const uint8_t *p, size_t len, const fr_example_feature *f, int n, void *const *out,
                              char **err);

#endif

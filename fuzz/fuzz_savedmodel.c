/* libFuzzer target: the SavedModel import from memory (fr_sm_open_memory):
 * saved_model.pb, the variables index (a LevelDB table) and one data shard;
 * then the signature API, the frozen graph of every signature and, when
 * small, its compilation.
 * Input: [u32 LE length of saved_model.pb][u32 LE length of the index]
 *        [saved_model.pb][variables.index][variables.data-00000-of-00001]
 * (lengths clamped to what follows; an index length of 0: no variables).
 * Seeds: fuzz/seeds/fuzz_savedmodel (`build/tests/test_savedmodel --seeds
 * DIR` writes them: a synthetic TF2 model and its hostile variants) and,
 * with ../shared, fuzz/make_seeds.py's packed copies of the real SavedModels. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "frost.h"
#include "savedmodel/savedmodel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void query(const frost_savedmodel *sm) {
    volatile size_t sink = 0;
    for (int m = 0; m < frost_savedmodel_meta_graph_count(sm); m++) {
        for (int t = 0; t < frost_savedmodel_tag_count(sm, m); t++) sink += strlen(frost_savedmodel_tag(sm, m, t));
        for (int s = 0; s < frost_savedmodel_signature_count(sm, m); s++) {
            sink += strlen(frost_savedmodel_signature_key(sm, m, s)) + strlen(frost_savedmodel_signature_method(sm, m, s));
            frost_tensor_info ti;
            for (int i = 0; i < frost_savedmodel_signature_input_count(sm, m, s); i++)
                if (frost_savedmodel_signature_input(sm, m, s, i, &ti) == FROST_OK)
                    sink += strlen(ti.key) + strlen(ti.name) + strlen(frost_dtype_name(ti.dtype)) + (size_t)ti.shape.rank;
            for (int i = 0; i < frost_savedmodel_signature_output_count(sm, m, s); i++)
                if (frost_savedmodel_signature_output(sm, m, s, i, &ti) == FROST_OK)
                    sink += strlen(ti.key) + strlen(ti.name) + (size_t)ti.shape.rank;
        }
    }
    sink += (size_t)frost_savedmodel_find_meta_graph(sm, NULL, 0) + (size_t)frost_savedmodel_find_signature(sm, -1, NULL);
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 8) return 0;
    size_t pl = le32(data), il = le32(data + 4), rest = size - 8;
    if (pl > rest) pl = rest;
    rest -= pl;
    if (il > rest) il = rest;
    rest -= il;
    const uint8_t *pb = data + 8, *index = pb + pl;
    const void *shard = index + il;
    frost_savedmodel *sm = NULL;
    char *err = NULL;
    if (fr_sm_open_memory(pb, pl, il ? index : NULL, il, &shard, &rest, 1, &sm, &err) != FROST_OK) {
        frost_free(err);
        return 0;
    }
    query(sm);
    for (int m = 0; m < frost_savedmodel_meta_graph_count(sm) && m < 4; m++)
        for (int s = 0; s < frost_savedmodel_signature_count(sm, m) && s < 8; s++) {
            frost_graph *g = NULL;
            if (frost_savedmodel_graph(sm, m, s, &g, &err) == FROST_OK) {
                volatile size_t sink = (size_t)frost_graph_param_count(g);
                for (int k = 0; k < frost_graph_sink_count(g); k++) sink += strlen(frost_graph_sink_name(g, k));
                (void)sink;
                if (frost_graph_node_count(g) <= 200) {
                    frost_options opt;
                    frost_options_init(&opt);
                    opt.max_batch = 1;
                    opt.threads = 1;
                    opt.backend = FROST_BACKEND_REFERENCE;
                    frost_model *mo = NULL;
                    frost_free(err);
                    err = NULL;
                    frost_model_compile(g, &opt, &mo, &err);
                    frost_model_free(mo);
                }
            }
            frost_free(err);
            err = NULL;
            frost_graph_free(g);
        }
    frost_savedmodel_free(sm);
    return 0;
}

/* A TF1-style SavedModel made from a frozen GraphDef, for the load-time
 * benchmark (bench/savedmodel_load.py --inception):
 *
 *     sm_from_pb FROZEN.pb DIR INPUT OUTPUT
 *
 * writes DIR/saved_model.pb (one meta graph tagged "serve", the graph with
 * every float Const of more than one value turned into a VariableV2 of the
 * same name, dtype and shape; a "serving_default" signature from the
 * Placeholder INPUT to the tensor OUTPUT) and DIR/variables/ (a tensor
 * bundle holding the Consts' values under their node names, as TF1's Saver
 * keys them).  Not installed; exit status 1 with a message on failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pb/mapfile.h"
#include "sm_build.h"

typedef struct {
    sb_tensor *t;
    int n, cap;
    void **owned; /* values decoded from *_val fields */
    int n_owned;
} vars_t;

static int cmp_key(const void *a, const void *b) {
    return strcmp(((const sb_tensor *)a)->key, ((const sb_tensor *)b)->key);
}

/* A float Const of more than one value as a VariableV2 NodeDef (into out)
 * and its value (into v); 0 when the node stays as it is. */
static int as_variable(const uint8_t *p, size_t len, fr_pbw *out, vars_t *v) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    const uint8_t *name = NULL, *op = NULL, *value = NULL;
    size_t name_len = 0, op_len = 0, value_len = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return 0;
        if (f.number == 1 && f.wire == PB_LEN) name = f.ptr, name_len = f.len;
        if (f.number == 2 && f.wire == PB_LEN) op = f.ptr, op_len = f.len;
        if (f.number != 5 || f.wire != PB_LEN) continue;
        pb_reader a = pb_make(f.ptr, f.len);
        pb_field g, key = {0}, val = {0};
        while (pb_more(&a) && !pb_next(&a, &g)) {
            if (g.number == 1 && g.wire == PB_LEN) key = g;
            if (g.number == 2 && g.wire == PB_LEN) val = g;
        }
        if (key.ptr && key.len == 5 && !memcmp(key.ptr, "value", 5) && val.ptr) {
            pb_reader t = pb_make(val.ptr, val.len); /* AttrValue.tensor = 8 */
            while (pb_more(&t) && !pb_next(&t, &g))
                if (g.number == 8 && g.wire == PB_LEN) value = g.ptr, value_len = g.len;
        }
    }
    fr_pb_tensor t;
    const char *why;
    if (!name || !op || op_len != 5 || memcmp(op, "Const", 5) || !value ||
        fr_pb_parse_tensor(value, value_len, &t, &why) || t.dtype != FR_DT_FLOAT || t.count < 2 || t.shape.rank > 8)
        return 0;
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 256;
        v->t = realloc(v->t, sizeof *v->t * (size_t)v->cap);
        v->owned = realloc(v->owned, sizeof *v->owned * (size_t)v->cap);
        if (!v->t || !v->owned) return -1;
    }
    char *key = malloc(name_len + 1);
    float *vals = t.content ? NULL : malloc(sizeof(float) * (size_t)t.count);
    if (!key || (!t.content && !vals)) {
        free(key);
        free(vals);
        return -1;
    }
    memcpy(key, name, name_len);
    key[name_len] = 0;
    if (vals) fr_pb_tensor_to_float(&t, vals);
    sb_tensor *x = &v->t[v->n++];
    memset(x, 0, sizeof *x);
    x->key = key;
    x->dtype = FR_DT_FLOAT;
    x->rank = t.shape.rank;
    for (int i = 0; i < t.shape.rank; i++) x->dims[i] = t.shape.dims[i];
    x->data = vals ? (const void *)vals : t.content;
    x->size = sizeof(float) * (size_t)t.count;
    v->owned[v->n_owned++] = vals;
    fr_pbw node, attr, shape;
    fr_pbw_init(&node);
    fr_pbw_init(&attr);
    fr_pbw_init(&shape);
    fr_pbw_bytes(&node, 1, name, name_len);
    fr_pbw_str(&node, 2, "VariableV2");
    fr_pbw_int(&attr, 6, FR_DT_FLOAT); /* AttrValue.type */
    sb_map_entry(&node, 5, "dtype", &attr); /* NodeDef.attr */
    fr_pbw_reset(&attr);
    fr_pbw_shape(&shape, x->rank, x->dims);
    fr_pbw_msg(&attr, 7, &shape); /* AttrValue.shape */
    sb_map_entry(&node, 5, "shape", &attr);
    fr_pbw_msg(out, 1, &node);
    int failed = node.failed || attr.failed || shape.failed;
    fr_pbw_free(&node);
    fr_pbw_free(&attr);
    fr_pbw_free(&shape);
    return failed ? -1 : 1;
}

static int write_file(const char *path, const fr_pbw *w) {
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(w->data, 1, w->len, f) == w->len;
    if (f && fclose(f)) ok = 0;
    if (!ok) fprintf(stderr, "sm_from_pb: cannot write %s: %s\n", path, strerror(errno));
    return ok ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: sm_from_pb FROZEN.pb DIR INPUT OUTPUT\n");
        return 1;
    }
    uint8_t *pb;
    size_t pb_len;
    char *err = NULL;
    if (fr_read_file(argv[1], &pb, &pb_len, &err) != FROST_OK) {
        fprintf(stderr, "sm_from_pb: %s\n", err ? err : argv[1]);
        free(err);
        return 1;
    }
    vars_t v = {0};
    fr_pbw graph, sm, mg, meta, sig, entry, index, data;
    fr_pbw *all[] = {&graph, &sm, &mg, &meta, &sig, &entry, &index, &data};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) fr_pbw_init(all[i]);
    int rc = 0;
    pb_reader r = pb_make(pb, pb_len);
    pb_field f;
    while (rc >= 0 && pb_more(&r)) {
        if (pb_next(&r, &f)) {
            fprintf(stderr, "sm_from_pb: %s: malformed GraphDef\n", argv[1]);
            rc = -1;
            break;
        }
        if (f.number == 1 && f.wire == PB_LEN && (rc = as_variable(f.ptr, f.len, &graph, &v)) != 0) {
            if (rc < 0) fprintf(stderr, "sm_from_pb: out of memory\n");
            continue;
        }
        if (f.wire == PB_LEN) fr_pbw_bytes(&graph, (int)f.number, f.ptr, f.len); /* nodes, library, versions */
    }
    if (rc >= 0) {
        qsort(v.t, (size_t)v.n, sizeof *v.t, cmp_key);
        sb_bundle(&index, &data, v.t, v.n, 1, 0);
        fr_pbw_str(&meta, 4, "serve"); /* MetaInfoDef.tags */
        fr_pbw_msg(&mg, 1, &meta);
        fr_pbw_msg(&mg, 2, &graph);
        sb_tensor_info(&sig, 1, "input", argv[3], -1, NULL);
        sb_tensor_info(&sig, 2, "output", argv[4], -1, NULL);
        fr_pbw_str(&sig, 3, "tensorflow/serving/predict");
        fr_pbw_str(&entry, 1, "serving_default");
        fr_pbw_msg(&entry, 2, &sig);
        fr_pbw_msg(&mg, 5, &entry); /* MetaGraphDef.signature_def */
        fr_pbw_int(&sm, 1, 1);      /* saved_model_schema_version */
        fr_pbw_msg(&sm, 2, &mg);
        int failed = 0;
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) failed |= all[i]->failed;
        size_t n = strlen(argv[2]) + 64;
        char *path = malloc(n);
        if (failed || !path) {
            fprintf(stderr, "sm_from_pb: out of memory\n");
            rc = -1;
        } else {
            snprintf(path, n, "%s/variables", argv[2]);
            if ((mkdir(argv[2], 0755) && errno != EEXIST) || (mkdir(path, 0755) && errno != EEXIST)) {
                fprintf(stderr, "sm_from_pb: cannot create %s: %s\n", path, strerror(errno));
                rc = -1;
            }
            snprintf(path, n, "%s/saved_model.pb", argv[2]);
            if (rc >= 0) rc = write_file(path, &sm);
            snprintf(path, n, "%s/variables/variables.index", argv[2]);
            if (rc >= 0) rc = write_file(path, &index);
            snprintf(path, n, "%s/variables/variables.data-00000-of-00001", argv[2]);
            if (rc >= 0) rc = write_file(path, &data);
        }
        free(path);
        if (rc >= 0) printf("%s: %d variables, %zu bytes of values\n", argv[2], v.n, data.len);
    }
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) fr_pbw_free(all[i]);
    for (int i = 0; i < v.n; i++) free((void *)v.t[i].key);
    for (int i = 0; i < v.n_owned; i++) free(v.owned[i]);
    free(v.t);
    free(v.owned);
    free(pb);
    return rc < 0 ? 1 : 0;
}

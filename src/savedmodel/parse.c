/* saved_model.pb: meta graphs, their tags, signatures and the pieces the
 * conversion needs (graph_def, stripped_op_list, object_graph_def); opening
 * a SavedModel directory with its variables bundle. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "pb/mapfile.h"
#include "savedmodel/savedmodel.h"

#define SM_MAX_META_GRAPHS 1024
#define SM_MAX_TAGS 1024
#define SM_MAX_SIGNATURES 65536
#define SM_MAX_TENSORS 65536

typedef struct {
    frost_savedmodel *sm;
    char **err;
    const char *what; /* "DIR/saved_model.pb" */
} parse_ctx;

static frost_status malformed(parse_ctx *c, const char *part, const uint8_t *at) {
    fr_errorf(c->err, "%s: malformed %s (byte offset %zu of %zu): truncated or corrupt", c->what, part,
              (size_t)(at - c->sm->pb), c->sm->pb_len);
    return FROST_E_PARSE;
}

static const char *pool_str(parse_ctx *c, const uint8_t *p, size_t n) {
    return fr_pool_strndup(&c->sm->pool, (const char *)p, n);
}

/* Number of fields `number` (length-delimited) in a message; -1 malformed. */
static long count_fields(const uint8_t *p, size_t len, uint32_t number) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    long n = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return -1;
        if (f.number == number && f.wire == PB_LEN) n++;
    }
    return n;
}

/* TensorInfo: name = 1, dtype = 2, tensor_shape = 3, coo_sparse = 4, composite_tensor = 5. */
static frost_status parse_tensor_info(parse_ctx *c, const char *key, const uint8_t *p, size_t len, fr_sm_tensor *t) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    t->key = key;
    t->name = "";
    t->dtype = 0;
    t->shape.rank = -1;
    t->is_ref = t->has_shape = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return malformed(c, "TensorInfo", r.p);
        if (f.number == 1 && f.wire == PB_LEN) {
            if (!(t->name = pool_str(c, f.ptr, f.len))) return FROST_E_NO_MEMORY;
        } else if ((f.number == 4 || f.number == 5) && f.wire == PB_LEN) {
            t->name = "";
        } else if (f.number == 2 && f.wire == PB_VARINT) {
            t->dtype = (int)(f.u & 0x7fffffff);
            t->is_ref = t->dtype > 100;
            if (t->is_ref) t->dtype -= 100; /* reference types (DT_FLOAT_REF) */
        } else if (f.number == 3 && f.wire == PB_LEN) {
            const char *why = "";
            t->has_shape = 1;
            if (fr_pb_parse_shape(f.ptr, f.len, &t->shape, &why)) {
                fr_errorf(c->err, "%s: tensor '%s' of a signature: %s", c->what, key, why);
                return FROST_E_PARSE;
            }
        }
    }
    return FROST_OK;
}

typedef struct {
    const char *key;
    const uint8_t *p;
    size_t len;
    int order;
} map_entry;

static int cmp_entry(const void *a, const void *b) {
    const map_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : x->order - y->order;
}

/* Collects the entries {key = 1, value = 2} of the map field `number` of a
 * message, sorted by key; a repeated key keeps its last value (protobuf's
 * rule).  *out is malloc'ed. */
static frost_status map_entries(parse_ctx *c, const uint8_t *p, size_t len, uint32_t number, long max,
                                const char *what, map_entry **out, int *n_out) {
    *out = NULL;
    *n_out = 0;
    long n = count_fields(p, len, number);
    if (n < 0) return malformed(c, what, p);
    if (n > max) {
        fr_errorf(c->err, "%s: more than %ld entries in a %s (the limit)", c->what, max, what);
        return FROST_E_LIMIT;
    }
    map_entry *e = calloc((size_t)n + 1, sizeof *e);
    if (!e) return FROST_E_NO_MEMORY;
    pb_reader r = pb_make(p, len);
    pb_field f;
    int k = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) break;
        if (f.number != number || f.wire != PB_LEN) continue;
        pb_reader m = pb_make(f.ptr, f.len);
        pb_field g;
        map_entry me = {"", (const uint8_t *)"", 0, k};
        while (pb_more(&m)) {
            if (pb_next(&m, &g)) {
                free(e);
                return malformed(c, what, f.ptr);
            }
            if (g.number == 1 && g.wire == PB_LEN) {
                if (!(me.key = pool_str(c, g.ptr, g.len))) {
                    free(e);
                    return FROST_E_NO_MEMORY;
                }
            } else if (g.number == 2 && g.wire == PB_LEN) {
                me.p = g.ptr;
                me.len = g.len;
            }
        }
        e[k++] = me;
    }
    qsort(e, (size_t)k, sizeof *e, cmp_entry);
    int m = 0;
    for (int i = 0; i < k; i++) {
        if (m && !strcmp(e[m - 1].key, e[i].key)) e[m - 1] = e[i];
        else e[m++] = e[i];
    }
    *out = e;
    *n_out = m;
    return FROST_OK;
}

static frost_status parse_tensor_map(parse_ctx *c, const uint8_t *p, size_t len, uint32_t number, int *n_out,
                                     fr_sm_tensor **out) {
    map_entry *e;
    int n;
    frost_status st = map_entries(c, p, len, number, SM_MAX_TENSORS, "SignatureDef", &e, &n);
    if (st != FROST_OK) return st;
    *out = fr_pool_alloc(&c->sm->pool, sizeof **out * (size_t)(n + 1));
    if (!*out) st = FROST_E_NO_MEMORY;
    for (int i = 0; st == FROST_OK && i < n; i++) st = parse_tensor_info(c, e[i].key, e[i].p, e[i].len, &(*out)[i]);
    *n_out = n;
    free(e);
    return st;
}

/* SignatureDef: inputs = 1, outputs = 2, method_name = 3. */
static frost_status parse_signature(parse_ctx *c, const char *key, const uint8_t *p, size_t len, fr_sm_signature *s) {
    s->key = key;
    s->method = "";
    frost_status st = parse_tensor_map(c, p, len, 1, &s->n_inputs, &s->inputs);
    if (st == FROST_OK) st = parse_tensor_map(c, p, len, 2, &s->n_outputs, &s->outputs);
    pb_reader r = pb_make(p, len);
    pb_field f;
    while (st == FROST_OK && pb_more(&r)) {
        if (pb_next(&r, &f)) return malformed(c, "SignatureDef", r.p);
        if (f.number == 3 && f.wire == PB_LEN && !(s->method = pool_str(c, f.ptr, f.len))) st = FROST_E_NO_MEMORY;
    }
    return st;
}

static frost_status parse_meta_graph(parse_ctx *c, const uint8_t *p, size_t len, fr_sm_meta_graph *mg) {
    pb_reader r = pb_make(p, len);
    pb_field f;
    int have_graph = 0;
    mg->op_list = mg->object_graph = mg->versions = (const uint8_t *)""; /* absent: empty */
    mg->tags = NULL;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return malformed(c, "MetaGraphDef", r.p);
        if (f.wire != PB_LEN) continue;
        if (f.number == 1) { /* MetaInfoDef: stripped_op_list = 2, tags = 4 */
            long n = count_fields(f.ptr, f.len, 4);
            if (n < 0) return malformed(c, "MetaInfoDef", f.ptr);
            if (n > SM_MAX_TAGS) {
                fr_errorf(c->err, "%s: a meta graph has more than %d tags", c->what, SM_MAX_TAGS);
                return FROST_E_LIMIT;
            }
            mg->tags = fr_pool_alloc(&c->sm->pool, sizeof *mg->tags * (size_t)(n + 1));
            if (!mg->tags) return FROST_E_NO_MEMORY;
            mg->n_tags = 0;
            pb_reader m = pb_make(f.ptr, f.len);
            pb_field g;
            while (pb_more(&m)) {
                if (pb_next(&m, &g)) return malformed(c, "MetaInfoDef", m.p);
                if (g.number == 4 && g.wire == PB_LEN) {
                    if (!(mg->tags[mg->n_tags++] = pool_str(c, g.ptr, g.len))) return FROST_E_NO_MEMORY;
                } else if (g.number == 2 && g.wire == PB_LEN) {
                    mg->op_list = g.ptr;
                    mg->op_list_len = g.len;
                }
            }
        } else if (f.number == 2) {
            mg->graph_def = f.ptr;
            mg->graph_def_len = f.len;
            have_graph = 1;
        } else if (f.number == 7) {
            mg->object_graph = f.ptr;
            mg->object_graph_len = f.len;
        }
    }
    if (!have_graph) mg->graph_def = (const uint8_t *)"";
    /* GraphDef.versions = 4, kept for the frozen graph */
    r = pb_make(mg->graph_def, mg->graph_def_len);
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return malformed(c, "GraphDef", r.p);
        if (f.number == 4 && f.wire == PB_LEN) mg->versions = f.ptr, mg->versions_len = f.len;
    }
    map_entry *e;
    int n;
    frost_status st = map_entries(c, p, len, 5, SM_MAX_SIGNATURES, "signature_def map", &e, &n);
    if (st != FROST_OK) return st;
    mg->signatures = fr_pool_alloc(&c->sm->pool, sizeof *mg->signatures * (size_t)(n + 1));
    if (!mg->signatures) st = FROST_E_NO_MEMORY;
    for (int i = 0; st == FROST_OK && i < n; i++) st = parse_signature(c, e[i].key, e[i].p, e[i].len, &mg->signatures[i]);
    mg->n_signatures = n;
    free(e);
    return st;
}

static frost_status parse_savedmodel(frost_savedmodel *sm, char **err) {
    char what[4096];
    snprintf(what, sizeof what, "%s%ssaved_model.pb", sm->source, strcmp(sm->source, "<memory>") ? "/" : ":");
    parse_ctx c = {sm, err, what};
    long n = count_fields(sm->pb, sm->pb_len, 2);
    if (n < 0) {
        pb_reader r = pb_make(sm->pb, sm->pb_len);
        pb_field f;
        while (pb_more(&r) && !pb_next(&r, &f)) {
        }
        return malformed(&c, "SavedModel", r.p);
    }
    if (n == 0) {
        fr_errorf(err, "%s: no meta graph: not a SavedModel", what);
        return FROST_E_PARSE;
    }
    if (n > SM_MAX_META_GRAPHS) {
        fr_errorf(err, "%s: more than %d meta graphs", what, SM_MAX_META_GRAPHS);
        return FROST_E_LIMIT;
    }
    sm->mg = fr_pool_alloc(&sm->pool, sizeof *sm->mg * (size_t)n);
    if (!sm->mg) return FROST_E_NO_MEMORY;
    pb_reader r = pb_make(sm->pb, sm->pb_len);
    pb_field f;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return malformed(&c, "SavedModel", r.p);
        if (f.number != 2 || f.wire != PB_LEN) continue;
        frost_status st = parse_meta_graph(&c, f.ptr, f.len, &sm->mg[sm->n_meta_graphs]);
        if (st != FROST_OK) return st;
        sm->n_meta_graphs++;
    }
    return FROST_OK;
}

void frost_savedmodel_free(frost_savedmodel *sm) {
    if (!sm) return;
    if (sm->pb_map) munmap(sm->pb_map, sm->pb_len);
    fr_bundle_free(sm->bundle);
    fr_pool_free(&sm->pool);
    free(sm->source);
    free(sm);
}

static frost_savedmodel *sm_new(const char *source) {
    frost_savedmodel *sm = calloc(1, sizeof *sm);
    if (!sm) return NULL;
    if (!(sm->source = strdup(source))) {
        free(sm);
        return NULL;
    }
    return sm;
}

static frost_status sm_finish(frost_savedmodel *sm, frost_status st, frost_savedmodel **out, char **err) {
    if (st == FROST_E_NO_MEMORY) fr_errorf(err, "%s: out of memory", sm->source);
    if (st != FROST_OK) {
        frost_savedmodel_free(sm);
        return st;
    }
    *out = sm;
    return FROST_OK;
}

frost_status fr_sm_open_memory(const void *pb, size_t pb_len, const void *index, size_t index_len,
                               const void *const *shards, const size_t *shard_lens, int n_shards,
                               frost_savedmodel **out, char **err) {
    if (err) *err = NULL;
    *out = NULL;
    frost_savedmodel *sm = sm_new("<memory>");
    if (!sm) return FROST_E_NO_MEMORY;
    sm->pb = pb_len ? pb : (const uint8_t *)"";
    sm->pb_len = pb_len;
    frost_status st = parse_savedmodel(sm, err);
    if (st == FROST_OK && index)
        st = fr_bundle_open_memory(index, index_len, shards, shard_lens, n_shards, &sm->bundle, err);
    return sm_finish(sm, st, out, err);
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fr_sm_is_savedmodel_path(const char *path) {
    if (!path) return 0;
    if (is_dir(path)) return 1;
    const char *base = strrchr(path, '/');
    return !strcmp(base ? base + 1 : path, "saved_model.pb");
}

frost_status frost_savedmodel_open(const char *path, frost_savedmodel **out, char **err) {
    if (err) *err = NULL;
    if (!out) return FROST_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!path) {
        fr_errorf(err, "frost_savedmodel_open: path is NULL");
        return FROST_E_INVALID_ARGUMENT;
    }
    /* the directory: PATH itself, or the folder of PATH/saved_model.pb */
    size_t n = strlen(path);
    char *dir = malloc(n + 32);
    if (!dir) return FROST_E_NO_MEMORY;
    memcpy(dir, path, n + 1);
    if (!is_dir(path)) {
        if (!fr_sm_is_savedmodel_path(path)) {
            fr_errorf(err, "%s: not a SavedModel (a directory, or the path of its saved_model.pb)", path);
            free(dir);
            return FROST_E_INVALID_ARGUMENT;
        }
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else strcpy(dir, ".");
    }
    while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/') dir[strlen(dir) - 1] = 0;
    frost_savedmodel *sm = sm_new(dir);
    char *file = malloc(n + 64);
    if (!sm || !file) {
        free(dir);
        free(file);
        frost_savedmodel_free(sm);
        return FROST_E_NO_MEMORY;
    }
    snprintf(file, n + 64, "%s/saved_model.pb", dir);
    frost_status st = FROST_OK;
    struct stat fs;
    if (stat(file, &fs) != 0) {
        int e = errno;
        snprintf(file, n + 64, "%s/saved_model.pbtxt", dir);
        if (e == ENOENT && stat(file, &fs) == 0)
            fr_errorf(err, "%s: the SavedModel is in text format (saved_model.pbtxt); frost reads saved_model.pb", dir);
        else if (e == ENOENT)
            fr_errorf(err, "%s: no saved_model.pb in this directory: not a SavedModel (in TensorFlow Serving's "
                      "MODEL/VERSION/ layout, name a version folder)", dir);
        else
            fr_errorf(err, "%s/saved_model.pb: %s", dir, strerror(e));
        st = FROST_E_IO;
    } else {
        /* variables/variables.{index,data-*}: absent for a model without variables */
        snprintf(file, n + 64, "%s/variables/variables.index", dir);
        struct stat vs;
        if (stat(file, &vs) == 0) {
            snprintf(file, n + 64, "%s/variables/variables", dir);
            st = fr_bundle_open(file, &sm->bundle, err);
        }
    }
    if (st == FROST_OK) {
        /* saved_model.pb mapped, all pages at once (on virtual machines a
         * fresh page of the heap costs several times a page of the page
         * cache), right after the data shard where it can: the bundle then
         * unmaps both at once, which costs one shootdown of the other cores'
         * TLBs instead of two */
        snprintf(file, n + 64, "%s/saved_model.pb", dir);
        fr_bundle *b = sm->bundle;
        const void *prev = b && b->num_shards && b->map[0] ? b->map[0] : NULL;
        void *map = NULL;
        st = fr_map_file_after(file, FR_MAP_POPULATE, prev, prev ? b->shard_len[0] : 0, &map, &sm->pb, &sm->pb_len, err);
        if (st == FROST_OK && map && prev && (uintptr_t)map == (uintptr_t)prev + fr_map_extent(b->shard_len[0]))
            b->tail = fr_map_extent(sm->pb_len); /* the bundle's now (sm holds a reference on it) */
        else
            sm->pb_map = map;
    }
    if (st == FROST_OK) st = parse_savedmodel(sm, err);
    free(file);
    free(dir);
    return sm_finish(sm, st, out, err);
}

static int has_tag(const fr_sm_meta_graph *mg, const char *tag) {
    for (int i = 0; i < mg->n_tags; i++)
        if (!strcmp(mg->tags[i], tag)) return 1;
    return 0;
}

int frost_savedmodel_find_meta_graph(const frost_savedmodel *sm, const char *const *tags, int n_tags) {
    static const char *const serve[] = {"serve"};
    if (!sm) return -1;
    if (!tags) tags = serve, n_tags = 1;
    for (int m = 0; m < sm->n_meta_graphs; m++) {
        const fr_sm_meta_graph *mg = &sm->mg[m];
        int ok = 1;
        for (int i = 0; ok && i < n_tags; i++) ok = tags[i] && has_tag(mg, tags[i]);
        for (int i = 0; ok && i < mg->n_tags; i++) {
            int found = 0;
            for (int k = 0; !found && k < n_tags; k++) found = !strcmp(tags[k], mg->tags[i]);
            ok = found;
        }
        if (ok) return m;
    }
    return -1;
}

int fr_sm_default_meta_graph(const frost_savedmodel *sm, char **err) { return fr_sm_meta_graph_of(sm, NULL, 0, err); }

int frost_savedmodel_find_signature(const frost_savedmodel *sm, int m, const char *key) {
    if (!sm) return -1;
    if (m < 0) m = frost_savedmodel_find_meta_graph(sm, NULL, 0);
    if (m < 0 || m >= sm->n_meta_graphs) return -1;
    const fr_sm_meta_graph *mg = &sm->mg[m];
    if (key) {
        for (int i = 0; i < mg->n_signatures; i++)
            if (!strcmp(mg->signatures[i].key, key)) return i;
        return -1;
    }
    int found = frost_savedmodel_find_signature(sm, m, "serving_default");
    if (found >= 0) return found;
    for (int i = 0; i < mg->n_signatures; i++) {
        if (!strcmp(mg->signatures[i].key, "__saved_model_init_op")) continue;
        if (found >= 0) return -1; /* several: none is the default */
        found = i;
    }
    return found;
}

int fr_sm_default_signature(const frost_savedmodel *sm, int m, char **err) { return fr_sm_signature_of(sm, m, NULL, err); }

/* Calibration on a directory of images (frost_quantizer_observe_dir,
 * frost_quantize_graph): every image file under it, in byte order of the
 * paths, decoded and preprocessed as `frost classify` does, observed in
 * batches of FR_QUANT_DIR_BATCH items.  With FROST_QUANTIZE_AUGMENT each
 * image also gives its mirror image and three crops of 3/4 of its width
 * and height (centre, top left, bottom right), resized to the input like
 * the image itself: more activation statistics from few photos. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "quant/quant.h"
#include "runtime/runtime.h"

#define FR_QUANT_DIR_BATCH 8
#define FR_QUANT_VIEWS 5 /* the image, its mirror, three crops */

typedef struct {
    frost_quantizer *q;
    frost_preprocess pp;
    size_t in_n;
    float *batch;
    int nb, cap, images, max_images; /* cap: items a batch */
    char **error_out;
} dir_state;

/* View v of `im` (1: mirrored, 2-4: a 3/4 crop) into `out`, which has room. */
static void make_view(const frost_image *im, int v, frost_image *out) {
    int w = im->width, h = im->height;
    int cw = v >= 2 ? w - w / 4 : w, ch = v >= 2 ? h - h / 4 : h;
    int x0 = v == 2 ? (w - cw) / 2 : v == 4 ? w - cw : 0, y0 = v == 2 ? (h - ch) / 2 : v == 4 ? h - ch : 0;
    out->width = cw, out->height = ch;
    for (int y = 0; y < ch; y++)
        for (int x = 0; x < cw; x++) {
            int sx = v == 1 ? w - 1 - x : x0 + x;
            memcpy(out->rgb + ((size_t)y * (size_t)cw + (size_t)x) * 3,
                   im->rgb + ((size_t)(y0 + y) * (size_t)w + (size_t)sx) * 3, 3);
        }
}

static frost_status flush(dir_state *s) {
    frost_status st = s->nb ? frost_quantizer_observe(s->q, s->nb, s->batch, s->error_out) : FROST_OK;
    s->nb = 0;
    return st;
}

/* Observes one file: skipped (FROST_OK) when it is not an image by its first bytes. */
static frost_status observe_file(dir_state *s, const char *path) {
    unsigned char magic[16];
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f) fclose(f);
    if (!f) {
        fr_errorf(s->error_out, "%s: %s", path, strerror(errno));
        return FROST_E_IO;
    }
    if (frost_image_detect(magic, got) == FROST_IMAGE_UNKNOWN) return FROST_OK;
    frost_image *im = NULL;
    frost_status st = frost_image_load(path, NULL, &im, s->error_out);
    if (st != FROST_OK) return st;
    int views = (s->q->flags & FROST_QUANTIZE_AUGMENT) && im->width >= 4 && im->height >= 4 ? FR_QUANT_VIEWS : 1;
    frost_image view = {0, 0, views > 1 ? malloc((size_t)im->width * (size_t)im->height * 3) : NULL};
    if (views > 1 && !view.rgb) {
        frost_image_free(im);
        fr_errorf(s->error_out, "%s: out of memory", path);
        return FROST_E_NO_MEMORY;
    }
    for (int v = 0; v < views && st == FROST_OK; v++) {
        if (v) make_view(im, v, &view);
        st = frost_image_preprocess(v ? &view : im, &s->pp, s->batch + (size_t)s->nb * s->in_n);
        if (st != FROST_OK) fr_errorf(s->error_out, "%s: cannot preprocess the image", path);
        else if (++s->nb == s->cap) st = flush(s);
    }
    free(view.rgb);
    frost_image_free(im);
    s->images += st == FROST_OK;
    return st;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }
static int visible(const struct dirent *d) { return d->d_name[0] != '.'; }

/* Walks dir in byte order of the names (hidden entries left out; symbolic
 * links to directories not followed), observing every image file. */
static frost_status walk(dir_state *s, const char *dir) {
    struct dirent **names = NULL;
    int n = scandir(dir, &names, visible, by_name);
    if (n < 0) {
        fr_errorf(s->error_out, "cannot read the calibration directory %s: %s", dir, strerror(errno));
        return FROST_E_IO;
    }
    frost_status st = FROST_OK;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
        char *path = st == FROST_OK && (!s->max_images || s->images < s->max_images) ? malloc(len) : NULL;
        struct stat sb;
        if (path) {
            snprintf(path, len, "%s/%s", dir, names[i]->d_name);
            if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) st = walk(s, path);
            else if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) st = observe_file(s, path);
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return st;
}

frost_status frost_quantizer_observe_dir(frost_quantizer *q, const char *dir, const frost_preprocess *preprocess,
                                         int max_images, int *images_out, char **error_out) {
    if (error_out) *error_out = NULL;
    if (images_out) *images_out = 0;
    if (!q || !dir || max_images < 0) {
        fr_errorf(error_out, "frost_quantizer_observe_dir: %s", !q || !dir ? "NULL argument" : "max_images < 0");
        return FROST_E_INVALID_ARGUMENT;
    }
    int cap = frost_model_max_batch(q->model) < FR_QUANT_DIR_BATCH ? frost_model_max_batch(q->model) : FR_QUANT_DIR_BATCH;
    dir_state s = {q, {0, 0, 0.0f, 255.0f, FROST_RESIZE_TF1}, 0, NULL, 0, cap, 0, max_images, error_out};
    if (preprocess) s.pp = *preprocess;
    frost_image_spec spec;
    frost_status st = frost_model_image_spec(q->model, &spec, error_out);
    if (st != FROST_OK) return st;
    if (!s.pp.width || !s.pp.height) s.pp.width = spec.width, s.pp.height = spec.height;
    if (s.pp.width != spec.width || s.pp.height != spec.height || spec.input != 0 || !(s.pp.std != 0.0f)) {
        fr_errorf(error_out, "frost_quantizer_observe_dir: %s", !(s.pp.std != 0.0f) ? "preprocess std is 0"
                                                                   : "the preprocessing size is not the model's input");
        return FROST_E_INVALID_ARGUMENT;
    }
    s.in_n = (size_t)s.pp.width * (size_t)s.pp.height * 3;
    if (!(s.batch = malloc(sizeof(float) * s.in_n * FR_QUANT_DIR_BATCH))) {
        fr_errorf(error_out, "frost_quantizer_observe_dir: out of memory");
        return FROST_E_NO_MEMORY;
    }
    st = walk(&s, dir);
    if (st == FROST_OK) st = flush(&s);
    free(s.batch);
    if (st == FROST_OK && s.images == 0) {
        fr_errorf(error_out, "no image in the calibration directory %s", dir);
        st = FROST_E_INVALID_ARGUMENT;
    }
    if (images_out) *images_out = s.images;
    return st;
}

frost_status frost_quantize_graph(const frost_graph *graph, const frost_options *options, unsigned flags,
                                  const char *dir, const frost_preprocess *preprocess, frost_graph **graph_out,
                                  char **error_out) {
    if (error_out) *error_out = NULL;
    if (!graph_out || !graph) {
        fr_errorf(error_out, "frost_quantize_graph: NULL argument");
        return FROST_E_INVALID_ARGUMENT;
    }
    *graph_out = NULL;
    frost_quantizer *q = NULL;
    void *pb = NULL;
    size_t len = 0;
    frost_options opt;
    frost_status st = fr_options_read(graph, options, &opt, error_out);
    opt.max_batch = FR_QUANT_DIR_BATCH; /* as frost quantize's: the same ranges, to the bit */
    if (st == FROST_OK) st = frost_quantizer_create(graph, &opt, flags, &q, error_out);
    if (st == FROST_OK) st = frost_quantizer_observe_dir(q, dir, preprocess, 0, NULL, error_out);
    if (st == FROST_OK) st = frost_quantizer_graphdef(q, &pb, &len, error_out);
    if (st == FROST_OK) st = frost_graph_load_memory(pb, len, 1, graph_out, error_out);
    frost_free(pb);
    frost_quantizer_free(q);
    return st;
}

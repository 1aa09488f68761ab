/* The classifier's rules, shared by every frost classifier (`frost classify`,
 * `frost serve`, `frost bench`, the Python package): which input takes
 * images and at what size (label_image's fallbacks), and the ranking of the
 * scores. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "runtime/runtime.h"

/* ------------------------------------------------------------ image spec */

static void spec_clear(frost_image_spec *s) {
    memset(s, 0, sizeof *s);
    s->input = -1;
    s->shape.rank = -1;
}

static void spec_size(frost_image_spec *s, int height, int width, int channels) {
    s->height = height;
    s->width = width;
    s->channels = channels;
    s->shape = (frost_shape){4, {-1, height, width, channels}};
}

/* "[d0,d1,...]" or "[?]" into buf. */
static const char *shape_str(const frost_shape *shape, char *buf, size_t size) {
    if (shape->rank < 0) {
        snprintf(buf, size, "[?]");
        return buf;
    }
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < shape->rank && n < size; d++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", d ? "," : "", (long long)shape->dims[d]);
    if (n < size) snprintf(buf + n, size - n, "]");
    return buf;
}

/* The Placeholder `name` ("x" or "x:0") of g, or -1. */
static int placeholder_index(const frost_graph *g, const char *name) {
    size_t len = strlen(name);
    if (len > 2 && !strcmp(name + len - 2, ":0")) len -= 2;
    for (int i = 0; i < frost_graph_placeholder_count(g); i++) {
        const char *p = frost_graph_placeholder_name(g, i);
        if (strlen(p) == len && !strncmp(p, name, len)) return i;
    }
    return -1;
}

frost_status frost_graph_image_spec(const frost_graph *g, const char *input, int width, int height,
                                    frost_image_spec *spec, char **err) {
    if (err) *err = NULL;
    if (spec) spec_clear(spec);
    if (!g || !spec || width < 0 || height < 0) {
        fr_errorf(err, "frost_graph_image_spec: %s", !g || !spec ? "graph or spec_out is NULL" : "negative size");
        return FROST_E_INVALID_ARGUMENT;
    }
    if (frost_graph_sink_count(g) == 1) spec->output_name = frost_graph_sink_name(g, 0);
    /* the input: named, or the only Placeholder, or the one named "input" */
    int n = frost_graph_placeholder_count(g), ph = -1;
    if (input) {
        ph = placeholder_index(g, input);
        spec->input_name = input;
    } else if (n == 1) {
        ph = 0;
    } else {
        ph = placeholder_index(g, "input");
    }
    spec->input = ph;
    if (ph >= 0 && !input) spec->input_name = frost_graph_placeholder_name(g, ph);
    if (!spec->input_name) return FROST_OK; /* none chosen: the caller names one */

    /* the size: the Placeholder's [N, H, W, C] where known, else the caller's, else label_image's 299 */
    frost_shape shape = {.rank = -1};
    if (ph >= 0) frost_graph_placeholder_shape(g, ph, &shape);
    if (shape.rank >= 0 && shape.rank != 4) return FROST_OK; /* not an image input: compiled as declared */
    int64_t sh = shape.rank == 4 ? shape.dims[1] : -1, sw = shape.rank == 4 ? shape.dims[2] : -1;
    int64_t sc = shape.rank == 4 ? shape.dims[3] : -1;
    if ((sh > 0 && height && height != sh) || (sw > 0 && width && width != sw)) {
        char sb[256];
        fr_errorf(err, "%s: width x height %dx%d conflict with input '%s' of shape %s", g->source,
                  width ? width : (int)sw, height ? height : (int)sh, spec->input_name,
                  shape_str(&shape, sb, sizeof sb));
        spec_clear(spec);
        return FROST_E_INVALID_ARGUMENT;
    }
    spec_size(spec, sh > 0 ? (int)sh : height ? height : FROST_IMAGE_DEFAULT_SIZE,
              sw > 0 ? (int)sw : width ? width : FROST_IMAGE_DEFAULT_SIZE, sc > 0 ? (int)sc : 3);
    spec->needs_shape = sh <= 0 || sw <= 0 || sc <= 0;
    return FROST_OK;
}

frost_status frost_model_image_spec(const frost_model *m, frost_image_spec *spec, char **err) {
    if (err) *err = NULL;
    if (spec) spec_clear(spec);
    if (!m || !spec) {
        fr_errorf(err, "frost_model_image_spec: model or spec_out is NULL");
        return FROST_E_INVALID_ARGUMENT;
    }
    int nin = frost_model_input_count(m);
    if (frost_model_output_count(m) == 1) spec->output_name = frost_model_output_name(m, 0);
    for (int i = 0; i < nin; i++) {
        frost_shape s;
        if (frost_model_input_shape(m, i, &s) != FROST_OK || s.rank != 4 || s.dims[3] != 3 || s.dims[1] <= 0 ||
            s.dims[2] <= 0 || s.dims[1] > INT_MAX || s.dims[2] > INT_MAX)
            continue;
        spec->input = i;
        spec->input_name = frost_model_input_name(m, i);
        spec_size(spec, (int)s.dims[1], (int)s.dims[2], 3);
        return FROST_OK;
    }
    if (err) { /* name every input with its shape */
        char list[1024] = "", sb[256];
        size_t len = 0;
        for (int i = 0; i < nin && len < sizeof list; i++) {
            frost_shape s = {.rank = -1};
            frost_model_input_shape(m, i, &s);
            len += (size_t)snprintf(list + len, sizeof list - len, "%s'%s' of shape %s", i ? ", " : "",
                                    frost_model_input_name(m, i), shape_str(&s, sb, sizeof sb));
        }
        if (nin == 1) fr_errorf(err, "%s: input %s is not an NHWC image with 3 channels", m->g->source, list);
        else fr_errorf(err, "%s: none of the inputs (%s) is an NHWC image with 3 channels", m->g->source, list);
    }
    return FROST_E_SHAPE;
}

/* ----------------------------------------------------------------- top k */

/* Whether index a ranks above index b: the larger score; NaN below every
 * number; equal scores (NaNs too): the lower index. */
static int ranks_above(const float *s, int a, int b) {
    float x = s[a], y = s[b];
    if (isnan(x) || isnan(y)) return isnan(x) != isnan(y) ? !isnan(x) : a < b;
    return x != y ? x > y : a < b;
}

/* Sifts h[i] down a heap of n whose root ranks lowest (the worst kept). */
static void sift_down(const float *s, int *h, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && ranks_above(s, h[w], h[l])) w = l;
        if (r < n && ranks_above(s, h[w], h[r])) w = r;
        if (w == i) return;
        int t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

frost_status frost_top_k(const float *scores, size_t count, int k, int *indices, float *scores_out, int *count_out) {
    if (!count_out || k < 0 || count > INT_MAX || (!scores && count > 0)) return FROST_E_INVALID_ARGUMENT;
    int n = (size_t)k < count ? k : (int)count;
    if (n > 0 && !indices) return FROST_E_INVALID_ARGUMENT;
    /* indices[0..n) as a heap of the n best so far, its root the worst of them */
    for (int i = 0; i < (int)count; i++) {
        if (i < n) {
            int j = i;
            indices[j] = i;
            while (j > 0 && ranks_above(scores, indices[(j - 1) / 2], indices[j])) { /* sift up */
                int p = (j - 1) / 2, t = indices[p];
                indices[p] = indices[j];
                indices[j] = t;
                j = p;
            }
        } else if (n > 0 && ranks_above(scores, i, indices[0])) {
            indices[0] = i;
            sift_down(scores, indices, n, 0);
        }
    }
    /* heap sort: the worst goes to the end each time, leaving the best first */
    for (int m = n - 1; m > 0; m--) {
        int t = indices[0];
        indices[0] = indices[m];
        indices[m] = t;
        sift_down(scores, indices, m, 0);
    }
    if (scores_out)
        for (int i = 0; i < n; i++) scores_out[i] = scores[indices[i]];
    *count_out = n;
    return FROST_OK;
}

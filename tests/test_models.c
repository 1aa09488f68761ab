/* frost-test-labels: asan */
/* The real models in ../shared/models reproduce the stored outputs
 * (../shared/expected/tensors) within 1e-4, with optimisation on and off, on
 * the reference backend and the default backend; batches give the same
 * result as single runs.  Both models also reproduce the stored top-5 lists
 * (../shared/expected/<model>.top5.txt, 4 decimals) from the images; the
 * optimised and unoptimised reference plans agree within 1e-5. */
#include <stdlib.h>
#include <string.h>

#include "frost.h"
#include "testutil.h"

static const char *const v1 = "mobilenet_v1_0.25_128_quant_float";
static const char *const images[] = {"grace_hopper", "cat"};

static void check_model(const char *shared, const char *model, frost_backend backend, int no_optimize) {
    frost_options o;
    frost_options_init(&o);
    o.backend = backend;
    o.debug_flags = no_optimize ? FROST_DEBUG_NO_OPTIMIZE : 0;
    o.max_batch = 4;
    frost_model *m = NULL;
    char *err = NULL;
    frost_status st = frost_model_load(tu_path("%s/models/%s.pb", shared, model), &o, &m, &err);
    CHECK_MSG(st == FROST_OK, "%s: %s", model, err ? err : "");
    frost_free(err);
    if (!m) return;
    CHECK(frost_model_input_count(m) == 1 && frost_model_output_count(m) == 1);
    frost_context *c = NULL;
    CHECK(frost_context_create(m, &c, NULL) == FROST_OK);
    size_t ni = frost_model_input_size(m, 0), no = frost_model_output_size(m, 0);
    float *batch_in = calloc(ni * 2, sizeof(float)), *batch_want = calloc(no * 2, sizeof(float));
    float *out = calloc(no * 2, sizeof(float));
    int have = 0;
    for (int k = 0; k < 2; k++) {
        size_t isz = 0, osz = 0;
        float *in = tu_read_file(tu_path("%s/expected/tensors/%s__%s.input.f32", shared, model, images[k]), &isz);
        float *want = tu_read_file(tu_path("%s/expected/tensors/%s__%s.output.f32", shared, model, images[k]), &osz);
        if (!in || !want) {
            free(in), free(want);
            continue;
        }
        CHECK(isz == ni * sizeof(float) && osz == no * sizeof(float));
        if (isz == ni * sizeof(float) && osz == no * sizeof(float)) {
            st = frost_context_run1(c, 1, in, out);
            CHECK_MSG(st == FROST_OK, "%s", frost_context_error(c));
            double d = tu_max_abs_diff(out, want, no);
            CHECK_MSG(d <= 1e-4, "%s %s backend %d no_optimize %d: max abs diff %g", model, images[k], backend,
                      no_optimize, d);
            memcpy(batch_in + k * ni, in, isz);
            memcpy(batch_want + k * no, want, osz);
            have++;
        }
        free(in), free(want);
    }
    if (have == 2) {
        st = frost_context_run1(c, 2, batch_in, out);
        CHECK_MSG(st == FROST_OK, "%s", frost_context_error(c));
        double d = tu_max_abs_diff(out, batch_want, 2 * no);
        CHECK_MSG(d <= 1e-4, "%s batch 2: max abs diff %g", model, d);
    }
    free(batch_in), free(batch_want), free(out);
    frost_context_free(c);
    frost_model_free(m);
}

/* Top-5 of every image listed in <model>.top5.txt ("image idx:label=p | ..."). */
static void check_top5(const char *shared, const char *model) {
    char *txt = tu_read_file(tu_path("%s/expected/%s.top5.txt", shared, model), NULL);
    if (!txt) return;
    frost_options o;
    frost_options_init(&o);
    o.backend = FROST_BACKEND_REFERENCE;
    frost_model *m = NULL, *m_plain = NULL;
    CHECK(frost_model_load(tu_path("%s/models/%s.pb", shared, model), &o, &m, NULL) == FROST_OK);
    o.debug_flags = FROST_DEBUG_NO_OPTIMIZE;
    CHECK(frost_model_load(tu_path("%s/models/%s.pb", shared, model), &o, &m_plain, NULL) == FROST_OK);
    frost_context *c = NULL, *c_plain = NULL;
    if (!m || !m_plain || frost_context_create(m, &c, NULL) || frost_context_create(m_plain, &c_plain, NULL)) {
        CHECK(0);
        goto done;
    }
    frost_shape sh;
    frost_model_input_shape(m, 0, &sh);
    size_t ni = frost_model_input_size(m, 0), no = frost_model_output_size(m, 0);
    float *in = malloc(ni * sizeof(float)), *out = malloc(no * sizeof(float)), *out2 = malloc(no * sizeof(float));
    int lines = 0;
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        char image[256];
        if (sscanf(line, "%255s", image) != 1) continue;
        frost_image *img = NULL;
        if (frost_image_load(tu_path("%s/images/%s", shared, image), NULL, &img, NULL) != FROST_OK) {
            CHECK_MSG(0, "cannot load %s", image);
            continue;
        }
        frost_preprocess pp = {(int)sh.dims[2], (int)sh.dims[1], 128.0f, 128.0f, FROST_RESIZE_TF1};
        CHECK(frost_image_preprocess(img, &pp, in) == FROST_OK);
        frost_image_free(img);
        CHECK(frost_context_run1(c, 1, in, out) == FROST_OK);
        CHECK(frost_context_run1(c_plain, 1, in, out2) == FROST_OK);
        double d = tu_max_abs_diff(out, out2, no);
        CHECK_MSG(d <= 1e-5, "%s %s: optimised vs plain differ by %g", model, image, d);
        const char *p = line + strlen(image);
        for (int k = 0; k < 5; k++) {
            const char *eq = strchr(p, '=');
            float prob;
            if (!eq || sscanf(eq + 1, "%f", &prob) != 1) break;
            int idx = atoi(p + strspn(p, " |"));
            CHECK_MSG(idx >= 0 && (size_t)idx < no && fabs(out[idx] - prob) <= 1.5e-4, "%s %s: class %d = %.5f, expected %.4f",
                      model, image, idx, idx >= 0 && (size_t)idx < no ? out[idx] : -1.0f, prob);
            /* rank: nothing outside the list beats it by more than rounding */
            int better = 0;
            for (size_t j = 0; j < no; j++) better += out[j] > out[idx] + 1e-4f;
            CHECK_MSG(better <= k, "%s %s: class %d ranks below %d", model, image, idx, k);
            p = strchr(eq, '|');
            if (!p) break;
            p++;
        }
        lines++;
    }
    CHECK(lines == 4);
    free(in), free(out), free(out2);
done:
    frost_context_free(c);
    frost_context_free(c_plain);
    frost_model_free(m);
    frost_model_free(m_plain);
    free(txt);
}

int main(void) {
    const char *shared = tu_shared_dir();
    if (!shared) return 77;
    for (int no_opt = 0; no_opt < 2; no_opt++) {
        check_model(shared, v1, FROST_BACKEND_REFERENCE, no_opt);
        check_model(shared, v1, FROST_BACKEND_AUTO, no_opt);
    }
    check_top5(shared, v1);
    check_top5(shared, "mobilenet_v2_1.0_224_quant_float");
    return tu_done();
}

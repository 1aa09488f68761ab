/* The smallest complete use of libfrost: load a model once, classify a
 * handful of images with one context, print the top class of each.
 *
 *   simple MODEL.pb IMAGE...
 * The image size is the model's (frost_model_image_spec); preprocessing:
 * (pixel - 127.5) / 127.5, TF1 bilinear resize; the best class as every
 * frost classifier ranks them (frost_top_k).
 */
#include <stdio.h>
#include <stdlib.h>

#include <frost.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.pb IMAGE...\n", argv[0]);
        return 2;
    }
    frost_model *model = NULL;
    frost_context *ctx = NULL;
    char *err = NULL;
    frost_status st = frost_model_load(argv[1], NULL, &model, &err);
    if (st != FROST_OK) {
        fprintf(stderr, "%s: %s\n", frost_strerror(st), err ? err : "");
        frost_free(err);
        return 1;
    }
    frost_image_spec spec; /* which input takes images, and their size */
    size_t n_in = frost_model_input_size(model, 0), n_out = frost_model_output_size(model, 0);
    float *input = malloc(n_in * sizeof *input), *output = malloc(n_out * sizeof *output);
    int rc = 0;
    if (!input || !output || frost_model_image_spec(model, &spec, &err) != FROST_OK || spec.input != 0 ||
        frost_model_input_count(model) != 1 || frost_context_create(model, &ctx, &err) != FROST_OK) {
        fprintf(stderr, "cannot set up: %s\n", err ? err : "not a one-input image model, or out of memory");
        rc = 1;
        goto done;
    }
    frost_preprocess pp = {spec.width, spec.height, 127.5f, 127.5f, FROST_RESIZE_TF1};
    for (int i = 2; i < argc; i++) {
        frost_image *img = NULL;
        if ((st = frost_image_load(argv[i], NULL, &img, &err)) != FROST_OK ||
            (st = frost_image_preprocess(img, &pp, input)) != FROST_OK ||
            (st = frost_context_run1(ctx, 1, input, output)) != FROST_OK) {
            fprintf(stderr, "%s: %s\n", argv[i], err ? err : frost_context_error(ctx));
            frost_free(err);
            err = NULL;
            rc = 1;
        } else {
            int best = 0, found = 0;
            float score = 0.0f;
            frost_top_k(output, n_out, 1, &best, &score, &found);
            if (found) printf("%s: class %d (%.6f)\n", argv[i], best, score);
        }
        frost_image_free(img);
    }
done:
    frost_free(err);
    frost_context_free(ctx);
    frost_model_free(model);
    free(input);
    free(output);
    return rc;
}

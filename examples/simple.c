/* The smallest complete use of libfrost: load a model once, classify a
 * handful of images with one context, print the top class of each.
 *
 *   simple MODEL.pb IMAGE... [--size WxH] (default: the model's input size)
 * Preprocessing: (pixel - 127.5) / 127.5, TF1 bilinear resize.
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
    frost_shape in;
    frost_model_input_shape(model, 0, &in);
    size_t n_in = frost_model_input_size(model, 0), n_out = frost_model_output_size(model, 0);
    float *input = malloc(n_in * sizeof *input), *output = malloc(n_out * sizeof *output);
    int rc = 0;
    if (!input || !output || in.rank != 4 || frost_context_create(model, &ctx, &err) != FROST_OK) {
        fprintf(stderr, "cannot set up: %s\n", err ? err : "bad input shape or out of memory");
        rc = 1;
        goto done;
    }
    frost_preprocess pp = {(int)in.dims[2], (int)in.dims[1], 127.5f, 127.5f, FROST_RESIZE_TF1};
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
            size_t best = 0;
            for (size_t k = 1; k < n_out; k++)
                if (output[k] > output[best]) best = k;
            printf("%s: class %zu (%.6f)\n", argv[i], best, output[best]);
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

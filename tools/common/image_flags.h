/* The image flags: which input takes images and how they are preprocessed,
 * label_image's flags, parsed alike by every command that feeds a model
 * images from files (classify, quantize):
 *
 *   --input_layer NAME   --output_layer NAME   --input_width N   --input_height N
 *   --input_mean X (default 0)   --input_std X (default 255)   --resize tf1|tf2|align_corners
 *
 * and the classifier's rules that go with them (frost_graph_image_spec before
 * compiling, frost_model_image_spec after). */
#ifndef FROST_IMAGE_FLAGS_H
#define FROST_IMAGE_FLAGS_H

#include "frost.h"

typedef struct image_flags {
    const char *input_layer, *output_layer; /* NULL: chosen by the rules */
    int width, height;                      /* 0: not given */
    float mean, std;
    frost_resize resize;
    unsigned given; /* bit i: the preprocessing flag image_flags_preprocessing_names()[i] was given */
} image_flags;

/* label_image's defaults: mean 0, std 255, TF1 resize, nothing chosen. */
void image_flags_init(image_flags *f);

/* Parses argv[*i] if it is one of the image flags: returns 1 when consumed
 * (*i advanced), 0 when argv[*i] is another flag, -1 on a bad or missing
 * value (message printed). */
int image_flags_parse(image_flags *f, int argc, char **argv, int *i);

/* 0 when the values agree with each other (--input_std a non-zero number,
 * --input_mean finite), else -1 (message printed). */
int image_flags_check(const image_flags *f);

/* Where `graph` (loaded from `path`, for messages) takes images: sets
 * *input and *output (strings of the graph or of f) and, where the
 * Placeholder leaves the size open, *shape (the caller compiles with it as
 * the input's shape; *needs_shape = 1).  Returns 0, or -1 (message printed,
 * naming the candidates when the graph has several). */
int image_flags_choose(const image_flags *f, const frost_graph *graph, const char *path, const char **input,
                       const char **output, frost_shape *shape, int *needs_shape);

/* Appends to buf (size bytes, NUL-terminated, "" to start with) the
 * preprocessing flags given (--input_width, --input_height, --input_mean,
 * --input_std, --resize), each as ", --name" after the first: for a note
 * that they do not apply (a model that decodes images itself). */
void image_flags_given_names(const image_flags *f, char *buf, size_t size);

/* The preprocessing of a compiled model's image input (frost_model_image_spec)
 * with f's mean, std and resize.  0, or -1 (message printed). */
int image_flags_preprocess(const image_flags *f, const frost_model *model, frost_preprocess *pp);

#endif

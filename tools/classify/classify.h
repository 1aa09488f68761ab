/* Internals of `frost classify` shared by tools/classify/cmd_classify.c and
 * tools/classify/classify_*.c. */
#ifndef FROST_CLASSIFY_H
#define FROST_CLASSIFY_H

#include <stdio.h>

#include "frost.h"

typedef enum { CLS_TEXT = 0, CLS_JSONL, CLS_CSV } cls_format;

typedef struct cls_output {
    FILE *out;
    cls_format format;
    int headers;   /* text: print "path:" before each image's lines */
    char **labels; /* may be NULL */
    int num_labels;
    int header_done; /* csv: column names written */
} cls_output;

/* Prints one image's result in the chosen format: its k best classes (index
 * and score, best first, as frost_top_k ranks them). */
void cls_print_result(cls_output *o, const char *path, const int *index, const float *score, int k);
/* Records a failed image: always a message on stderr; jsonl also gets an
 * {"image", "error"} line so line-by-line consumers stay in step. */
void cls_print_error(cls_output *o, const char *path, const char *message);

/* Writes s as a JSON string literal (with quotes). */
void cls_json_string(FILE *f, const char *s);

/* The --self_test checks (synthetic image through decode, preprocess and
 * the model).  Returns 0 when every check passed. */
int cls_self_test(const frost_model *model, const frost_preprocess *pp, FILE *log);

/* Per-op profile table of a context compiled with profiling on. */
void cls_print_profile(const frost_context *ctx, FILE *f);

#endif

/* The input pipeline of `frost classify`: one thread enumerates the inputs
 * (files, directories walked recursively in sorted order, or paths read from
 * stdin as they arrive), worker threads read, decode and preprocess them into
 * a fixed ring of slots, and the compute thread takes the results strictly in
 * input order.  The ring bounds memory whatever the number of images. */
#ifndef FROST_CLASSIFY_PIPELINE_H
#define FROST_CLASSIFY_PIPELINE_H

#include "frost.h"

typedef struct cls_item {
    char *path;
    int from_dir;           /* found by walking a directory */
    int skipped;            /* from_dir and not an image (by magic bytes): no output */
    frost_status status;    /* decode + preprocess result */
    char *error;            /* message naming the file when status != FROST_OK */
    int width, height;      /* decoded size */
    float *input;           /* pp.height * pp.width * 3 floats when status == FROST_OK (not keep_bytes) */
    unsigned char *bytes;   /* keep_bytes: the file's contents when status == FROST_OK */
    size_t size, bytes_cap; /* its size, and the buffer's (kept for the slot's next file) */
} cls_item;

typedef struct cls_pipeline_config {
    char **inputs; /* files, directories, "-" (stdin: one path a line) */
    int num_inputs;
    int workers; /* decode threads (>= 1) */
    int slots;   /* ring size: images decoded ahead plus those held by the consumer */
    frost_decode_options decode;
    frost_preprocess pp;
    /* Read files without decoding them: each item gets the file's bytes (for
     * a model that decodes them itself: a string input).  Files found by
     * walking a directory are still skipped when not images by their magic
     * bytes; decode and pp are not used. */
    int keep_bytes;
} cls_pipeline_config;

typedef struct cls_pipeline cls_pipeline;

/* Starts the threads.  NULL on failure (message printed). */
cls_pipeline *cls_pipeline_start(const cls_pipeline_config *cfg);

/* The next item in input order, waiting until it is processed; NULL when
 * all inputs are done.  Items must be released in the order received. */
cls_item *cls_pipeline_next(cls_pipeline *p);

/* Like cls_pipeline_next but never waits: NULL when the next item is not
 * ready yet (or there is none). */
cls_item *cls_pipeline_try_next(cls_pipeline *p);

/* Gives the oldest received item's slot back to the pipeline. */
void cls_pipeline_release(cls_pipeline *p, cls_item *item);

/* Stops and joins the threads (a thread blocked reading stdin is left to
 * process exit), frees everything. */
void cls_pipeline_free(cls_pipeline *p);

/* Number of regular files the inputs name (directories walked), for the
 * progress bar; -1 when stdin is among them. */
long cls_count_inputs(char **inputs, int num_inputs);

#endif

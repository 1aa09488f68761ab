/* The feed's steps and slots (feed.c builds them, feed_run.c runs them). */
#ifndef FR_FEED_INTERNAL_H
#define FR_FEED_INTERNAL_H

#include "feed/example.h"
#include "feed/feed.h"

/* A tensor of the feed: its type and shape as known when compiling (rank
 * -1, dimensions -1: known only at run time). */
struct fd_slot {
    int dtype;
    int rank;
    int64_t dims[FROST_MAX_RANK];
    int node, index; /* the graph tensor */
};

enum { FD_PARSE = 1, FD_DECODE, FD_CAST, FD_EXPAND, FD_RESIZE, FD_IDENTITY };
enum { FD_ANY_IMAGE = 0, FD_JPEG_PNG, FD_BMP_ONLY };

struct fd_step {
    int kind;
    int node;
    int in;         /* the slot read */
    int out, n_out; /* the slots written: out .. out + n_out - 1 */
    /* FD_PARSE */
    int n_feat;
    fr_example_feature *feat;
    /* FD_DECODE */
    int formats;     /* FD_ANY_IMAGE, FD_JPEG_PNG, FD_BMP_ONLY */
    unsigned ratio;  /* DecodeJpeg's ratio (1: none) */
    int dct_method;  /* FROST_DCT_* */
    int no_gif;      /* DecodeImage expanding animations: a GIF would be 4-D */
    int channels;    /* the `channels` attribute (0: the image's own) */
    /* FD_EXPAND */
    int axis;
    /* FD_RESIZE */
    int64_t oh, ow;
    int align, half;
};

#endif

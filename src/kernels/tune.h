/* Tuning records: the convolution implementation measured fastest for each
 * layer of one model on one machine (`frost tune`), which
 * fr_kernels_select_conv follows in place of its built-in rules.
 *
 * A record is text, one item a line ('#' starts a comment):
 *
 *   frost-tune 1                       the format's version (first line)
 *   cpu AMD EPYC 9R45 96-Core          the CPU's brand string
 *   isa avx2 fma avx512f ...           the instruction sets frost may use
 *   threads 2                          the compute threads measured with
 *   model 5f0e2b7c9d1a3e48             the model's digest (fr_graph_digest)
 *   batches 1,16                       the batch sizes measured (informative)
 *   micro_batch 4                      optional: runs of more items go through
 *                                      the network in passes of 4 ("none":
 *                                      never split), in place of the rule
 *   thread_split 2x1                   optional: under full load, W contexts
 *                                      running at once with T compute threads
 *                                      each (W x T = threads) gave the most
 *                                      images per second (frost serve's batch
 *                                      threads when not set)
 *   layer NODE PICK                    per convolution: its TensorFlow node
 *                                      and backend | igemm | winograd |
 *                                      winograd-large
 *
 * A record applies to a compile whose CPU, ISA, thread count and model
 * digest all equal its own.  Layers it does not list keep the rules; a pick
 * that does not apply to its layer (Winograd on a strided convolution) falls
 * back to them too. */
#ifndef FR_KERNELS_TUNE_H
#define FR_KERNELS_TUNE_H

#include <stddef.h>
#include <stdint.h>

typedef enum fr_tune_pick {
    FR_TUNE_BACKEND = 0,   /* the backend's own convolution (oneDNN) */
    FR_TUNE_IGEMM,         /* frost's indirect GEMM */
    FR_TUNE_WINO,          /* Winograd, the default tiles: F(2x2, 3x3), 1-D F(2, 5), F(2, 7) */
    FR_TUNE_WINO_LARGE,    /* Winograd, the larger tiles: F(4x4, 3x3), F(4x4, 5x5), 1-D F(4, 3) */
    FR_TUNE_PICKS
} fr_tune_pick;

typedef struct fr_tune_layer {
    char *name;
    fr_tune_pick pick;
} fr_tune_layer;

typedef struct fr_tune_record {
    char *cpu, *isa, *batches;
    int threads;
    int micro; /* micro_batch: 0 not recorded (the rule), -1 never split, N passes of N */
    int split; /* thread_split: contexts at once (0: not recorded); threads / split compute threads each */
    int split_threads; /* as read: split x split_threads == threads (fr_tune_format writes threads / split) */
    uint64_t model;
    int n_layers;
    fr_tune_layer *layers; /* sorted by name */
} fr_tune_record;

#define FR_TUNE_VERSION 1

const char *fr_tune_pick_name(fr_tune_pick pick);
/* The pick named `s`, -1 when none. */
int fr_tune_pick_parse(const char *s);

/* Parses `len` bytes of text into *out: 0, or -1 with a message naming the
 * line in why (nothing to free then). */
int fr_tune_parse(const char *text, size_t len, fr_tune_record *out, char *why, size_t whylen);
/* The record as text (malloc'ed, NUL-terminated); NULL when out of memory.
 * fr_tune_parse reads back what it writes. */
char *fr_tune_format(const fr_tune_record *r);
/* Sorts r's layers by name; -1 when two name the same node. */
int fr_tune_sort(fr_tune_record *r);
void fr_tune_free(fr_tune_record *r);

/* The pick of node `name`, -1 when the record has none. */
int fr_tune_find(const fr_tune_record *r, const char *name);

/* This machine: the CPU's brand string and the instruction sets frost's
 * code and oneDNN may use here ("unknown" where it cannot tell). */
void fr_tune_machine(char *cpu, size_t cpu_len, char *isa, size_t isa_len);

#endif

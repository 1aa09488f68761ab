/* The loaded GraphDef (frost_graph): nodes with resolved inputs and raw
 * attribute bytes pointing into the (memory-mapped) file. */
#ifndef FR_GRAPH_H
#define FR_GRAPH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "frost.h"
#include "pb/pb.h"

/* Most nodes a GraphDef may have (FROST_E_LIMIT beyond, before any node
 * table is allocated).  Real classifiers have a few thousand. */
#define FR_MAX_NODES (1 << 20)

typedef struct fr_input_ref {
    const char *name; /* as written, without '^' */
    int node;         /* node index, -1 when no such node */
    int index;        /* output index */
} fr_input_ref;

typedef struct fr_attr_ref {
    const char *key;
    const uint8_t *val; /* AttrValue bytes */
    size_t len;
} fr_attr_ref;

typedef struct fr_node {
    const char *name;
    const char *op;
    int n_inputs; /* data inputs */
    fr_input_ref *inputs;
    int n_control; /* control inputs (^name) */
    fr_input_ref *control;
    int n_attrs;
    fr_attr_ref *attrs;
} fr_node;

/* A chunk allocator: everything of a graph is freed at once. */
typedef struct fr_pool {
    struct fr_pool_block *head;
} fr_pool;
void *fr_pool_alloc(fr_pool *pool, size_t size);
char *fr_pool_strndup(fr_pool *pool, const char *s, size_t n);
void fr_pool_free(fr_pool *pool);

struct frost_graph {
    atomic_int refs;
    char *source;          /* file path or "<memory>" (for messages) */
    const uint8_t *data;   /* the GraphDef bytes */
    size_t size;
    void *map;             /* mmap'ed region or NULL */
    size_t map_len;
    void *copy;            /* malloc'ed copy or NULL */
    fr_pool pool;
    int n_nodes;
    fr_node *nodes;
    int *hash; /* open addressing over node names, hash_cap slots, -1 empty */
    int hash_cap;
    int n_placeholders;
    int *placeholders;
    int n_sinks;
    int *sinks;
    int n_op_types;
    const char **op_type_names;
    int *op_type_uses;
    int64_t params;
    /* Bytes the file's narrow constants (8- and 16-bit tensor_content: int8
     * weights, half) gain as float32, which the compiler works in: the
     * compile-time data budget is counted on size + widened_bytes. */
    size_t widened_bytes;
    /* Const values kept outside the GraphDef bytes (a SavedModel's variables,
     * used in place from its bundle's mapped shards): per node, NULL for the
     * others (ext_content itself NULL when there are none).  Such a Const's
     * TensorProto holds the dtype and shape only; fr_node_const_tensor()
     * supplies the content.  `keep` (released by keep_free) owns the memory
     * they point into. */
    const uint8_t **ext_content;
    size_t *ext_len;
    /* Their bytes in all: part of the model's file as the compile-time data
     * budget counts it (size + ext_bytes + widened_bytes), as they are part
     * of the same network's frozen GraphDef. */
    size_t ext_bytes;
    int n_ext_maps; /* the file mappings they lie in (owned by keep) */
    void *const *ext_maps;
    const size_t *ext_map_lens;
    void *keep;
    void (*keep_free)(void *);
    /* A check of those contents still running on another thread (a large
     * SavedModel's CRC-32C, overlapping the compile): fr_graph_check()
     * waits for it; check_free (before keep_free) waits and releases it.
     * NULL when there is none (checked when loaded, or nothing to check). */
    void *check;
    frost_status (*check_wait)(void *check, char **err);
    void (*check_free)(void *check);
};

/* The result of the graph's pending check of its contents (g->check):
 * waits for it; FROST_OK when there is none.  Any thread, any number of
 * times (the same result each time).  Whatever hands out results computed
 * from the graph's weights (frost_model_compile) calls it first. */
frost_status fr_graph_check(const frost_graph *g, char **err);

/* Node index by name, -1 if none. */
int fr_graph_find(const frost_graph *g, const char *name, size_t len);
/* Take another reference (frost_graph_free drops one). */
frost_graph *fr_graph_ref(const frost_graph *g);

/* Attribute lookup on a node: NULL when absent; otherwise decoded into *out.
 * Returns -1 when present but malformed. */
const fr_attr_ref *fr_node_attr(const fr_node *n, const char *key);
int fr_node_attr_get(const fr_node *n, const char *key, fr_pb_attr *out);

/* The value of Const node n (its tensor_content from g->ext_content where it
 * is kept outside the GraphDef): 0; -1 malformed and -2 too large (as
 * fr_pb_parse_tensor, *why set); -3 no 'value' tensor. */
int fr_node_const_tensor(const frost_graph *g, const fr_node *n, fr_pb_tensor *t, const char **why);

/* A digest of the graph's structure (64-bit FNV-1a over every node's name,
 * op, inputs and attributes, a Const's shape but not its values): the key
 * of tuning records, the same for a SavedModel and its frozen form. */
uint64_t fr_graph_digest(const frost_graph *g);

/* Error message helper: malloc'ed printf into *err (if err non-NULL). */
void fr_errorf(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

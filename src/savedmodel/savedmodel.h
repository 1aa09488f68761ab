/* SavedModel import: saved_model.pb (SavedModel -> MetaGraphDef: tags,
 * graph_def, signature_def, object_graph_def) and the variables bundle, and
 * the conversion of one signature into a frozen GraphDef (freeze.c) that
 * the ordinary GraphDef import then loads.
 *
 * Field numbers from TensorFlow's protos: saved_model.proto (SavedModel:
 * saved_model_schema_version = 1, meta_graphs = 2), meta_graph.proto
 * (MetaGraphDef: meta_info_def = 1, graph_def = 2, saver_def = 3,
 * collection_def = 4, signature_def = 5, asset_file_def = 6,
 * object_graph_def = 7; MetaInfoDef: stripped_op_list = 2, tags = 4;
 * SignatureDef: inputs = 1, outputs = 2, method_name = 3; TensorInfo: name = 1,
 * dtype = 2, tensor_shape = 3, coo_sparse = 4, composite_tensor = 5),
 * graph.proto (GraphDef: node = 1, library = 2, versions = 4), function.proto
 * (FunctionDefLibrary: function = 1; FunctionDef: signature = 1, node_def = 3,
 * ret = 4, attr = 5, control_ret = 6), op_def.proto (OpDef: name = 1,
 * input_arg = 2, output_arg = 3; ArgDef: name = 1, number_attr = 5,
 * type_list_attr = 6; OpList: op = 1), saved_object_graph.proto
 * (SavedObjectGraph: nodes = 1, concrete_functions = 2; SavedObject:
 * children = 1, variable = 7; SavedConcreteFunction: bound_inputs = 2) and
 * trackable_object_graph.proto (TrackableObject: children = 1 {node_id = 1,
 * local_name = 2}, attributes = 2 {name = 1, full_name = 2, checkpoint_key =
 * 3}). */
#ifndef FR_SAVEDMODEL_H
#define FR_SAVEDMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "frost.h"
#include "graph/graph.h"
#include "savedmodel/bundle.h"

/* A signature's input or output (TensorInfo). */
typedef struct fr_sm_tensor {
    const char *key;  /* the signature's name for it */
    const char *name; /* the graph tensor ("x:0"); "" for sparse / composite tensors */
    int dtype;        /* DataType (reference types as their base type) */
    fr_pb_shape shape; /* rank -1: unknown */
    int is_ref;        /* written as a reference type (dtype + 100) */
    int has_shape;     /* the TensorInfo has a tensor_shape */
} fr_sm_tensor;

typedef struct fr_sm_signature {
    const char *key;
    const char *method;
    int n_inputs, n_outputs;
    fr_sm_tensor *inputs, *outputs; /* sorted by key */
} fr_sm_signature;

typedef struct fr_sm_meta_graph {
    int n_tags;
    const char **tags; /* as written */
    const uint8_t *graph_def, *op_list, *object_graph, *versions;
    size_t graph_def_len, op_list_len, object_graph_len, versions_len;
    int n_signatures;
    fr_sm_signature *signatures; /* sorted by key */
} fr_sm_meta_graph;

struct frost_savedmodel {
    char *source;    /* the directory (or "<memory>"), for messages */
    const uint8_t *pb; /* saved_model.pb */
    size_t pb_len;
    void *pb_map;      /* saved_model.pb mapped from the file (NULL: the caller's memory or an empty file) */
    int n_meta_graphs;
    fr_sm_meta_graph *mg;
    fr_bundle *bundle; /* NULL: no variables */
    fr_pool pool;
};

/* From bytes in memory (the fuzz target's entry point): saved_model.pb, and
 * the variables index + data shards (index NULL: no variables).  The bytes
 * must outlive the SavedModel. */
frost_status fr_sm_open_memory(const void *pb, size_t pb_len, const void *index, size_t index_len,
                               const void *const *shards, const size_t *shard_lens, int n_shards,
                               frost_savedmodel **out, char **err);

/* 1 when `path` names a SavedModel: a directory, or a file called saved_model.pb. */
int fr_sm_is_savedmodel_path(const char *path);

/* The meta graph and signature frost_model_load() uses: the one tagged
 * exactly {serve}, its "serving_default" signature (or its only signature
 * besides __saved_model_init_op).  -1 with a message when there is none. */
int fr_sm_default_meta_graph(const frost_savedmodel *sm, char **err);
int fr_sm_default_signature(const frost_savedmodel *sm, int meta_graph, char **err);

/* The meta graph tagged exactly `tags` (NULL: {serve}) and the signature
 * `key` of meta graph m (NULL: the default one); -1 with a message listing
 * the tag sets / signature keys there are when there is none. */
int fr_sm_meta_graph_of(const frost_savedmodel *sm, const char *const *tags, int n_tags, char **err);
int fr_sm_signature_of(const frost_savedmodel *sm, int meta_graph, const char *key, char **err);

/* A signature frozen into a GraphDef (the bytes `frost convert DIR -o
 * frozen.pb` writes): variables as Const nodes with the values of the bundle,
 * functions inlined, everything the signature's outputs do not need left out.
 * Its Placeholders are the signature's inputs and its sinks the signature's
 * outputs, both in the signature's (key) order. */
typedef struct fr_sm_frozen {
    uint8_t *data; /* the GraphDef, malloc'ed; tensor contents of variables 4-byte aligned in it */
    size_t size;
    int n_inputs, n_outputs;
    char **input_names;  /* Placeholder node names, parallel to the signature's inputs */
    char **output_names; /* output tensor names ("node" or "node:N") in the frozen graph */
    char *description;   /* "DIR: signature 'KEY'", for messages */
    /* With FR_SM_FREEZE_EXTERNAL: the float variables left in the bundle's
     * mapped shards (their Consts hold dtype and shape only), by Const name,
     * and their bundle entries (their bytes: shard, offset and size);
     * `bundle` is a reference (fr_bundle_ref) on what they point into.
     * Their CRC-32C is not checked yet (fr_bundle_check: a graph made of
     * them checks them while it compiles, attach_external in api.c). */
    int n_ext;
    char **ext_name;
    const fr_bundle_entry **ext_entry;
    fr_bundle *bundle;
} fr_sm_frozen;

/* flags: 0 writes every value into the GraphDef (what `frost convert`
 * writes); FR_SM_FREEZE_EXTERNAL leaves large float variables in the bundle
 * (for a graph loaded at once: no copy of the weights). */
#define FR_SM_FREEZE_EXTERNAL 1
frost_status fr_sm_freeze(const frost_savedmodel *sm, int meta_graph, int signature, int flags, fr_sm_frozen *out,
                          char **err);
void fr_sm_frozen_free(fr_sm_frozen *f);

/* frost_graph_load() of a SavedModel path: the default meta graph and signature. */
frost_status fr_sm_graph_load(const char *path, frost_graph **out, char **err);

#endif

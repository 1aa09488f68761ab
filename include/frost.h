/*
 * frost — load a frozen TensorFlow graph once, compile it, run it many times.
 *
 * This is the only public header of libfrost.
 *
 * Life cycle
 * ----------
 *   1. LOAD     frost_graph_load()     parse a GraphDef (.pb), check every op
 *                                      is supported.  Large weights stay in a
 *                                      read-only memory map of the file.
 *   2. COMPILE  frost_model_compile()  prune to the requested outputs, fold
 *                                      constants and batch norms, fuse bias and
 *                                      activations, infer shapes, plan memory,
 *                                      create the fast kernels.
 *                frost_model_load() does 1 + 2 in one call.
 *   3. RUN      frost_context_create() once per thread, then
 *                frost_context_run() any number of times.  A run allocates
 *                nothing (the first run at a new batch size may build and cache
 *                that batch size's plan).
 *
 * Ownership
 * ---------
 *   Every object returned through a `*_out` pointer belongs to the caller and
 *   is released with the matching frost_*_free() function.  All free functions
 *   accept NULL.  A frost_model keeps what it needs of its frost_graph alive
 *   (reference counted), so the graph may be freed right after compiling.
 *   A frost_context must be freed before the model it was created from.
 *
 * Thread safety
 * -------------
 *   frost_graph and frost_model are immutable after creation and may be used
 *   from any number of threads at once (including frost_context_create()).
 *   A frost_context is used by one thread at a time.
 *
 * fork()
 * ------
 *   A child process may go on using what its parent loaded or compiled (and
 *   load and compile more).  The OpenMP runtime's threads do not survive
 *   fork(), so in a child forked after the parent ran frost on more than one
 *   thread, every model (the child's own too) runs on one thread.  For
 *   children with all their threads, fork before running any model on
 *   several threads (loading and compiling start no threads), or start them
 *   with exec (Python's "spawn" and "forkserver").  A SavedModel loaded
 *   before the fork has its variables' checksums verified by the child's
 *   compile.
 *
 * Errors
 * ------
 *   Every fallible call returns a frost_status; FROST_OK is 0.
 *   frost_strerror() gives a fixed description of a status.  Calls that can
 *   fail for a reason worth explaining also take an optional `char **error_out`:
 *   when it is non-NULL and the call fails, *error_out receives a message that
 *   names the file, node or op involved (release it with frost_free()); on
 *   success *error_out is set to NULL.  Contexts keep their last message,
 *   readable with frost_context_error().
 *
 *   The library never calls exit() or abort() on bad input: a malformed model,
 *   image or argument gives an error status.
 *
 * Naming
 * ------
 *   frost_<object>_<verb>() acts (frost_model_compile, frost_context_run);
 *   a query is named after what it gives, frost_<object>_<thing>(), with no
 *   "get": it returns the value (frost_model_max_batch,
 *   frost_context_arena_bytes) or, where it fills a caller's struct or can
 *   fail, returns a frost_status and writes through a trailing *_out pointer
 *   (frost_model_input_shape, frost_model_stats, frost_model_image_spec).
 */
#ifndef FROST_H
#define FROST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(FROST_STATIC_BUILD)
#define FROST_API __attribute__((visibility("default")))
#else
#define FROST_API
#endif

#define FROST_VERSION_MAJOR 0
#define FROST_VERSION_MINOR 2
#define FROST_VERSION_PATCH 0
#define FROST_VERSION_STRING "0.2.0"

/** Largest tensor rank frost handles. */
#define FROST_MAX_RANK 8

/* ------------------------------------------------------------------------ */
/* Status                                                                     */
/* ------------------------------------------------------------------------ */

typedef enum frost_status {
    FROST_OK = 0,
    FROST_E_INVALID_ARGUMENT, /**< NULL where an object is required, bad option value */
    FROST_E_IO,               /**< a file cannot be opened, read or mapped */
    FROST_E_PARSE,            /**< malformed bytes: truncated or corrupt GraphDef, bad JSON */
    FROST_E_UNSUPPORTED_OP,   /**< the graph uses ops frost does not implement; the
                                   message names every such op type and one node of each */
    FROST_E_NOT_FOUND,        /**< an input or output name is not a node of the graph */
    FROST_E_GRAPH,            /**< invalid graph: cycle, missing input node, bad attribute */
    FROST_E_SHAPE,            /**< shapes do not match or cannot be inferred */
    FROST_E_NO_MEMORY,        /**< an allocation failed */
    FROST_E_IMAGE,            /**< an image cannot be decoded */
    FROST_E_LIMIT,            /**< a limit was exceeded (nodes, tensor elements, compile-time
                                   memory, pixels, batch size) */
    FROST_E_BACKEND,          /**< the fast backend (oneDNN) failed */
    FROST_E_INTERNAL,         /**< a bug in frost */
    FROST_STATUS_COUNT_
} frost_status;

/** A fixed English description of `status`; never NULL. */
FROST_API const char *frost_strerror(frost_status status);

/** Release memory that frost handed to the caller (error messages). NULL is fine. */
FROST_API void frost_free(void *ptr);

/** The library version, "MAJOR.MINOR.PATCH". */
FROST_API const char *frost_version(void);

/* ------------------------------------------------------------------------ */
/* Shapes                                                                     */
/* ------------------------------------------------------------------------ */

/** A tensor shape.  A dimension of -1 is unknown (in a model's input and output
 *  shapes, dims[0] is the batch dimension and is reported as -1). */
typedef struct frost_shape {
    int rank;
    int64_t dims[FROST_MAX_RANK];
} frost_shape;

/* ------------------------------------------------------------------------ */
/* Graphs (load step)                                                         */
/* ------------------------------------------------------------------------ */

typedef struct frost_graph frost_graph;

/** Parse a binary GraphDef file.  The file is memory-mapped; large weight
 *  tensors are used in place.  A SavedModel directory (or its saved_model.pb)
 *  is loaded as its default signature (see "SavedModels" below).  Fails with FROST_E_UNSUPPORTED_OP when any node
 *  has an op frost does not implement (even if pruning would remove it later,
 *  nodes unreachable from any sink are not checked). */
FROST_API frost_status frost_graph_load(const char *path, frost_graph **graph_out, char **error_out);

/** Parse a GraphDef held in memory.  The bytes are copied when `copy` is
 *  non-zero; otherwise they must stay valid and unchanged until the graph and
 *  every model compiled from it are freed. */
FROST_API frost_status frost_graph_load_memory(const void *data, size_t size, int copy, frost_graph **graph_out,
                                               char **error_out);

FROST_API void frost_graph_free(frost_graph *graph);

/** Number of nodes in the GraphDef. */
FROST_API int frost_graph_node_count(const frost_graph *graph);

/** Placeholders of the graph (candidate inputs), in GraphDef order. */
FROST_API int frost_graph_placeholder_count(const frost_graph *graph);
FROST_API const char *frost_graph_placeholder_name(const frost_graph *graph, int index);
/** The Placeholder's declared shape (rank -1 when unknown). */
FROST_API frost_status frost_graph_placeholder_shape(const frost_graph *graph, int index, frost_shape *shape_out);

/** Sinks of the graph: nodes whose outputs no other node consumes, ignoring
 *  Const, NoOp and Placeholder nodes (candidate outputs), in GraphDef order. */
FROST_API int frost_graph_sink_count(const frost_graph *graph);
FROST_API const char *frost_graph_sink_name(const frost_graph *graph, int index);

/** Op histogram: number of distinct op types, and for each its name and use count,
 *  sorted by descending count then name. */
FROST_API int frost_graph_op_type_count(const frost_graph *graph);
FROST_API const char *frost_graph_op_type_name(const frost_graph *graph, int index);
FROST_API int frost_graph_op_type_uses(const frost_graph *graph, int index);

/** Total number of elements of all Const tensors. */
FROST_API int64_t frost_graph_param_count(const frost_graph *graph);

/* ------------------------------------------------------------------------ */
/* Models (compile step)                                                      */
/* ------------------------------------------------------------------------ */

typedef struct frost_model frost_model;

typedef enum frost_backend {
    FROST_BACKEND_AUTO = 0,  /**< oneDNN where built in, reference kernels otherwise */
    FROST_BACKEND_REFERENCE, /**< the portable reference kernels only (the oracle) */
    FROST_BACKEND_ONEDNN     /**< oneDNN; fails if unavailable */
} frost_backend;

typedef enum frost_precision {
    FROST_PRECISION_FP32 = 0, /**< default: results within 1e-4 of the reference kernels */
    FROST_PRECISION_BF16,     /**< bf16 compute where the CPU has AVX512-BF16; opt-in */
    /** int8 compute for the quantized parts of a graph with FakeQuant ops
     *  (`frost quantize`'s output, graphs trained with quantization): a
     *  Conv2D / DepthwiseConv2dNative / MatMul whose input is a FakeQuant's
     *  output and whose weights are on an int8 grid runs in int8 (oneDNN
     *  backend, CPUs with VNNI: AVX512-VNNI or AVX-VNNI), its activations
     *  kept in u8 between such steps; within one quantization step of the
     *  FakeQuant semantics in float, which FROST_PRECISION_FP32 runs
     *  (docs/int8.md).  Everything else, and everything on other CPUs and
     *  backends, as FP32. */
    FROST_PRECISION_INT8
} frost_precision;

/** Which Winograd convolutions the oneDNN backend may use
 *  (frost_options.winograd).  The reference backend computes every
 *  convolution directly whatever the setting. */
typedef enum frost_winograd {
    /** The default: Winograd kernels only where they stay within FP32's
     *  1e-4 of direct convolution and gain: on CPUs without AVX-512,
     *  F(2x2, 3x3) on stride-1 3x3 layers and the 1-D F(2, 7) / F(2, 5)
     *  kernels on 1x7, 7x1, 1x5 and 5x1 layers (their transformed weights
     *  take up to 16/9 of the direct ones). */
    FROST_WINOGRAD_DEFAULT = 0,
    /** No Winograd convolution at all: every convolution computed directly,
     *  as the reference kernels do (`--no-winograd`). */
    FROST_WINOGRAD_OFF,
    /** The default's kernels and also the larger tiles on the stride-1
     *  layers large enough to gain: F(4x4, 3x3), F(4x4, 5x5) and F(4, 3) on
     *  1x3 / 3x1 (FP32, oneDNN backend).  Their results differ from direct
     *  convolution by rounding (~1e-5 relative per layer) and may differ
     *  from the reference by more than 1e-4 (`--winograd`). */
    FROST_WINOGRAD_ALL
} frost_winograd;

/** frost_options.debug_flags: switches for testing frost itself (the
 *  compiler, the kernels), not for production use.  Results agree with the
 *  default to rounding, at a cost in speed. */
/** No batch-norm folding and no fusion: every op with a run-time input runs
 *  as written, as its own step (subgraphs of constants, such as shape
 *  arithmetic or the Rsqrt of a variance, are still evaluated once at
 *  compile time).  For testing the compiler (`--no-optimize`). */
#define FROST_DEBUG_NO_OPTIMIZE 0x1u
/** The oneDNN backend runs every step it claims on oneDNN's own primitives,
 *  none on frost's kernels next to them (the indirect-GEMM convolution, NHWC
 *  pooling and the default Winograd kernels; FROST_WINOGRAD_ALL still runs
 *  frost's Winograd kernels).  For comparing kernels (`--onednn-only`,
 *  bench/conv_layers.py). */
#define FROST_DEBUG_ONEDNN_ONLY 0x2u
/** frost's own kernels run their portable C forms instead of the AVX2 /
 *  AVX-512 ones: what a CPU without those instructions runs, tested on one
 *  with them. */
#define FROST_DEBUG_PORTABLE_KERNELS 0x4u

/** Options for compiling.
 *
 *  Always initialise with frost_options_init(), which zeroes the struct (zero
 *  is every field's default) and sets `struct_size`; then set the fields
 *  wanted.
 *
 *  Extensible: later versions of this header only append fields.  The
 *  library reads the fields that lie within `struct_size` bytes and gives
 *  every later field its default, so a program built against an older,
 *  smaller frost_options keeps working with a newer libfrost.  A program
 *  built against a newer header than the library's may pass a larger struct
 *  when the fields this library does not know are all zero (their
 *  defaults); otherwise compiling fails with FROST_E_INVALID_ARGUMENT.
 *  A `struct_size` below FROST_OPTIONS_MIN_SIZE (0: frost_options_init()
 *  was not called), above 1024, or that ends inside a field is
 *  FROST_E_INVALID_ARGUMENT too, with a message saying so. */
typedef struct frost_options {
    /** sizeof(frost_options) as the program was compiled; set by
     *  frost_options_init().  Never set it by hand. */
    size_t struct_size;
    /** Names of the input nodes ("name" or "name:0").  NULL / 0: every
     *  Placeholder that the outputs depend on. */
    const char *const *inputs;
    int num_inputs;
    /** Optional shapes for the inputs (parallel to `inputs`, or to the detected
     *  Placeholders when `inputs` is NULL), needed when a Placeholder's shape
     *  has unknown non-batch dimensions.  dims[0] is ignored (the batch). */
    const frost_shape *input_shapes;
    /** Names of the output tensors ("name" or "name:N").  NULL / 0: the graph's sinks. */
    const char *const *outputs;
    int num_outputs;
    /** Largest batch size a run may use.  0: 64. */
    int max_batch;
    /** Compute threads.  0: the number of cores. */
    int threads;
    frost_backend backend;
    frost_precision precision;
    /** Which Winograd convolutions may run: FROST_WINOGRAD_DEFAULT (0),
     *  FROST_WINOGRAD_OFF or FROST_WINOGRAD_ALL. */
    frost_winograd winograd;
    /** Items per pass of the network: a run of more items goes through it in
     *  passes of at most this many (the same results, as every item is
     *  computed alone; each pass's activations stay in the CPU's cache).
     *  0: chosen at compile time: the tuning record's pass size where it
     *  has one (frost tune measures them), else passes whose batch-1 arenas fill at most
     *  half the last-level cache, for networks with fewer than 400 FLOPs
     *  per byte of their batch-1 arena (MobileNets, not Inception v3),
     *  else none; < 0: never split.  Only for graphs whose items are
     *  independent (every activation has the batch as its first
     *  dimension); compiling fails with FROST_E_INVALID_ARGUMENT when one
     *  is asked for (> 0) on another graph, and 0 picks none there.
     *  docs/performance.md has the measurements behind the choice. */
    int micro_batch;
    /** Non-zero: record the time of every op of every run (frost_context_profile). */
    int profiling;
    /** For testing frost only: an OR of FROST_DEBUG_* flags (0: none).
     *  Unknown bits are FROST_E_INVALID_ARGUMENT. */
    unsigned debug_flags;
    /** Per-machine kernel choices measured by `frost tune` (a tuning record:
     *  each convolution's fastest implementation on this CPU, measured in
     *  the running network).  NULL: the record for this model, CPU and
     *  thread count in the per-user cache ($XDG_CACHE_HOME/frost, else
     *  ~/.cache/frost), if there is one (one that does not parse there is
     *  ignored); a path: that record, which must parse (FROST_E_PARSE
     *  naming the line otherwise); "": none, the built-in rules.  A record
     *  for another CPU, model or thread count is ignored; either way
     *  frost_model_tune_note() says what was used.  Outputs stay within
     *  FP32's 1e-4 of the reference whatever a record picks. */
    const char *tune_file;
    /** Quantize at load time, for quick trials: with precision
     *  FROST_PRECISION_INT8, a plain FP32 graph is first quantized in memory
     *  as `frost quantize` does (frost_quantize_graph() with
     *  FROST_QUANTIZE_DEFAULT), calibrated on the image files under this
     *  directory, and the quantized graph is compiled.  The model's one
     *  input must take images (frost_model_image_spec()).  NULL: none (the
     *  graph as it is).  With another precision, FROST_E_INVALID_ARGUMENT.
     *  Errors name the directory or the file (an unreadable directory, one
     *  without images: FROST_E_IO, FROST_E_INVALID_ARGUMENT). */
    const char *calibrate_dir;
    /** How the calibration images are preprocessed (mean, std, resize;
     *  width and height 0: the model's input size).  NULL: label_image's
     *  defaults, mean 0, std 255, FROST_RESIZE_TF1.  Give what the model's
     *  callers give (`frost classify`'s --input_mean, --input_std, --resize). */
    const struct frost_preprocess *calibrate_preprocess;
} frost_options;

/** The smallest `struct_size` the library accepts: the fields up to and
 *  including `num_outputs` (what to compile).  Every later field may be
 *  missing from a caller's struct and then takes its default. */
#define FROST_OPTIONS_MIN_SIZE (offsetof(frost_options, num_outputs) + sizeof(int))

/** Zero `struct_size` bytes of `options` (every field's default) and set
 *  options->struct_size = struct_size.  Returns FROST_E_INVALID_ARGUMENT
 *  (writing nothing) when `options` is NULL or struct_size is smaller than
 *  a size_t.  Call it through frost_options_init(), which passes the size
 *  of the frost_options the program was compiled with; bindings from other
 *  languages call it directly with the size of their mirror of the struct. */
FROST_API frost_status frost_options_init_sized(frost_options *options, size_t struct_size);

/** Initialise a frost_options before setting any of its fields:
 *  `frost_options opt; frost_options_init(&opt);`.  Evaluates to the
 *  frost_status of frost_options_init_sized(). */
#define frost_options_init(options) frost_options_init_sized((options), sizeof(frost_options))

/** Compile `graph` for the given options.  The model does not depend on the
 *  caller keeping `graph` alive. */
FROST_API frost_status frost_model_compile(const frost_graph *graph, const frost_options *options,
                                           frost_model **model_out, char **error_out);

/** frost_graph_load() + frost_model_compile() + frost_graph_free().
 *  `options` may be NULL for the defaults. */
FROST_API frost_status frost_model_load(const char *path, const frost_options *options, frost_model **model_out,
                                        char **error_out);

FROST_API void frost_model_free(frost_model *model);

FROST_API int frost_model_input_count(const frost_model *model);
FROST_API int frost_model_output_count(const frost_model *model);
/** Tensor names as TensorFlow writes them ("input", "softmax:1"). */
FROST_API const char *frost_model_input_name(const frost_model *model, int index);
FROST_API const char *frost_model_output_name(const frost_model *model, int index);
/** Shapes with dims[0] = -1 (the batch).  Exception: an output whose leading
 *  dimension is not the batch (e.g. a concatenation along axis 0) is reported
 *  with its full shape at batch 1, its size is that shape's element count, and
 *  the model runs at batch 1 only (FROST_E_SHAPE at larger batch sizes). */
FROST_API frost_status frost_model_input_shape(const frost_model *model, int index, frost_shape *shape_out);
FROST_API frost_status frost_model_output_shape(const frost_model *model, int index, frost_shape *shape_out);
/** Elements of one batch item of an input / output (product of dims[1..]). */
FROST_API size_t frost_model_input_size(const frost_model *model, int index);
FROST_API size_t frost_model_output_size(const frost_model *model, int index);
FROST_API int frost_model_max_batch(const frost_model *model);
/** Items per pass (frost_options.micro_batch as compiled): a run of more
 *  items is split into passes of at most this many.  0: never split. */
FROST_API int frost_model_micro_batch(const frost_model *model);
/** Contexts to run at once under full load, from the tuning record this
 *  compile applied (`thread_split WxT`, measured by frost_tune()): W
 *  contexts, each of a model compiled with T = threads / W threads, gave
 *  the most images per second at the record's largest batch size.  Returns
 *  W, and T in *threads_out (may be NULL); 1 and the model's threads where
 *  no record applied or it records no split.  `frost serve` runs W batch
 *  threads on models compiled with T threads unless --num_batch_threads is
 *  given.  The split favours throughput: a request alone then runs on T
 *  threads. */
FROST_API int frost_model_thread_split(const frost_model *model, int *threads_out);

/** What the compiler did and what the model holds (`frost inspect`). */
typedef struct frost_compile_stats {
    int graph_nodes;       /**< nodes in the GraphDef */
    int pruned_nodes;      /**< removed because no output depends on them */
    int identity_nodes;    /**< Identity / NoOp / control edges dropped */
    int folded_nodes;      /**< constant-folded nodes */
    int folded_batchnorms; /**< batch norms folded into a convolution / matmul */
    int fused_ops;         /**< BiasAdd / Add / activation fused into a kernel */
    int steps;             /**< kernels executed per run */
    int64_t params;        /**< parameters of the compiled model */
    int64_t flops;         /**< multiply-adds x2 per batch item */
    size_t weight_bytes;   /**< bytes of weights and other constants the model holds now, in its kernels'
                                layouts (Winograd-transformed weights take more than `params` x 4), over
                                every batch size compiled so far; weights read in place from the model
                                file are not counted */
    size_t arena_bytes;    /**< activation arena of one context at batch 1 */
    const char *backend;   /**< "reference" or "onednn" */
} frost_compile_stats;

/** Fill *stats_out.  weight_bytes is read at the time of the call (it grows
 *  as batch sizes are compiled); the rest is fixed at compile time.  Safe
 *  from any thread.  FROST_E_INVALID_ARGUMENT when an argument is NULL.
 *  (Formerly frost_model_get_stats().) */
FROST_API frost_status frost_model_stats(const frost_model *model, frost_compile_stats *stats_out);

/** What the compile made of tuning records (frost_options.tune_file): "" when
 *  none was looked for or found, else e.g. "tuning record F: 12 layers" or
 *  "tuning record F ignored: measured on another CPU (...)".  Owned by the
 *  model. */
FROST_API const char *frost_model_tune_note(const frost_model *model);

/** Where frost_options.tune_file = NULL looks for this model's record:
 *  "$XDG_CACHE_HOME/frost/<model digest>-<threads>t.tune" (malloc'ed, free
 *  with frost_free()).  FROST_E_NOT_FOUND when neither XDG_CACHE_HOME nor
 *  HOME is set. */
FROST_API frost_status frost_model_tune_path(const frost_model *model, char **path_out);

/** A tuning record for this model as compiled (this CPU, its thread count,
 *  its digest): `count` convolution layers (TensorFlow node names) with the
 *  implementation each should run: "backend", "igemm", "winograd" (F(2x2,
 *  3x3), F(2, 5), F(2, 7)) or "winograd-large" (F(4x4, 3x3), F(4x4, 5x5),
 *  F(4, 3)).  `batches` ("1,16") is recorded as said.  *text_out: the
 *  record (free with frost_free()).  FROST_E_INVALID_ARGUMENT for an
 *  unknown pick or a layer given twice (message in *error_out). */
FROST_API frost_status frost_model_tune_record(const frost_model *model, const char *const *layers,
                                               const char *const *picks, int count, const char *batches,
                                               char **text_out, char **error_out);

/** The candidates frost_tune() measures for each convolution, in this
 *  order: the built-in rules' choice, then each implementation forced. */
#define FROST_TUNE_CANDIDATES 5
/** Their names: "rules", "backend", "igemm", "winograd", "winograd-large". */
FROST_API const char *frost_tune_candidate_name(int candidate);

/** The most pass sizes frost_tune() measures (frost_tune_result.micro_values). */
#define FROST_TUNE_MICRO_MAX 8
/** The most thread splits frost_tune() measures (frost_tune_result.split_contexts). */
#define FROST_TUNE_SPLIT_MAX 8

/** One convolution as frost_tune() measured it. */
typedef struct frost_tune_layer {
    const char *name; /**< the step's node (the last node fused, as profiles name it) */
    int64_t flops;    /**< per image */
    /** Median ms per image inside the running network, summed over the batch
     *  sizes, per candidate; < 0 where the candidate does not apply. */
    double ms[FROST_TUNE_CANDIDATES];
    int choice; /**< the candidate kept (1 .. 4: the implementation the record names) */
    int rules;  /**< the implementation the rules ran (1 .. 4): choice == rules changes nothing */
} frost_tune_layer;

typedef struct frost_tune_result {
    int num_layers;
    frost_tune_layer *layers;
    int rounds;      /**< measuring rounds made */
    double rules_ms; /**< the whole network, ms per image, summed over the batch sizes */
    double tuned_ms; /**< the same with the choices */
    int kept;        /**< non-zero: the choices beat the rules (else the record keeps the rules' choices) */
    char *record;    /**< the tuning record (text), for frost_options.tune_file */
    char *cache_path; /**< where compiles look for it by default (frost_model_tune_path); NULL: no cache directory */
    /** The pass size (frost_options.micro_batch) measured at the largest
     *  batch size, when it is 2 or more and the items are independent:
     *  num_micro candidates, micro_values[k] items per pass (-1: the batch
     *  in one pass), micro_ms[k] their median ms per image with the
     *  choices above. */
    int num_micro;
    int micro_values[FROST_TUNE_MICRO_MAX];
    double micro_ms[FROST_TUNE_MICRO_MAX];
    int micro_rule;  /**< what the compile picks without a record (-1: one pass) */
    int micro_batch; /**< what the record says: 0 nothing (the rule, kept: not 3 % faster), -1 one pass, N passes of N */
    /** The thread split measured at the largest batch size when the compile
     *  has 2 or more threads: num_splits candidates; split_contexts[k] = W
     *  contexts running at once, each of a model compiled with threads / W
     *  threads (the first, W = 1: one context with all the threads and the
     *  choices above); split_ms[k] their median wall-clock ms per image
     *  with every context busy. */
    int num_splits;
    int split_contexts[FROST_TUNE_SPLIT_MAX];
    double split_ms[FROST_TUNE_SPLIT_MAX];
    int thread_split; /**< what the record says: 0 nothing (one context: no split 3 % faster), else W contexts */
} frost_tune_result;

/** Measures each convolution's implementations inside the running network
 *  (`frost tune`): one compile of `graph` with `options` (inputs, outputs,
 *  shapes, threads as they will be used; tune_file and profiling are set
 *  here) per candidate, each forcing its implementation on every layer it
 *  applies to; the candidates run in turn at each of the `num_batches`
 *  batch sizes, round after round (at least 3, at most max_rounds, while
 *  budget_s seconds last), on random float inputs; each layer keeps the
 *  candidate with the lowest median time per image if it beats the rules'
 *  by 3 %; the choices are then timed whole against the rules and kept
 *  only if faster.  At the largest batch size (2 or more), with those
 *  choices, the pass sizes are timed too (one pass, 1, 2, 4, ... items a
 *  pass; unless options->micro_batch fixes it): the fastest is recorded if
 *  it beats the compile's own pick by 3 %, and compiles using the record
 *  take it where frost_options.micro_batch is 0.  With 2 or more threads,
 *  the thread splits are timed at the largest batch size too: W contexts
 *  at once, each on threads / W threads, for each W dividing the threads;
 *  the split with the most images per second is recorded if it beats one
 *  context by 3 % (frost_model_thread_split()).  *result_out: free with frost_tune_result_free().
 *  FROST_E_INVALID_ARGUMENT for a string input or bad arguments; a
 *  compile's or run's error otherwise (message in *error_out).  Takes the
 *  machine for that long: run it when it is otherwise idle. */
FROST_API frost_status frost_tune(const frost_graph *graph, const frost_options *options, const int *batches,
                                  int num_batches, double budget_s, int max_rounds, frost_tune_result **result_out,
                                  char **error_out);
FROST_API void frost_tune_result_free(frost_tune_result *result);

/* ------------------------------------------------------------------------ */
/* SavedModels                                                                */
/* ------------------------------------------------------------------------ */
/*
 * frost_graph_load() and frost_model_load() also accept a TensorFlow
 * SavedModel: a directory holding saved_model.pb and variables/, or the path
 * of its saved_model.pb.  They take the MetaGraphDef tagged exactly {serve}
 * and its "serving_default" signature (or its only signature besides
 * "__saved_model_init_op"): the graph's Placeholders are that signature's
 * inputs and its sinks the signature's outputs, so frost_model_compile()
 * with the default inputs and outputs compiles exactly that signature.
 *
 * The signature is frozen on loading: the variables' values are read from
 * the bundle (each checked against its CRC-32C) into Const nodes, the
 * functions of TF2 graphs (StatefulPartitionedCall, PartitionedCall) are
 * inlined, and everything the outputs do not need is left out.  Where the
 * float variables the graph uses in place (from the mapped data shard) add
 * up to 8 MiB or more, their checksums are checked on a thread of their own
 * while the graph is compiled: frost_model_compile() (and so
 * frost_model_load()) returns a model only once they have passed, and
 * FROST_E_PARSE naming the tensor when one fails (the load itself then
 * succeeds); smaller ones are checked by the load.  A signature
 * that changes state (assigns a variable) is refused with
 * FROST_E_UNSUPPORTED_OP naming the op.  Signatures that take serialized
 * tf.Example protos (classify, regress) compile to models with a string
 * input ("String inputs" below).
 *
 * The functions below list a SavedModel's meta graphs (tag sets) and
 * signatures and give the graph of any signature.  Strings and infos they
 * return belong to the frost_savedmodel and stay valid until it is freed.
 * A frost_savedmodel is immutable after opening: any number of threads may
 * use one at once.  Meta graphs and signatures are numbered from 0;
 * signatures, and the inputs and outputs of each, are sorted by key.
 */

typedef struct frost_savedmodel frost_savedmodel;

/** TensorFlow's DataType numbers, as signatures report them. */
typedef enum frost_dtype {
    FROST_DTYPE_INVALID = 0,
    FROST_DTYPE_FLOAT = 1,
    FROST_DTYPE_DOUBLE = 2,
    FROST_DTYPE_INT32 = 3,
    FROST_DTYPE_UINT8 = 4,
    FROST_DTYPE_INT16 = 5,
    FROST_DTYPE_INT8 = 6,
    FROST_DTYPE_STRING = 7,
    FROST_DTYPE_INT64 = 9,
    FROST_DTYPE_BOOL = 10,
    FROST_DTYPE_UINT16 = 17,
    FROST_DTYPE_HALF = 19
} frost_dtype;

/** TensorFlow's name of a DataType number ("DT_FLOAT", "DT_STRING"),
 *  "DT_INVALID" for unknown numbers; never NULL. */
FROST_API const char *frost_dtype_name(int dtype);

/** One input or output of a signature (TensorInfo). */
typedef struct frost_tensor_info {
    const char *key;   /**< the signature's name for it ("x", "output_0") */
    const char *name;  /**< the graph tensor ("serving_default_x:0"); "" for sparse / composite tensors */
    int dtype;         /**< a frost_dtype (TensorFlow's DataType number) */
    frost_shape shape; /**< rank -1 when unknown; -1 for unknown dimensions (usually the batch) */
    int is_ref;        /**< 1 when written as a reference type (DT_FLOAT_REF, TF1 variables): `dtype` is its base */
    int has_shape;     /**< 0 when the TensorInfo has no tensor_shape: `shape` is then unknown (rank -1), which
                            saved_model_cli shows as "()" (protobuf's empty default) */
} frost_tensor_info;

/** Open a SavedModel: a directory (saved_model.pb + variables/) or the path of
 *  its saved_model.pb.  Reads saved_model.pb and the variables index and maps
 *  the data shards; every index entry is checked against its shard.
 *  FROST_E_IO (missing file or shard), FROST_E_PARSE (malformed or corrupt
 *  file), FROST_E_LIMIT, FROST_E_NO_MEMORY. */
FROST_API frost_status frost_savedmodel_open(const char *path, frost_savedmodel **sm_out, char **error_out);
FROST_API void frost_savedmodel_free(frost_savedmodel *sm);

/** Meta graphs and their tags. */
FROST_API int frost_savedmodel_meta_graph_count(const frost_savedmodel *sm);
FROST_API int frost_savedmodel_tag_count(const frost_savedmodel *sm, int meta_graph);
FROST_API const char *frost_savedmodel_tag(const frost_savedmodel *sm, int meta_graph, int index);
/** The meta graph whose tag set is exactly `tags` (order and repeats
 *  ignored); tags NULL: {"serve"}.  -1 when none is. */
FROST_API int frost_savedmodel_find_meta_graph(const frost_savedmodel *sm, const char *const *tags, int n_tags);

/** Signatures of a meta graph (meta_graph -1: the one tagged {serve}). */
FROST_API int frost_savedmodel_signature_count(const frost_savedmodel *sm, int meta_graph);
FROST_API const char *frost_savedmodel_signature_key(const frost_savedmodel *sm, int meta_graph, int signature);
/** method_name ("tensorflow/serving/predict"); "" when absent. */
FROST_API const char *frost_savedmodel_signature_method(const frost_savedmodel *sm, int meta_graph, int signature);
/** The signature of that key; key NULL: the default one ("serving_default",
 *  or the only signature besides "__saved_model_init_op").  -1 when none. */
FROST_API int frost_savedmodel_find_signature(const frost_savedmodel *sm, int meta_graph, const char *key);
FROST_API int frost_savedmodel_signature_input_count(const frost_savedmodel *sm, int meta_graph, int signature);
FROST_API int frost_savedmodel_signature_output_count(const frost_savedmodel *sm, int meta_graph, int signature);
/** FROST_E_INVALID_ARGUMENT for an index out of range. */
FROST_API frost_status frost_savedmodel_signature_input(const frost_savedmodel *sm, int meta_graph, int signature,
                                                        int index, frost_tensor_info *info_out);
FROST_API frost_status frost_savedmodel_signature_output(const frost_savedmodel *sm, int meta_graph, int signature,
                                                         int index, frost_tensor_info *info_out);

/** The graph of one signature (meta_graph -1: the one tagged {serve};
 *  signature -1: the default one), frozen as described above: its
 *  Placeholders are the signature's inputs, its sinks its outputs, both in
 *  the order listed here; the output nodes are named after the signature's
 *  tensors ("y" for "y:0", "StatefulPartitionedCall_1" for
 *  "StatefulPartitionedCall_1:0").  The graph owns its weights and does not
 *  depend on `sm` (free them in any order).  Fails with
 *  FROST_E_UNSUPPORTED_OP for a signature that changes state or uses ops
 *  frost lacks, FROST_E_GRAPH for a malformed graph (a
 *  missing or recursive function, a variable missing from the bundle, a
 *  cycle), FROST_E_PARSE for corrupt variables (checksum mismatch). */
FROST_API frost_status frost_savedmodel_graph(const frost_savedmodel *sm, int meta_graph, int signature,
                                              frost_graph **graph_out, char **error_out);

/** The same signature frozen into a binary GraphDef: the bytes that
 *  frost_savedmodel_graph() loads, for writing a frozen .pb that TensorFlow,
 *  OpenCV DNN and frost_graph_load() read (`frost convert DIR -o OUT.pb`).
 *  Only standard GraphDef fields and the ops of the SavedModel's graph are
 *  written; each variable is a Const holding the bundle's value.
 *  *data_out is malloc'ed (release it with frost_free()), *size_out its
 *  length.  The same errors as frost_savedmodel_graph(), except those that
 *  loading the GraphDef finds (an op frost lacks is only found when the
 *  bytes are loaded). */
FROST_API frost_status frost_savedmodel_freeze(const frost_savedmodel *sm, int meta_graph, int signature,
                                               void **data_out, size_t *size_out, char **error_out);

/** The meta graph tagged exactly `tags` (n_tags of them; NULL: {"serve"})
 *  and its signature `key` (NULL: the default one), as the indices the
 *  functions above take: frost_savedmodel_find_meta_graph() and
 *  frost_savedmodel_find_signature() with a message.  FROST_E_NOT_FOUND
 *  when there is no such meta graph or signature, the message listing the
 *  tag sets or signature keys there are; FROST_E_INVALID_ARGUMENT for a
 *  NULL argument. */
FROST_API frost_status frost_savedmodel_select(const frost_savedmodel *sm, const char *const *tags, int n_tags,
                                               const char *key, int *meta_graph_out, int *signature_out,
                                               char **error_out);

/** 1 when frost_graph_load() takes `path` for a SavedModel: a directory, or
 *  a file named saved_model.pb; 0 otherwise (a GraphDef file, or NULL).
 *  Looks at the path only (a directory need not hold a SavedModel). */
FROST_API int frost_path_is_savedmodel(const char *path);

/** frost_graph_load() with a choice of meta graph and signature:
 *  frost_savedmodel_open(path), the meta graph tagged exactly `tags`
 *  (n_tags of them; NULL: {"serve"}), its signature `signature` (NULL: the
 *  default one, "serving_default" or the only one), then
 *  frost_savedmodel_graph().  When there is no such meta graph or
 *  signature, FROST_E_NOT_FOUND with a message listing those there are.
 *  A path that is not a SavedModel (frost_path_is_savedmodel) is loaded as
 *  a GraphDef when `tags` and `signature` are both NULL, else refused with
 *  FROST_E_INVALID_ARGUMENT (a GraphDef has no signatures). */
FROST_API frost_status frost_graph_load_signature(const char *path, const char *const *tags, int n_tags,
                                                  const char *signature, frost_graph **graph_out,
                                                  char **error_out);

/* ------------------------------------------------------------------------ */
/* String inputs                                                              */
/* ------------------------------------------------------------------------ */
/*
 * A graph may take strings and decode them itself: serialized tf.Example
 * protos read by ParseExample / ParseExampleV2 (TensorFlow Serving's
 * classify and regress signatures), or encoded images read by DecodeJpeg,
 * DecodePng, DecodeBmp or DecodeImage (TF-for-Poets graphs fed
 * "DecodeJpeg/contents", image exports whose input is the JPEG's bytes).
 * Such an input (a Placeholder of type string, or a string Const named in
 * frost_options.inputs) is a model input of dtype FROST_DTYPE_STRING whose
 * items are one byte string each: its shape is [-1] and
 * frost_model_input_size() is 1.  Before each run, bind the run's strings
 * with frost_context_set_string_input(); the run decodes them on the host
 * (which allocates), one batch item at a time, before the compiled plan
 * runs.  What frost decodes:
 *   - ParseExample / ParseExampleV2: dense features (float_list,
 *     int64_list) of static shapes, with their defaults; a missing required
 *     feature, a feature of another type or size, or bytes that are no
 *     tf.Example fail the run with FROST_E_PARSE naming the feature.  Sparse
 *     and ragged features and bytes_list features are FROST_E_UNSUPPORTED_OP
 *     when compiling.  int64 values are computed as float32 (exact up to
 *     2^24), as every tensor of a plan.
 *   - Decode*: one image per item, decoded as TensorFlow decodes (JPEG with
 *     the node's dct_method and ratio), to the node's `channels` as
 *     TensorFlow's kernels take them (0: the image's own count, compiled as
 *     3; an image of another count fails its item with FROST_E_IMAGE);
 *     then Cast, ExpandDims and ResizeBilinear, until the shape is static.
 *     Control flow (tf.map_fn's While and TensorList ops) is not supported.
 * A graph whose string part leaves a tensor of run-time shape to the rest of
 * the graph fails to compile with FROST_E_SHAPE naming the node.
 */

typedef struct frost_context frost_context;

/** One byte string: an item of a string input.  `data` may be NULL when
 *  `size` is 0. */
typedef struct frost_string {
    const void *data;
    size_t size;
} frost_string;

/** The dtype of model input `index`: FROST_DTYPE_FLOAT, or
 *  FROST_DTYPE_STRING for a string input (above); FROST_DTYPE_INVALID for
 *  a NULL model or an index out of range. */
FROST_API frost_dtype frost_model_input_dtype(const frost_model *model, int index);

/** The dtype of model output `index`: FROST_DTYPE_FLOAT (every output is
 *  float32, integer results included); FROST_DTYPE_INVALID for a NULL model
 *  or an index out of range. */
FROST_API frost_dtype frost_model_output_dtype(const frost_model *model, int index);

/** Binds the strings of string input `index` for the next
 *  frost_context_run() on this context: strings[0 .. count), item i of the
 *  batch being strings[i]; count must equal that run's batch.  frost copies
 *  neither the array nor the bytes it points to: both must stay valid and
 *  unchanged until that run returns.  The binding is used by that one run
 *  (successful or not) and then dropped: bind again before every run.  In
 *  the run, inputs[index] is not read (it may be NULL).
 *  FROST_E_INVALID_ARGUMENT (message in frost_context_error()) when the
 *  context is NULL, the input is not a string input, strings is NULL, or
 *  count is outside 1 .. frost_model_max_batch(). */
FROST_API frost_status frost_context_set_string_input(frost_context *context, int index, const frost_string *strings,
                                                      int count);

/* ------------------------------------------------------------------------ */
/* Contexts (run step)                                                        */
/* ------------------------------------------------------------------------ */

/** A context holds the activation arena of one thread.  Cheap to create. */
FROST_API frost_status frost_context_create(const frost_model *model, frost_context **context_out, char **error_out);

FROST_API void frost_context_free(frost_context *context);

/** Run `batch` items (1 <= batch <= max_batch).
 *  inputs[i]  : float32 NHWC data of input i, batch * frost_model_input_size(i) elements
 *               (not read for a string input: see frost_context_set_string_input()).
 *  outputs[j] : caller buffer for output j, batch * frost_model_output_size(j) elements.
 *  Allocates nothing, except on the first run at a batch size not used before
 *  by this context (the plan for that batch size is built and cached). */
FROST_API frost_status frost_context_run(frost_context *context, int batch, const float *const *inputs,
                                         float *const *outputs);

/** Build (or find in the model's cache) the plan for `batch` items and bind this
 *  context's arena for it, without running anything: afterwards the first run
 *  at that batch size carries no one-time cost either.  Optional; the first
 *  run at a new batch size does the same by itself.  FROST_E_LIMIT when batch
 *  is outside 1..max_batch. */
FROST_API frost_status frost_context_reserve(frost_context *context, int batch);

/** Bytes of activation arena this context holds: one arena per batch size
 *  it has run or reserved (frost_compile_stats.arena_bytes is batch 1's).
 *  0 for NULL or a context that has not run yet. */
FROST_API size_t frost_context_arena_bytes(const frost_context *context);

/** Shorthand for a model with one input and one output. */
FROST_API frost_status frost_context_run1(frost_context *context, int batch, const float *input, float *output);

/** The message of the last failed call on this context, or "" if none.
 *  Valid until the next call on the context. */
FROST_API const char *frost_context_error(const frost_context *context);

/** Per-op timing of the runs made with options.profiling set. */
typedef struct frost_op_profile {
    const char *name;    /**< TensorFlow node name of the (fused) step */
    const char *op;      /**< op type ("Conv2D+BiasAdd+Relu") */
    const char *kernel;  /**< implementation ("onednn:brgconv", "reference") */
    double total_ms;     /**< summed over all runs since the last reset */
    int64_t runs;
    int64_t flops;       /**< per run (0 where not meaningful) */
} frost_op_profile;

/** Points *profile_out at an array of *count_out entries owned by the context
 *  (valid until the next run or free).  FROST_E_INVALID_ARGUMENT if profiling
 *  was not enabled. */
FROST_API frost_status frost_context_profile(const frost_context *context, const frost_op_profile **profile_out,
                                             int *count_out);
FROST_API void frost_context_profile_reset(frost_context *context);

/* ------------------------------------------------------------------------ */
/* Post-training quantization (`frost quantize`, docs/int8.md)                */
/* ------------------------------------------------------------------------ */
/* A frost_quantizer runs a float graph over calibration inputs and writes it
 * back as a standard TensorFlow GraphDef that any TensorFlow runs in float
 * with 8-bit quantization semantics:
 *  - the weights of every Conv2D, DepthwiseConv2dNative and MatMul (constant
 *    ones) stored as int8 with float scales (symmetric, [-127, 127], one scale
 *    per output channel or one per tensor), dequantized by Cast + Mul: a
 *    weight constant W becomes W/int8, W/scale, W/dequantize and W = Mul;
 *  - a FakeQuantWithMinMaxVars (8 bits, not narrow) with the calibrated range
 *    (widened to hold 0) on every activation input of those ops, pooling and
 *    concatenation, and on their outputs (after the bias, batch norm and
 *    activation that follow them alone), except where an output feeds only
 *    the classifier's head (reshapes, softmax, the model's outputs): node
 *    X/act_quant, which every reader of X then reads. */

/** frost_quantizer_create() flags. */
/** One weight scale per output channel (without it: one per tensor). */
#define FROST_QUANTIZE_PER_CHANNEL 0x1u
/** Activation ranges from the 0.01th and 99.99th percentiles of each
 *  observed batch, averaged over the batches (default: the min and max of
 *  all). */
#define FROST_QUANTIZE_PERCENTILE 0x2u
/** frost_quantizer_observe_dir() only: besides each image, observe its
 *  mirror image and three crops of 3/4 of its width and height (centre, top
 *  left, bottom right): five views an image, for ranges that hold more of
 *  what unseen images bring when the calibration set is small. */
#define FROST_QUANTIZE_AUGMENT 0x4u
/** The input layer stays float: a Conv2D, DepthwiseConv2dNative or MatMul
 *  that reads a model input (a Placeholder, through Identity, Reshape,
 *  ExpandDims or Pad) keeps its float weights and its input gets no
 *  FakeQuant.  Preprocessed images are off any 8-bit grid (bilinear
 *  resizing, normalisation) and the first layer's few input channels gain
 *  little from int8. */
#define FROST_QUANTIZE_FLOAT_INPUT_LAYER 0x8u
/** Every FROST_QUANTIZE_* flag. */
#define FROST_QUANTIZE_ALL 0xfu
/** What `frost quantize` and frost_options.calibrate_dir use by default:
 *  per-channel weights, min/max ranges, the input layer float (docs/int8.md
 *  has the measurements behind the choice). */
#define FROST_QUANTIZE_DEFAULT (FROST_QUANTIZE_PER_CHANNEL | FROST_QUANTIZE_FLOAT_INPUT_LAYER)

typedef struct frost_quantizer frost_quantizer;

/** Prepare the quantization of `graph`: choose its weights and activations
 *  and compile a float model that outputs every activation to calibrate.
 *  `options` (may be NULL) as for frost_model_compile(): the input (one
 *  input only: frost_quantizer_observe() feeds one), the outputs (NULL: the
 *  graph's sinks), max_batch, threads, backend.  `flags`: an OR of
 *  FROST_QUANTIZE_*; unknown bits are FROST_E_INVALID_ARGUMENT.  The
 *  quantizer keeps what it needs of the graph. */
FROST_API frost_status frost_quantizer_create(const frost_graph *graph, const frost_options *options, unsigned flags,
                                              frost_quantizer **quantizer_out, char **error_out);

/** The float model the quantizer runs (to find its image input's size with
 *  frost_model_image_spec(); its outputs are the graph's followed by the
 *  activations).  Owned by the quantizer. */
FROST_API const frost_model *frost_quantizer_model(const frost_quantizer *quantizer);

/** Run `batch` calibration items (the model input's layout, as
 *  frost_context_run()) and record the range of every activation.  Not
 *  thread-safe on one quantizer. */
FROST_API frost_status frost_quantizer_observe(frost_quantizer *quantizer, int batch, const float *input,
                                               char **error_out);

struct frost_preprocess;

/** Run the image files under directory `dir` (walked recursively, paths in
 *  byte order, hidden entries and files that are not images by their first
 *  bytes skipped) through the quantizer, decoded as frost_image_load() and
 *  preprocessed by frost_image_preprocess() with `preprocess` (NULL: mean
 *  0, std 255, FROST_RESIZE_TF1; width and height 0: the model's image
 *  input's), in batches of up to 8 items; with FROST_QUANTIZE_AUGMENT, five
 *  views of each image.  `max_images` > 0: the first that many images only.
 *  *images_out (may be NULL): the images used.  FROST_E_IO naming the
 *  directory when it cannot be read, FROST_E_INVALID_ARGUMENT when it holds
 *  no image or the model has no image input of that size, an image's
 *  decoding status naming the file when one does not decode. */
FROST_API frost_status frost_quantizer_observe_dir(frost_quantizer *quantizer, const char *dir,
                                                   const struct frost_preprocess *preprocess, int max_images,
                                                   int *images_out, char **error_out);

/** frost_quantizer_create(), frost_quantizer_observe_dir() on every image
 *  under `dir` and frost_quantizer_graphdef(), the result loaded: the
 *  quantized graph in memory in *graph_out (frost_graph_free() it), the
 *  graph `frost quantize --calibrate DIR` writes with the same flags and
 *  options.  `options` as for frost_quantizer_create() (its precision and
 *  calibrate_dir are not used; max_batch is 8, as `frost quantize`'s).
 *  frost_options.calibrate_dir uses it with FROST_QUANTIZE_DEFAULT. */
FROST_API frost_status frost_quantize_graph(const frost_graph *graph, const frost_options *options, unsigned flags,
                                            const char *dir, const struct frost_preprocess *preprocess,
                                            frost_graph **graph_out, char **error_out);

/** Weights quantized, activations given a FakeQuant, items observed so far
 *  (each pointer may be NULL).  FROST_E_INVALID_ARGUMENT for a NULL quantizer. */
FROST_API frost_status frost_quantizer_summary(const frost_quantizer *quantizer, int *weights_out,
                                               int *activations_out, int *images_out);

/** The quantized GraphDef's bytes in a buffer for the caller
 *  (frost_free() it).  FROST_E_INVALID_ARGUMENT before any item was
 *  observed; FROST_E_GRAPH when a name the rewrite adds is taken or a weight
 *  is not finite (the message names the node). */
FROST_API frost_status frost_quantizer_graphdef(const frost_quantizer *quantizer, void **data_out, size_t *size_out,
                                                char **error_out);

FROST_API void frost_quantizer_free(frost_quantizer *quantizer);

/* ------------------------------------------------------------------------ */
/* Images                                                                     */
/* ------------------------------------------------------------------------ */

/** A decoded 8-bit RGB image, rows top to bottom, 3 bytes a pixel. */
typedef struct frost_image {
    int width;
    int height;
    uint8_t *rgb; /**< width * height * 3 bytes, owned by the image */
} frost_image;

typedef enum frost_image_format {
    FROST_IMAGE_UNKNOWN = 0,
    FROST_IMAGE_JPEG,
    FROST_IMAGE_PNG,
    FROST_IMAGE_BMP,
    FROST_IMAGE_GIF
} frost_image_format;

typedef struct frost_decode_options {
    /** Images with more pixels than this are rejected with FROST_E_LIMIT before
     *  any pixel buffer is allocated.  0: the default, 100 megapixels. */
    int64_t max_pixels;
    /** Non-zero: JPEG only, decode at 1/2, 1/4 or 1/8 scale (libjpeg-turbo DCT
     *  scaling) while the result stays at least twice target_width x
     *  target_height.  Faster; NOT identical to TensorFlow's decode_jpeg. */
    int fast_decode;
    int target_width;
    int target_height;
    /** JPEG's inverse DCT, as decode_jpeg's `dct_method`:
     *  FROST_DCT_INTEGER_FAST (0, TensorFlow's default, "" or "INTEGER_FAST")
     *  or FROST_DCT_INTEGER_ACCURATE ("INTEGER_ACCURATE"); other values are
     *  FROST_E_INVALID_ARGUMENT.  (Appended in 0.1: a program compiled with
     *  an older header never sets it and gets the default.) */
    int dct_method;
} frost_decode_options;

/** frost_decode_options.dct_method. */
#define FROST_DCT_INTEGER_FAST 0
#define FROST_DCT_INTEGER_ACCURATE 1

FROST_API void frost_decode_options_init(frost_decode_options *options);

/** The format named by the first bytes, FROST_IMAGE_UNKNOWN if none. */
FROST_API frost_image_format frost_image_detect(const void *data, size_t size);

/** Decode JPEG / PNG / BMP / GIF (first frame) bytes to RGB, choosing the
 *  decoder by magic bytes.  JPEG decodes as TensorFlow's decode_jpeg does by
 *  default (integer-fast DCT, fancy upsampling); grayscale, CMYK, palette and
 *  16-bit images become 8-bit RGB; alpha is dropped.  `options` may be NULL. */
FROST_API frost_status frost_image_decode(const void *data, size_t size, const frost_decode_options *options,
                                          frost_image **image_out, char **error_out);

/** Read and decode a file.  Messages name the file. */
FROST_API frost_status frost_image_load(const char *path, const frost_decode_options *options,
                                        frost_image **image_out, char **error_out);

FROST_API void frost_image_free(frost_image *image);

typedef enum frost_resize {
    FROST_RESIZE_TF1 = 0,       /**< ResizeBilinear, align_corners=false, half_pixel_centers=false (label_image) */
    FROST_RESIZE_TF2,           /**< half_pixel_centers=true (TF2 tf.image.resize) */
    FROST_RESIZE_ALIGN_CORNERS  /**< align_corners=true (TensorFlow.js models) */
} frost_resize;

typedef struct frost_preprocess {
    int width;           /**< target size */
    int height;
    float mean;          /**< out = (pixel - mean) / std */
    float std;
    frost_resize resize;
} frost_preprocess;

/** Bilinear-resize `image` to width x height with TensorFlow's formulas (in
 *  float, as ResizeBilinear on a float tensor) and normalise; writes
 *  height * width * 3 floats (HWC) to `out`.  Allocates nothing. */
FROST_API frost_status frost_image_preprocess(const frost_image *image, const frost_preprocess *pp, float *out);

/* ------------------------------------------------------------------------ */
/* Classifying: the rules every frost classifier follows                      */
/* ------------------------------------------------------------------------ */
/* `frost classify`, `frost serve`, `frost bench` and the Python package find
 * a graph's image input, its size and the best classes with these functions,
 * so that they agree with each other and with TensorFlow's label_image. */

/** label_image's image size (height and width) for a graph whose input
 *  Placeholder leaves it open and a caller who gives none. */
#define FROST_IMAGE_DEFAULT_SIZE 299

/** Where a graph or a compiled model takes images.  Filled by
 *  frost_graph_image_spec() (before compiling: what to compile) and by
 *  frost_model_image_spec() (after).  The strings belong to the graph or the
 *  model (or are the `input` string passed in) and live as long as it. */
typedef struct frost_image_spec {
    /** The input that takes images: for a graph, the index of its Placeholder
     *  (frost_graph_placeholder_name()), -1 when the input named is not a
     *  Placeholder or when none could be chosen; for a model, the index of
     *  its input (frost_model_input_name()), -1 when none takes images. */
    int input;
    /** That input's name; NULL when none could be chosen. */
    const char *input_name;
    /** The classifier's scores: the graph's only sink / the model's only
     *  output; NULL when there are several (the caller names one). */
    const char *output_name;
    /** The image the input takes: rows, columns and channels (NHWC); all 0
     *  when the input is not of rank 4 or was not chosen. */
    int height;
    int width;
    int channels;
    /** Graph only: non-zero when the Placeholder does not declare the whole
     *  [batch, height, width, channels] (or the input is not a Placeholder),
     *  so the caller compiles with `shape` as this input's
     *  frost_options.input_shapes.  0 for a model. */
    int needs_shape;
    /** [-1, height, width, channels]; rank -1 when height is 0. */
    frost_shape shape;
} frost_image_spec;

/** Where `graph` takes images, with label_image's rules, before compiling.
 *
 *  The input: `input` ("name" or "name:0") when given, else the graph's only
 *  Placeholder, else its Placeholder named "input"; when there is no such
 *  Placeholder, spec_out->input is -1 and input_name NULL (and FROST_OK: a
 *  command line asks for a name, a library may compile every Placeholder).
 *
 *  The size: the Placeholder's declared [N, H, W, C] where it is known; a
 *  `width` or `height` (> 0; 0: not given) that contradicts it is
 *  FROST_E_INVALID_ARGUMENT with a message that says "conflict"; where the
 *  Placeholder leaves it open (or the input is not a Placeholder), `width`
 *  and `height`, else FROST_IMAGE_DEFAULT_SIZE.  The channels: the
 *  Placeholder's declared count when known (a grayscale [?, ?, ?, 1] input
 *  stays 1: forcing 3 would contradict the graph, and
 *  frost_model_image_spec() then reports it as no image input), else 3.
 *  A Placeholder of a known rank other than 4 is not an image input:
 *  height, width and channels are 0 and needs_shape 0 (compile it as
 *  declared; frost_model_image_spec() will find no image input).
 *
 *  The output: the graph's only sink, NULL when it has several.
 *
 *  Reads the graph only; thread-safe.  FROST_E_INVALID_ARGUMENT when graph
 *  or spec_out is NULL, width or height is negative, or on a conflict. */
FROST_API frost_status frost_graph_image_spec(const frost_graph *graph, const char *input, int width, int height,
                                              frost_image_spec *spec_out, char **error_out);

/** Which input of a compiled model takes images: the first of shape
 *  [batch, height, width, 3] (frost_image_preprocess() writes RGB), with its
 *  height and width (channels is 3); output_name is the model's only output
 *  (NULL when it has several).  FROST_E_SHAPE when no input has that shape
 *  (spec_out->input = -1; the message names every input and its shape),
 *  FROST_E_INVALID_ARGUMENT when model or spec_out is NULL.  Thread-safe. */
FROST_API frost_status frost_model_image_spec(const frost_model *model, frost_image_spec *spec_out, char **error_out);

/** The k best of `count` scores, best first, as every frost classifier ranks
 *  them: indices_out[0 .. n) receives the indices of the n = min(k, count)
 *  largest scores and scores_out (optional, may be NULL) their values;
 *  *count_out = n.  Ties rank the lower index first; NaN ranks below every
 *  number, -Inf included (NaNs among themselves by index), so a NaN output
 *  never hides a real class.  k == 0 or count == 0: nothing written, n = 0.
 *  Allocates nothing, O(count log n), thread-safe.
 *  FROST_E_INVALID_ARGUMENT (nothing written) when count_out is NULL, k < 0,
 *  count > INT_MAX, scores is NULL with count > 0, or indices_out is NULL
 *  with n > 0. */
FROST_API frost_status frost_top_k(const float *scores, size_t count, int k, int *indices_out, float *scores_out,
                                   int *count_out);

#ifdef __cplusplus
}
#endif

#endif /* FROST_H */

/* A small TF2-style SavedModel built in memory (saved_model.pb, the bundle's
 * index and data), with variants that make it hostile.  The model:
 *
 *   x = Placeholder [-1, 3];  v = VarHandleOp [3] (shared_name "v_shared")
 *   call = StatefulPartitionedCall(x, v, f = outer_fn)      -> signature output y
 *   outer_fn(a, r):  inner = StatefulPartitionedCall(a, r, f = inner_fn)
 *                    idn = IdentityN(inner:output:0, a);    ret out = idn:output:0
 *   inner_fn(p, q):  rd = ReadVariableOp(q);  m = Mul(p, rd:value:0)
 *                    c1 = Const 1;  s = AddV2(m:z:0, c1:output:0);   ret z = s:z:0
 *
 * so y = x * v + 1, v = [1, 2, 3] under the checkpoint key the object graph
 * gives ("v/.ATTRIBUTES/VARIABLE_VALUE"; the bundle also holds a decoy
 * "v_shared" = [9, 9, 9]). */
#ifndef FROST_SM_SYNTH_H
#define FROST_SM_SYNTH_H

#include "sm_build.h"

enum {
    SY_OK = 0,
    SY_RECURSIVE,   /* inner_fn calls outer_fn */
    SY_MISSING_FN,  /* outer_fn calls a function the library lacks */
    SY_ASSIGN,      /* inner_fn also assigns the variable */
    SY_CYCLE,       /* m and s depend on each other */
    SY_ARG_COUNT,   /* the call passes one input to a function of two */
    SY_NO_KEY,      /* the bundle lacks the variable's tensor */
    SY_BAD_OUTPUT,  /* a node input names an output the op does not have */
    SY_PLACEHOLDER, /* the function's output needs a Placeholder not in the signature */
    SY_BAD_ATTR,    /* a node the signature does not reach has an AttrValue of malformed wire format */
    SY_BAD_SHAPE,   /* that node's AttrValue is well-formed, the TensorShapeProto inside it not */
    SY_COUNT
};

static void sy_attr_f(fr_gdw *g, const char *fn) {
    fr_pbw nal, av;
    fr_pbw_init(&nal);
    fr_pbw_init(&av);
    fr_pbw_str(&nal, 1, fn);
    fr_pbw_msg(&av, 10, &nal);
    fr_gdw_attr_raw(g, "f", av.data, av.len);
    fr_pbw_free(&nal);
    fr_pbw_free(&av);
}

static void sy_attr_types(fr_gdw *g, const char *key, int n) {
    fr_pbw list, av;
    fr_pbw_init(&list);
    fr_pbw_init(&av);
    for (int i = 0; i < n; i++) fr_pbw_int(&list, 6, 1);
    fr_pbw_msg(&av, 1, &list);
    fr_gdw_attr_raw(g, key, av.data, av.len);
    fr_pbw_free(&list);
    fr_pbw_free(&av);
}

static void sy_call(fr_gdw *g, const char *name, const char *fn, const char *const *in, int n_in) {
    fr_gdw_node_begin(g, name, "StatefulPartitionedCall");
    for (int i = 0; i < n_in; i++) fr_gdw_input(g, in[i]);
    sy_attr_f(g, fn);
    sy_attr_types(g, "Tin", n_in);
    sy_attr_types(g, "Tout", 1);
    fr_gdw_node_end(g);
}

/* ArgDef {name = 1, type = 3} */
static void sy_arg(fr_pbw *op, int field, const char *name) {
    fr_pbw a;
    fr_pbw_init(&a);
    fr_pbw_str(&a, 1, name);
    fr_pbw_int(&a, 3, 1);
    fr_pbw_msg(op, field, &a);
    fr_pbw_free(&a);
}

/* FunctionDef {signature = 1, node_def = 3 (the GraphDef's nodes), ret = 4} into the library. */
static void sy_function(fr_pbw *lib, const char *name, const char *const *args, int n_args, const char *ret_name,
                        const char *ret, fr_gdw *body) {
    fr_pbw fn, sig, entry;
    fr_pbw_init(&fn);
    fr_pbw_init(&sig);
    fr_pbw_init(&entry);
    fr_pbw_str(&sig, 1, name);
    for (int i = 0; i < n_args; i++) sy_arg(&sig, 2, args[i]);
    sy_arg(&sig, 3, ret_name);
    fr_pbw_msg(&fn, 1, &sig);
    size_t n;
    const uint8_t *gd = fr_gdw_finish(body, &n);
    pb_reader r = pb_make(gd, n);
    pb_field f;
    while (pb_more(&r) && !pb_next(&r, &f))
        if (f.number == 1) fr_pbw_bytes(&fn, 3, f.ptr, f.len);
    fr_pbw_str(&entry, 1, ret_name);
    fr_pbw_str(&entry, 2, ret);
    fr_pbw_msg(&fn, 4, &entry);
    fr_pbw_msg(lib, 1, &fn);
    fr_pbw_free(&fn);
    fr_pbw_free(&sig);
    fr_pbw_free(&entry);
}

/* ObjectReference {node_id = 1, local_name = 2} */
static void sy_child(fr_pbw *node, int id, const char *name) {
    fr_pbw r;
    fr_pbw_init(&r);
    fr_pbw_int(&r, 1, id);
    fr_pbw_str(&r, 2, name);
    fr_pbw_msg(node, 1, &r);
    fr_pbw_free(&r);
}

/* Builds saved_model.pb into *pb and the bundle into *index / *data. */
static void sy_build(int variant, fr_pbw *pb, fr_pbw *index, fr_pbw *data) {
    static const int64_t xdims[2] = {-1, 3}, vdims[1] = {3};
    fr_gdw *g = fr_gdw_new();
    fr_gdw_placeholder(g, "x", 2, xdims);
    fr_gdw_node_end(g);
    fr_gdw_node_begin(g, "v", "VarHandleOp");
    fr_gdw_attr_type(g, "dtype", 1);
    fr_gdw_attr_shape(g, "shape", 1, vdims);
    fr_gdw_attr_str(g, "shared_name", "v_shared");
    fr_gdw_node_end(g);
    if (variant == SY_BAD_ATTR || variant == SY_BAD_SHAPE) {
        /* AttrValue.s (2) of 200 bytes in 2, or AttrValue.shape (7) holding dim (2) of 200 bytes in 2 */
        static const uint8_t s_cut[] = {0x12, 0xc8, 0x01, 'a', 'b'}, shape_cut[] = {0x3a, 0x05, 0x12, 0xc8, 0x01, 'a', 'b'};
        fr_gdw_node_begin(g, "junk", "NoOp");
        if (variant == SY_BAD_ATTR) fr_gdw_attr_raw(g, "bad", s_cut, sizeof s_cut);
        else fr_gdw_attr_raw(g, "bad", shape_cut, sizeof shape_cut);
        fr_gdw_node_end(g);
    }
    const char *call_in[2] = {"x", "v"};
    sy_call(g, "call", "outer_fn", call_in, variant == SY_ARG_COUNT ? 1 : 2);
    fr_pbw lib;
    fr_pbw_init(&lib);
    /* outer_fn */
    fr_gdw *b = fr_gdw_new();
    const char *inner_in[2] = {"a", "r"};
    sy_call(b, "inner", variant == SY_MISSING_FN ? "nope_fn" : "inner_fn", inner_in, 2);
    fr_gdw_node(b, "idn", "IdentityN", (const char *[]){"inner:output:0", "a", NULL});
    sy_attr_types(b, "T", 2);
    fr_gdw_node_end(b);
    sy_function(&lib, "outer_fn", (const char *[]){"a", "r"}, 2, "out", "idn:output:0", b);
    fr_gdw_free(b);
    /* inner_fn */
    b = fr_gdw_new();
    fr_gdw_node(b, "rd", "ReadVariableOp", (const char *[]){"q", NULL});
    fr_gdw_attr_type(b, "dtype", 1);
    fr_gdw_node_end(b);
    if (variant == SY_RECURSIVE) {
        sy_call(b, "m", "outer_fn", (const char *[]){"p", "q"}, 2);
    } else {
        fr_gdw_node(b, "m", "Mul",
                    (const char *[]){"p", variant == SY_CYCLE ? "s:z:0" : variant == SY_BAD_OUTPUT ? "rd:nosuch:0" : "rd:value:0",
                                     NULL});
        fr_gdw_attr_type(b, "T", 1);
        fr_gdw_node_end(b);
    }
    float one = 1.0f;
    fr_gdw_node_begin(b, "c1", variant == SY_PLACEHOLDER ? "Placeholder" : "Const");
    fr_gdw_attr_type(b, "dtype", 1);
    if (variant != SY_PLACEHOLDER) fr_gdw_attr_tensor(b, "value", 1, 0, NULL, &one, 4);
    fr_gdw_node_end(b);
    fr_gdw_node(b, "s", "AddV2", (const char *[]){variant == SY_RECURSIVE ? "m:output:0" : "m:z:0", "c1:output:0", NULL});
    fr_gdw_attr_type(b, "T", 1);
    fr_gdw_node_end(b);
    if (variant == SY_ASSIGN) {
        fr_gdw_node(b, "assign", "AssignVariableOp", (const char *[]){"q", "m:z:0", NULL});
        fr_gdw_attr_type(b, "dtype", 1);
        fr_gdw_node_end(b);
    }
    sy_function(&lib, "inner_fn", (const char *[]){"p", "q"}, 2, "z", "s:z:0", b);
    fr_gdw_free(b);
    size_t n;
    const uint8_t *gd = fr_gdw_finish(g, &n);
    fr_pbw graph;
    fr_pbw_init(&graph);
    fr_pbw_raw(&graph, gd, n);
    fr_pbw_msg(&graph, 2, &lib);
    fr_gdw_free(g);
    fr_pbw_free(&lib);
    /* stripped_op_list: the OpDefs of Mul (output z) and ReadVariableOp (output value) */
    fr_pbw ops, op, info, mg, og, node, var, cf, scf;
    fr_pbw_init(&ops);
    fr_pbw_init(&op);
    fr_pbw_init(&info);
    fr_pbw_init(&mg);
    fr_pbw_init(&og);
    fr_pbw_init(&node);
    fr_pbw_init(&var);
    fr_pbw_init(&cf);
    fr_pbw_init(&scf);
    fr_pbw_str(&op, 1, "Mul");
    sy_arg(&op, 2, "x");
    sy_arg(&op, 2, "y");
    sy_arg(&op, 3, "z");
    fr_pbw_msg(&ops, 1, &op);
    fr_pbw_reset(&op);
    fr_pbw_str(&op, 1, "ReadVariableOp");
    sy_arg(&op, 2, "resource");
    sy_arg(&op, 3, "value");
    fr_pbw_msg(&ops, 1, &op);
    fr_pbw_msg(&info, 2, &ops);
    fr_pbw_str(&info, 4, "serve");
    fr_pbw_msg(&mg, 1, &info);
    fr_pbw_msg(&mg, 2, &graph);
    sb_predict_signature(&mg, "x:0", "call:0", 2, xdims);
    /* SavedObjectGraph: root -> "v" (a variable); concrete function outer_fn captures it */
    sy_child(&node, 1, "v");
    fr_pbw_msg(&og, 1, &node);
    fr_pbw_reset(&node);
    fr_pbw_int(&var, 1, 1);
    fr_pbw_str(&var, 6, "v");
    fr_pbw_msg(&node, 7, &var);
    fr_pbw_msg(&og, 1, &node);
    fr_pbw_packed_int(&scf, 2, 1, (const int64_t[]){1});
    fr_pbw_str(&cf, 1, "outer_fn");
    fr_pbw_msg(&cf, 2, &scf);
    fr_pbw_msg(&og, 2, &cf);
    fr_pbw_msg(&mg, 7, &og);
    fr_pbw_int(pb, 1, 1);
    fr_pbw_msg(pb, 2, &mg);
    /* the checkpoint's TrackableObjectGraph: root -> "v" with its key */
    fr_pbw tog, tnode, attr;
    fr_pbw_init(&tog);
    fr_pbw_init(&tnode);
    fr_pbw_init(&attr);
    sy_child(&tnode, 1, "v");
    fr_pbw_msg(&tog, 1, &tnode);
    fr_pbw_reset(&tnode);
    fr_pbw_str(&attr, 1, "VARIABLE_VALUE");
    fr_pbw_str(&attr, 2, "v");
    fr_pbw_str(&attr, 3, "v/.ATTRIBUTES/VARIABLE_VALUE");
    fr_pbw_msg(&tnode, 2, &attr);
    fr_pbw_msg(&tog, 1, &tnode);
    char *togs = calloc(1, tog.len + 1);
    memcpy(togs, tog.data, tog.len);
    size_t tog_len = tog.len;
    static const float v[3] = {1, 2, 3}, decoy[3] = {9, 9, 9};
    sb_tensor t[3] = {
        {"_CHECKPOINTABLE_OBJECT_GRAPH", 7, 0, {0}, NULL, tog_len, togs, 0, 0, 0},
        {variant == SY_NO_KEY ? "v/other" : "v/.ATTRIBUTES/VARIABLE_VALUE", 1, 1, {3}, v, sizeof v, NULL, 0, 0, 0},
        {"v_shared", 1, 1, {3}, decoy, sizeof decoy, NULL, 0, 0, 0},
    };
    sb_bundle(index, data, t, 3, 1, 0);
    free(togs);
    fr_pbw *all[] = {&ops, &op, &info, &mg, &og, &node, &var, &cf, &scf, &graph, &tog, &tnode, &attr};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) fr_pbw_free(all[i]);
}

#endif

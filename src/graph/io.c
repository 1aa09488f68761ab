/* Inputs and outputs of a model, resolved against its graph (io.h). */
#include "graph/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_names(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

void fr_io_spec_free(fr_io_spec *s) {
    if (!s) return;
    free_names(s->in_names, s->n_inputs);
    free_names(s->out_names, s->n_outputs);
    free(s->in_node);
    free(s->in_index);
    free(s->in_dtype);
    free(s->in_shape);
    free(s->out_node);
    free(s->out_index);
    memset(s, 0, sizeof *s);
}

/* "name" or "name:N" -> node, index; -1 if not found. */
static int parse_tensor_name(const frost_graph *g, const char *s, int *index) {
    size_t len = strlen(s);
    *index = 0;
    int n = fr_graph_find(g, s, len);
    if (n >= 0) return n;
    const char *colon = strrchr(s, ':');
    if (!colon || !colon[1] || strlen(colon + 1) > 4) return -1;
    int v = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
    }
    *index = v;
    return fr_graph_find(g, s, (size_t)(colon - s));
}

static char *tensor_name(const char *node, int index) {
    size_t n = strlen(node) + 16;
    char *s = malloc(n);
    if (!s) return NULL;
    if (index) snprintf(s, n, "%s:%d", node, index);
    else snprintf(s, n, "%s", node);
    return s;
}

/* Placeholders reachable from the outputs (data edges), in GraphDef order. */
static frost_status find_placeholders(const frost_graph *g, const fr_io_spec *s, char *mark) {
    int *stack = malloc(sizeof(int) * (size_t)(g->n_nodes + 1));
    if (!stack) return FROST_E_NO_MEMORY;
    int sp = 0;
    for (int i = 0; i < s->n_outputs; i++)
        if (!mark[s->out_node[i]]) mark[s->out_node[i]] = 1, stack[sp++] = s->out_node[i];
    while (sp) {
        const fr_node *n = &g->nodes[stack[--sp]];
        if (!strcmp(n->op, "Placeholder")) continue;
        for (int k = 0; k < n->n_inputs; k++) {
            int c = n->inputs[k].node;
            if (c >= 0 && !mark[c]) mark[c] = 1, stack[sp++] = c;
        }
    }
    free(stack);
    return FROST_OK;
}

frost_status fr_io_resolve(const frost_graph *g, const frost_options *opt, fr_io_spec *s, char **err) {
    memset(s, 0, sizeof *s);
    frost_status st = FROST_OK;
    int n_out = opt->outputs && opt->num_outputs > 0 ? opt->num_outputs : g->n_sinks;
    if (n_out <= 0) {
        fr_errorf(err, "%s: the graph has no outputs (no sink nodes)", g->source);
        return FROST_E_GRAPH;
    }
    s->out_node = calloc((size_t)n_out, sizeof(int));
    s->out_index = calloc((size_t)n_out, sizeof(int));
    s->out_names = calloc((size_t)n_out, sizeof(char *));
    if (!s->out_node || !s->out_index || !s->out_names) goto oom;
    for (int i = 0; i < n_out; i++) {
        if (opt->outputs && opt->num_outputs > 0) {
            const char *nm = opt->outputs[i];
            if (!nm || (s->out_node[i] = parse_tensor_name(g, nm, &s->out_index[i])) < 0) {
                fr_errorf(err, "%s: output '%s' is not a node of the graph", g->source, nm ? nm : "(null)");
                st = FROST_E_NOT_FOUND;
                goto fail;
            }
        } else {
            s->out_node[i] = g->sinks[i];
        }
        if (!(s->out_names[i] = tensor_name(g->nodes[s->out_node[i]].name, s->out_index[i]))) goto oom;
        s->n_outputs++;
    }
    /* inputs */
    int n_in;
    if (opt->inputs && opt->num_inputs > 0) {
        n_in = opt->num_inputs;
        s->in_node = calloc((size_t)n_in, sizeof(int));
        if (!s->in_node) goto oom;
        for (int i = 0; i < n_in; i++) {
            int idx;
            const char *nm = opt->inputs[i];
            if (!nm || (s->in_node[i] = parse_tensor_name(g, nm, &idx)) < 0 || idx != 0) {
                fr_errorf(err, "%s: input '%s' is not a node of the graph", g->source, nm ? nm : "(null)");
                st = FROST_E_NOT_FOUND;
                goto fail;
            }
        }
    } else {
        char *mark = calloc((size_t)g->n_nodes + 1, 1);
        s->in_node = calloc((size_t)g->n_nodes + 1, sizeof(int));
        if (!mark || !s->in_node || find_placeholders(g, s, mark) != FROST_OK) {
            free(mark);
            goto oom;
        }
        n_in = 0;
        for (int i = 0; i < g->n_placeholders; i++)
            if (mark[g->placeholders[i]]) s->in_node[n_in++] = g->placeholders[i];
        free(mark);
    }
    s->in_shape = calloc((size_t)n_in + 1, sizeof *s->in_shape);
    s->in_names = calloc((size_t)n_in + 1, sizeof(char *));
    s->in_dtype = calloc((size_t)n_in + 1, sizeof(int));
    if (!s->in_shape || !s->in_names || !s->in_dtype) goto oom;
    for (int i = 0; i < n_in; i++) {
        const fr_node *n = &g->nodes[s->in_node[i]];
        if (!(s->in_names[i] = tensor_name(n->name, 0))) goto oom;
        s->n_inputs++;
        for (int j = 0; j < i; j++)
            if (s->in_node[j] == s->in_node[i]) {
                fr_errorf(err, "%s: input '%s' is given twice", g->source, n->name);
                st = FROST_E_INVALID_ARGUMENT;
                goto fail;
            }
        fr_pb_attr a;
        int dtype = FR_DT_FLOAT;
        if (fr_node_attr_get(n, "dtype", &a) == 1 && a.kind == FR_ATTR_TYPE) dtype = (int)a.i;
        if (dtype != FR_DT_FLOAT && dtype != FR_DT_STRING) {
            fr_errorf(err, "%s: input '%s' has type %s; frost feeds float32 and string inputs only", g->source,
                      n->name, fr_dtype_name(dtype));
            st = FROST_E_GRAPH;
            goto fail;
        }
        s->in_dtype[i] = dtype;
        frost_shape *sh = &s->in_shape[i];
        sh->rank = -1;
        const char *why;
        fr_pb_shape ps;
        if (fr_node_attr_get(n, "shape", &a) == 1 && a.kind == FR_ATTR_SHAPE && fr_pb_parse_shape(a.ptr, a.len, &ps, &why) == 0) {
            sh->rank = ps.rank;
            for (int k = 0; k < ps.rank; k++) sh->dims[k] = ps.dims[k];
        }
        if (dtype == FR_DT_STRING) continue; /* its shape as declared (src/feed/feed.h) */
        if (opt->input_shapes) {
            const frost_shape *u = &opt->input_shapes[i];
            if (u->rank < 1 || u->rank > FROST_MAX_RANK) {
                fr_errorf(err, "%s: input '%s': the given shape has invalid rank %d", g->source, n->name, u->rank);
                st = FROST_E_SHAPE;
                goto fail;
            }
            if (sh->rank >= 0 && sh->rank != u->rank) {
                fr_errorf(err, "%s: input '%s': the given shape has rank %d, the graph says %d", g->source, n->name,
                          u->rank, sh->rank);
                st = FROST_E_SHAPE;
                goto fail;
            }
            for (int k = 1; k < u->rank; k++)
                if (sh->rank >= 0 && sh->dims[k] >= 0 && sh->dims[k] != u->dims[k]) {
                    fr_errorf(err, "%s: input '%s': dimension %d is %lld in the graph, %lld given", g->source, n->name,
                              k, (long long)sh->dims[k], (long long)u->dims[k]);
                    st = FROST_E_SHAPE;
                    goto fail;
                }
            *sh = *u;
        }
        if (sh->rank < 1) {
            fr_errorf(err, "%s: input '%s' has %s shape; give its shape in the options", g->source, n->name,
                      sh->rank < 0 ? "an unknown" : "a scalar");
            st = FROST_E_SHAPE;
            goto fail;
        }
        for (int k = 1; k < sh->rank; k++)
            if (sh->dims[k] <= 0) {
                fr_errorf(err, "%s: input '%s' has unknown or zero dimension %d; give its shape in the options",
                          g->source, n->name, k);
                st = FROST_E_SHAPE;
                goto fail;
            }
        sh->dims[0] = -1;
    }
    return FROST_OK;
oom:
    fr_errorf(err, "%s: out of memory", g->source);
    st = FROST_E_NO_MEMORY;
fail:
    fr_io_spec_free(s);
    return st;
}

/* oneDNN's 1x1 convolution with the next depthwise convolution fused in,
 * against the two primitives in turn, on MobileNet v1's nine pairs.
 *
 * MobileNet v1 alternates a 3x3 depthwise and a 1x1 convolution; oneDNN 2.6
 * can append the depthwise one to the 1x1 one as a post-op
 * (dnnl_post_ops_append_dw), so that the 1x1 output never leaves the cache.
 * For each pair (1x1 + bias + Relu6, then depthwise 3x3 at stride 1 or 2
 * with TensorFlow's SAME padding + bias + Relu6; blocked nChw8c layout as
 * frost's oneDNN steps use) this times both forms at batch N and prints the
 * implementation oneDNN picked (a JIT kernel, or ref_fused_convolution: the
 * two primitives in turn) and the ratio.  Median of 15 rounds of 5 runs.
 *
 *   build/dw_fusion [N] [--cold]    N images (default 4, frost's pass at
 *                                   batch 16); --cold writes 64 MB between
 *                                   runs, as the rest of a network would
 *
 * Uses oneDNN only (not frost): a measurement of what the library offers. */
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CK(x)                                                                 \
    do {                                                                      \
        dnnl_status_t s_ = (x);                                               \
        if (s_ != dnnl_success) {                                             \
            fprintf(stderr, "dw_fusion: %s failed (%d)\n", #x, (int)s_);     \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

enum { ROUNDS = 15, REPS = 5, MAX_ARGS = 6 };

typedef struct {
    dnnl_primitive_t p;
    int n;
    dnnl_exec_arg_t a[MAX_ARGS];
} job;

static dnnl_engine_t eng;
static dnnl_stream_t strm;
static char *junk;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median ms of one pass through the jobs */
static double time_jobs(job *j, int nj, int cold) {
    double t[ROUNDS];
    for (int w = 0; w < 3; w++)
        for (int i = 0; i < nj; i++) CK(dnnl_primitive_execute(j[i].p, strm, j[i].n, j[i].a));
    for (int r = 0; r < ROUNDS; r++) {
        double sum = 0;
        for (int k = 0; k < REPS; k++) {
            if (cold) memset(junk, r + k, 64 << 20);
            double t0 = now_ms();
            for (int i = 0; i < nj; i++) CK(dnnl_primitive_execute(j[i].p, strm, j[i].n, j[i].a));
            CK(dnnl_stream_wait(strm));
            sum += now_ms() - t0;
        }
        t[r] = sum / REPS;
    }
    qsort(t, ROUNDS, sizeof *t, cmp_d);
    return t[ROUNDS / 2];
}

static dnnl_memory_t mem(const dnnl_memory_desc_t *md) {
    dnnl_memory_t m;
    CK(dnnl_memory_create(&m, md, eng, DNNL_MEMORY_ALLOCATE));
    void *h;
    CK(dnnl_memory_get_data_handle(m, &h));
    float *f = h;
    size_t n = dnnl_memory_desc_get_size(md) / sizeof(float);
    for (size_t i = 0; i < n; i++) f[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    return m;
}

static const char *impl(const_dnnl_primitive_desc_t pd) {
    const char *s = "?";
    CK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s));
    return s;
}

static dnnl_exec_arg_t arg(int k, dnnl_memory_t m) {
    dnnl_exec_arg_t a = {k, m};
    return a;
}

static dnnl_primitive_attr_t relu6_attr(int with_dw, int stride) {
    dnnl_post_ops_t po;
    CK(dnnl_post_ops_create(&po));
    CK(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_clip, 0.0f, 6.0f));
    if (with_dw) {
        /* SAME padding: 1 before at stride 1; none before (1 after) at stride 2 on even sizes */
        CK(dnnl_post_ops_append_dw(po, dnnl_f32, dnnl_f32, dnnl_f32, 3, stride, stride == 2 ? 0 : 1, 0, 0, NULL));
        CK(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_clip, 0.0f, 6.0f));
    }
    dnnl_primitive_attr_t at;
    CK(dnnl_primitive_attr_create(&at));
    CK(dnnl_primitive_attr_set_post_ops(at, po));
    CK(dnnl_post_ops_destroy(po));
    return at;
}

int main(int argc, char **argv) {
    int n = 4, cold = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cold")) cold = 1;
        else if (atoi(argv[i]) > 0) n = atoi(argv[i]);
        else {
            fprintf(stderr, "usage: dw_fusion [N] [--cold]\n");
            return 2;
        }
    }
    junk = malloc(64 << 20);
    if (!junk) return 1;
    CK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
    /* 1x1 input size, its channels in and out, the depthwise stride */
    static const int pairs[][4] = {{112, 32, 64, 2}, {56, 64, 128, 1},  {56, 128, 128, 2},
                                   {28, 128, 256, 1}, {28, 256, 256, 2}, {14, 256, 512, 1},
                                   {14, 512, 512, 1}, {14, 512, 512, 2}, {7, 512, 1024, 1}};
    printf("MobileNet v1's 1x1 + depthwise pairs, batch %d%s, ms (median of %d rounds)\n", n,
           cold ? ", 64 MB written between runs" : "", ROUNDS);
    printf("%-22s %9s %9s %6s  %s\n", "1x1 then depthwise", "two", "fused", "ratio", "fused implementation");
    double sum2 = 0, sumf = 0;
    for (size_t l = 0; l < sizeof pairs / sizeof pairs[0]; l++) {
        int h = pairs[l][0], c = pairs[l][1], k = pairs[l][2], s = pairs[l][3], ho = (h + s - 1) / s;
        dnnl_dims_t sd = {n, c, h, h}, wd = {k, c, 1, 1}, bd = {k}, dd = {n, k, h, h}, od = {n, k, ho, ho};
        dnnl_dims_t dwd = {k, 1, 1, 3, 3}, one = {1, 1}, zero = {0, 0}, ss = {s, s};
        dnnl_dims_t pl = {s == 2 ? 0 : 1, s == 2 ? 0 : 1}, pr = {1, 1};
        dnnl_memory_desc_t src, w, b, mid, dst, dw;
        CK(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nChw8c));
        CK(dnnl_memory_desc_init_by_tag(&w, 4, wd, dnnl_f32, dnnl_format_tag_any));
        CK(dnnl_memory_desc_init_by_tag(&b, 1, bd, dnnl_f32, dnnl_x));
        CK(dnnl_memory_desc_init_by_tag(&mid, 4, dd, dnnl_f32, dnnl_nChw8c));
        CK(dnnl_memory_desc_init_by_tag(&dst, 4, od, dnnl_f32, dnnl_nChw8c));
        CK(dnnl_memory_desc_init_by_tag(&dw, 5, dwd, dnnl_f32, dnnl_format_tag_any));
        dnnl_primitive_attr_t plain = relu6_attr(0, s), fused = relu6_attr(1, s);

        dnnl_convolution_desc_t c1, c2;
        dnnl_primitive_desc_t pd1, pd2, pdf;
        CK(dnnl_convolution_forward_desc_init(&c1, dnnl_forward_inference, dnnl_convolution_direct, &src, &w, &b, &mid,
                                              one, zero, zero));
        CK(dnnl_convolution_forward_desc_init(&c2, dnnl_forward_inference, dnnl_convolution_direct, &mid, &dw, &b, &dst,
                                              ss, pl, pr));
        CK(dnnl_primitive_desc_create(&pd1, &c1, plain, eng, NULL));
        CK(dnnl_primitive_desc_create(&pd2, &c2, plain, eng, NULL));
        CK(dnnl_primitive_desc_create(&pdf, &c1, fused, eng, NULL));

        dnnl_memory_t m_src = mem(&src), m_b = mem(&b), m_mid = mem(&mid), m_dst = mem(&dst);
        dnnl_memory_t m_w = mem(dnnl_primitive_desc_query_md(pd1, dnnl_query_weights_md, 0));
        dnnl_memory_t m_dw = mem(dnnl_primitive_desc_query_md(pd2, dnnl_query_weights_md, 0));
        dnnl_memory_t m_fw = mem(dnnl_primitive_desc_query_md(pdf, dnnl_query_weights_md, 0));
        dnnl_memory_t m_fdw =
            mem(dnnl_primitive_desc_query_md(pdf, dnnl_query_exec_arg_md, DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS));
        dnnl_memory_t m_fdst = mem(dnnl_primitive_desc_query_md(pdf, dnnl_query_dst_md, 0));

        job two[2] = {{.n = 4}, {.n = 4}}, one_job = {.n = 6};
        CK(dnnl_primitive_create(&two[0].p, pd1));
        CK(dnnl_primitive_create(&two[1].p, pd2));
        CK(dnnl_primitive_create(&one_job.p, pdf));
        two[0].a[0] = arg(DNNL_ARG_SRC, m_src), two[0].a[1] = arg(DNNL_ARG_WEIGHTS, m_w);
        two[0].a[2] = arg(DNNL_ARG_BIAS, m_b), two[0].a[3] = arg(DNNL_ARG_DST, m_mid);
        two[1].a[0] = arg(DNNL_ARG_SRC, m_mid), two[1].a[1] = arg(DNNL_ARG_WEIGHTS, m_dw);
        two[1].a[2] = arg(DNNL_ARG_BIAS, m_b), two[1].a[3] = arg(DNNL_ARG_DST, m_dst);
        one_job.a[0] = arg(DNNL_ARG_SRC, m_src), one_job.a[1] = arg(DNNL_ARG_WEIGHTS, m_fw);
        one_job.a[2] = arg(DNNL_ARG_BIAS, m_b), one_job.a[3] = arg(DNNL_ARG_DST, m_fdst);
        one_job.a[4] = arg(DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS, m_fdw);
        one_job.a[5] = arg(DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_BIAS, m_b);

        double t2 = time_jobs(two, 2, cold), tf = time_jobs(&one_job, 1, cold);
        char name[32];
        snprintf(name, sizeof name, "%dx%d %d->%d s%d", h, h, c, k, s);
        printf("%-22s %9.3f %9.3f %6.3f  %s\n", name, t2, tf, tf / t2, impl(pdf));
        sum2 += t2;
        sumf += tf;

        dnnl_primitive_destroy(two[0].p);
        dnnl_primitive_destroy(two[1].p);
        dnnl_primitive_destroy(one_job.p);
        dnnl_memory_t ms[] = {m_src, m_b, m_mid, m_dst, m_w, m_dw, m_fw, m_fdw, m_fdst};
        for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) dnnl_memory_destroy(ms[i]);
        dnnl_primitive_desc_destroy(pd1);
        dnnl_primitive_desc_destroy(pd2);
        dnnl_primitive_desc_destroy(pdf);
        dnnl_primitive_attr_destroy(plain);
        dnnl_primitive_attr_destroy(fused);
    }
    printf("%-22s %9.3f %9.3f %6.3f\n", "all nine", sum2, sumf, sumf / sum2);
    dnnl_stream_destroy(strm);
    dnnl_engine_destroy(eng);
    free(junk);
    return 0;
}

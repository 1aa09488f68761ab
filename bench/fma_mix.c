/* How close an AVX2 register-tile loop can get to the FMA peak on this CPU.
 *
 * frost's indirect GEMM (src/kernels/x86/igemm_avx2.c) runs a 6 x 16 tile: per
 * input channel two 8-float weight loads and six broadcasts of an input
 * value feed 12 FMAs.  This program times, on one core with all data in
 * L1, the same loop mix written out (6x16, and the 4x24 / 3x32 shapes with
 * fewer broadcasts), against a loop of independent FMAs only (the peak),
 * and prints each as GFLOP/s and as a fraction of the peak measured in the
 * same run.  Median of --rounds rounds, loops interleaved.  Then the int8
 * loops a CPU without VNNI has (u8 x s8 as oneDNN's AVX2 kernels multiply,
 * and 16-bit products), in integer operations a second (a multiply-add is
 * two): how far int8 can go above FP32 on such a core.
 *
 *   build/fma_mix [--rounds N]
 *
 * x86-64 with AVX2 and FMA only (prints a note and exits 0 elsewhere). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TGT __attribute__((target("avx2,fma"), noinline))

enum { K = 256 };
static float A[6][K] __attribute__((aligned(64)));
static float B[K * 32] __attribute__((aligned(64)));

#define Z _mm256_setzero_ps()
#define F(a, b, c) c = _mm256_fmadd_ps(a, b, c)
#define SUM12(o)                                                                                                      \
    do {                                                                                                              \
        __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),                         \
                                 _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));                        \
        s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));                          \
        _mm256_storeu_ps(o, s);                                                                                       \
    } while (0)

/* 12 independent FMA chains, K * 12 FMAs per call, no memory operands */
TGT static void peak(float *o) {
    /* distinct starting values: identical chains would be merged */
#define S(i) _mm256_set1_ps((float)(i) * 1e-3f)
    __m256 c0 = S(0), c1 = S(1), c2 = S(2), c3 = S(3), c4 = S(4), c5 = S(5), c6 = S(6), c7 = S(7), c8 = S(8);
    __m256 c9 = S(9), c10 = S(10), c11 = S(11);
#undef S
    __m256 a = _mm256_set1_ps(o[8]), b = _mm256_set1_ps(o[9]);
    for (int k = 0; k < K; k++) {
        F(a, b, c0), F(a, b, c1), F(a, b, c2), F(a, b, c3), F(a, b, c4), F(a, b, c5);
        F(a, b, c6), F(a, b, c7), F(a, b, c8), F(a, b, c9), F(a, b, c10), F(a, b, c11);
        __asm__("" : "+x"(a), "+x"(b)); /* keep the operands opaque */
    }
    SUM12(o);
}

/* the indirect GEMM's loop: 2 loads + 6 broadcasts per 12 FMAs */
TGT static void t6x16(float *o) {
    __m256 c0 = Z, c1 = Z, c2 = Z, c3 = Z, c4 = Z, c5 = Z, c6 = Z, c7 = Z, c8 = Z, c9 = Z, c10 = Z, c11 = Z, a;
    for (int k = 0; k < K; k++) {
        __m256 b0 = _mm256_load_ps(B + k * 16), b1 = _mm256_load_ps(B + k * 16 + 8);
        a = _mm256_broadcast_ss(&A[0][k]), F(a, b0, c0), F(a, b1, c1);
        a = _mm256_broadcast_ss(&A[1][k]), F(a, b0, c2), F(a, b1, c3);
        a = _mm256_broadcast_ss(&A[2][k]), F(a, b0, c4), F(a, b1, c5);
        a = _mm256_broadcast_ss(&A[3][k]), F(a, b0, c6), F(a, b1, c7);
        a = _mm256_broadcast_ss(&A[4][k]), F(a, b0, c8), F(a, b1, c9);
        a = _mm256_broadcast_ss(&A[5][k]), F(a, b0, c10), F(a, b1, c11);
    }
    SUM12(o);
}

/* 3 loads + 4 broadcasts per 12 FMAs */
TGT static void t4x24(float *o) {
    __m256 c0 = Z, c1 = Z, c2 = Z, c3 = Z, c4 = Z, c5 = Z, c6 = Z, c7 = Z, c8 = Z, c9 = Z, c10 = Z, c11 = Z, a;
    for (int k = 0; k < K; k++) {
        const float *b = B + k * 24;
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8), b2 = _mm256_load_ps(b + 16);
        a = _mm256_broadcast_ss(&A[0][k]), F(a, b0, c0), F(a, b1, c1), F(a, b2, c2);
        a = _mm256_broadcast_ss(&A[1][k]), F(a, b0, c3), F(a, b1, c4), F(a, b2, c5);
        a = _mm256_broadcast_ss(&A[2][k]), F(a, b0, c6), F(a, b1, c7), F(a, b2, c8);
        a = _mm256_broadcast_ss(&A[3][k]), F(a, b0, c9), F(a, b1, c10), F(a, b2, c11);
    }
    SUM12(o);
}

/* 4 loads + 3 broadcasts per 12 FMAs */
TGT static void t3x32(float *o) {
    __m256 c0 = Z, c1 = Z, c2 = Z, c3 = Z, c4 = Z, c5 = Z, c6 = Z, c7 = Z, c8 = Z, c9 = Z, c10 = Z, c11 = Z, a;
    for (int k = 0; k < K; k++) {
        const float *b = B + k * 32;
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8), b2 = _mm256_load_ps(b + 16),
               b3 = _mm256_load_ps(b + 24);
        a = _mm256_broadcast_ss(&A[0][k]), F(a, b0, c0), F(a, b1, c1), F(a, b2, c2), F(a, b3, c3);
        a = _mm256_broadcast_ss(&A[1][k]), F(a, b0, c4), F(a, b1, c5), F(a, b2, c6), F(a, b3, c7);
        a = _mm256_broadcast_ss(&A[2][k]), F(a, b0, c8), F(a, b1, c9), F(a, b2, c10), F(a, b3, c11);
    }
    SUM12(o);
}

/* The int8 loops of a CPU without VNNI, 6 independent chains each, of 6
 * different products (a product shared by two chains would be computed
 * once; more chains spill to the stack): u8 x s8 as oneDNN's AVX2 kernels
 * multiply (vpmaddubsw: 32 products summed in pairs into saturating 16-bit
 * lanes, vpmaddwd by ones into 32-bit, vpaddd), and 16-bit x 16-bit
 * (vpmaddwd: 16 exact products summed in pairs into 32-bit lanes, vpaddd),
 * on register operands. */
#define SUM6I(o)                                                                                                      \
    do {                                                                                                              \
        __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)),            \
                                     _mm256_add_epi32(c4, c5));                                                       \
        _mm256_storeu_si256((__m256i *)(void *)(o), s);                                                               \
    } while (0)
#define ZI _mm256_setzero_si256()
#define OPAQUE5 __asm__("" : "+x"(a0), "+x"(a1), "+x"(b0), "+x"(b1), "+x"(b2))

TGT static void u8s8(float *o) {
    __m256i c0 = ZI, c1 = ZI, c2 = ZI, c3 = ZI, c4 = ZI, c5 = ZI, ones = _mm256_set1_epi16(1);
    int v = (int)o[8] & 0x3f;
    __m256i a0 = _mm256_set1_epi8((char)v), a1 = _mm256_set1_epi8((char)(v + 1));
    __m256i b0 = _mm256_set1_epi8(2), b1 = _mm256_set1_epi8(3), b2 = _mm256_set1_epi8(5);
#define M(c, a, b) c = _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones))
    for (int k = 0; k < K; k++) {
        M(c0, a0, b0), M(c1, a0, b1), M(c2, a0, b2), M(c3, a1, b0), M(c4, a1, b1), M(c5, a1, b2);
        OPAQUE5;
    }
#undef M
    SUM6I(o);
}

TGT static void s16s16(float *o) {
    __m256i c0 = ZI, c1 = ZI, c2 = ZI, c3 = ZI, c4 = ZI, c5 = ZI;
    int v = (int)o[8] & 0x3f;
    __m256i a0 = _mm256_set1_epi16((short)v), a1 = _mm256_set1_epi16((short)(v + 1));
    __m256i b0 = _mm256_set1_epi16(2), b1 = _mm256_set1_epi16(3), b2 = _mm256_set1_epi16(5);
#define M(c, a, b) c = _mm256_add_epi32(c, _mm256_madd_epi16(a, b))
    for (int k = 0; k < K; k++) {
        M(c0, a0, b0), M(c1, a0, b1), M(c2, a0, b2), M(c3, a1, b0), M(c4, a1, b1), M(c5, a1, b2);
        OPAQUE5;
    }
#undef M
    SUM6I(o);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int rounds = 7;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--rounds N]\n", argv[0]);
            return 2;
        }
    }
    if (rounds < 1 || rounds > 101) rounds = 7;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        printf("fma_mix: this CPU has no AVX2 / FMA; nothing to measure\n");
        return 0;
    }
    for (int i = 0; i < 6 * K; i++) ((float *)A)[i] = 1e-3f * (float)(i % 5);
    for (int i = 0; i < K * 32; i++) B[i] = 1e-3f * (float)(i % 7);
    /* ops: operations a call per K (a multiply-add is two): 12 FMAs of 8
     * lanes; 6 chains of 32 (u8 x s8) or 16 (16-bit) multiply-adds */
    static const struct {
        const char *name;
        void (*fn)(float *);
        int ops, integer;
    } loops[] = {{"fma only (peak)", peak, 192, 0},
                 {"6x16 (frost's tile)", t6x16, 192, 0},
                 {"4x24", t4x24, 192, 0},
                 {"3x32", t3x32, 192, 0},
                 {"int8 u8 x s8 (no VNNI)", u8s8, 6 * 64, 1},
                 {"int8 as 16 x 16 bits", s16s16, 6 * 32, 1}};
    enum { NL = sizeof(loops) / sizeof(loops[0]) };
    double gf[NL][101];
    float out[16] = {0};
    out[8] = 0.999f, out[9] = 1e-7f;
    long calls = 200000000L / (K * 12); /* ~2.4 GFLOP per timing */
    for (int r = 0; r < rounds; r++)
        for (int l = 0; l < NL; l++) {
            double t0 = now();
            for (long c = 0; c < calls; c++) loops[l].fn(out);
            gf[l][r] = (double)calls * K * loops[l].ops / (now() - t0) / 1e9;
        }
    for (int l = 0; l < NL; l++) qsort(gf[l], (size_t)rounds, sizeof(double), cmp_double);
    double p = gf[0][rounds / 2];
    printf("one core, data in L1, median of %d rounds (checksum %g)\n", rounds, (double)out[0]);
    for (int l = 0; l < NL; l++)
        printf("  %-24s %7.1f G%s/s  %5.2f of the FMA-only loop\n", loops[l].name, gf[l][rounds / 2],
               loops[l].integer ? "OP" : "FLOP", gf[l][rounds / 2] / p);
    return 0;
}
#else
int main(void) {
    printf("fma_mix: x86-64 only; nothing to measure\n");
    return 0;
}
#endif

/* Tuning records (tune.h): parsing, writing, lookup, this machine's key. */
#include "kernels/tune.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

static const char *const PICKS[FR_TUNE_PICKS] = {"backend", "igemm", "winograd", "winograd-large"};

const char *fr_tune_pick_name(fr_tune_pick pick) {
    return (unsigned)pick < FR_TUNE_PICKS ? PICKS[pick] : "?";
}

int fr_tune_pick_parse(const char *s) {
    for (int i = 0; i < FR_TUNE_PICKS; i++)
        if (!strcmp(s, PICKS[i])) return i;
    return -1;
}

void fr_tune_free(fr_tune_record *r) {
    if (!r) return;
    for (int i = 0; i < r->n_layers; i++) free(r->layers[i].name);
    free(r->layers);
    free(r->cpu);
    free(r->isa);
    free(r->batches);
    memset(r, 0, sizeof *r);
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const fr_tune_layer *)a)->name, ((const fr_tune_layer *)b)->name);
}

int fr_tune_sort(fr_tune_record *r) {
    if (r->n_layers > 1) qsort(r->layers, (size_t)r->n_layers, sizeof *r->layers, by_name);
    for (int i = 1; i < r->n_layers; i++)
        if (!strcmp(r->layers[i - 1].name, r->layers[i].name)) return -1;
    return 0;
}

int fr_tune_find(const fr_tune_record *r, const char *name) {
    if (!r || !name) return -1;
    int lo = 0, hi = r->n_layers - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(name, r->layers[mid].name);
        if (!c) return (int)r->layers[mid].pick;
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return -1;
}

static int fail(char *why, size_t whylen, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t whylen, int line, const char *fmt, ...) {
    int o = snprintf(why, whylen, "line %d: ", line);
    va_list ap;
    va_start(ap, fmt);
    if (o >= 0 && (size_t)o < whylen) vsnprintf(why + o, whylen - (size_t)o, fmt, ap);
    va_end(ap);
    return -1;
}

/* The text of a key's value: the rest of the line after the key and blanks. */
static char *value_of(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
    char *s = malloc((size_t)(end - p) + 1);
    if (s) memcpy(s, p, (size_t)(end - p)), s[end - p] = 0;
    return s;
}

static int parse_line(fr_tune_record *r, int *cap, int line, const char *p, const char *end, unsigned *seen,
                      char *why, size_t whylen) {
    const char *k = p;
    while (p < end && *p != ' ' && *p != '\t') p++;
    size_t klen = (size_t)(p - k);
    char *v = value_of(p, end);
    if (!v) return fail(why, whylen, line, "out of memory");
    static const char *const KEYS[] = {"cpu", "isa", "threads", "model", "batches", "micro_batch", "thread_split",
                                       "layer"};
    enum { N_KEYS = 8, LAYER = 7 };
    int key = -1;
    for (int i = 0; i < N_KEYS && key < 0; i++)
        if (klen == strlen(KEYS[i]) && !memcmp(k, KEYS[i], klen)) key = i;
    int rc = 0;
    if (key < 0) rc = fail(why, whylen, line, "unknown key '%.*s'", (int)(klen > 40 ? 40 : klen), k);
    else if (key < LAYER && (*seen & (1u << key))) rc = fail(why, whylen, line, "'%s' given twice", KEYS[key]);
    if (rc) {
        free(v);
        return rc;
    }
    if (key < LAYER) *seen |= 1u << key;
    char *e = NULL;
    switch (key) {
    case 0: r->cpu = v; return 0;
    case 1: r->isa = v; return 0;
    case 4: r->batches = v; return 0;
    case 2: {
        long t = strtol(v, &e, 10);
        if (!*v || *e || t < 1 || t > 4096) rc = fail(why, whylen, line, "threads: '%s' is not 1 to 4096", v);
        r->threads = (int)t;
        break;
    }
    case 3: {
        unsigned long long d = strtoull(v, &e, 16);
        if (strlen(v) != 16 || *e) rc = fail(why, whylen, line, "model: '%s' is not 16 hexadecimal digits", v);
        r->model = (uint64_t)d;
        break;
    }
    case 5: { /* micro_batch N | none */
        long mb = -1;
        if (strcmp(v, "none") && ((mb = strtol(v, &e, 10)) < 1 || mb > 4096 || !*v || *e))
            rc = fail(why, whylen, line, "micro_batch: '%s' is not 1 to 4096 or none", v);
        r->micro = (int)mb;
        break;
    }
    case 6: { /* thread_split WxT: checked against threads at the end */
        long w = strtol(v, &e, 10), t = 0;
        if (e != v && *e == 'x') {
            const char *q = e + 1;
            t = strtol(q, &e, 10);
            if (e == q) t = 0;
        }
        if (w < 1 || w > 4096 || t < 1 || t > 4096 || *e)
            rc = fail(why, whylen, line, "thread_split: '%s' is not CONTEXTSxTHREADS (e.g. 2x1)", v);
        r->split = (int)w;
        r->split_threads = (int)t;
        break;
    }
    default: { /* layer NODE PICK */
        char *sp = strrchr(v, ' ');
        int pick = sp ? fr_tune_pick_parse(sp + 1) : -1;
        if (!sp || sp == v || strchr(v, ' ') != sp)
            rc = fail(why, whylen, line, "layer: want 'layer NODE PICK'");
        else if (pick < 0)
            rc = fail(why, whylen, line, "layer %.*s: unknown pick '%s' (backend, igemm, winograd, winograd-large)",
                      (int)(sp - v), v, sp + 1);
        if (rc) break;
        if (r->n_layers == *cap) {
            int nc = *cap ? *cap * 2 : 64;
            fr_tune_layer *g = realloc(r->layers, sizeof *g * (size_t)nc);
            if (!g) {
                rc = fail(why, whylen, line, "out of memory");
                break;
            }
            r->layers = g, *cap = nc;
        }
        *sp = 0;
        r->layers[r->n_layers].name = v;
        r->layers[r->n_layers++].pick = (fr_tune_pick)pick;
        return 0;
    }
    }
    free(v);
    return rc;
}

int fr_tune_parse(const char *text, size_t len, fr_tune_record *out, char *why, size_t whylen) {
    memset(out, 0, sizeof *out);
    const char *p = text, *end = text + len;
    int line = 0, cap = 0, version = 0;
    unsigned seen = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
        line++;
        if (memchr(p, 0, (size_t)(le - p))) {
            fr_tune_free(out);
            return fail(why, whylen, line, "a NUL byte: not a tuning record");
        }
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        int rc = 0;
        if (!version) {
            char *v = value_of(q, le);
            if (!v || strcmp(v, "frost-tune 1"))
                rc = fail(why, whylen, line, v && !strncmp(v, "frost-tune ", 11)
                                                 ? "format version '%s': this frost reads version 1"
                                                 : "not a tuning record (the first line is not 'frost-tune 1': '%.40s')",
                          v ? (!strncmp(v, "frost-tune ", 11) ? v + 11 : v) : "");
            free(v);
            version = 1;
        } else if (q < le && *q != '#') {
            rc = parse_line(out, &cap, line, q, le, &seen, why, whylen);
        }
        if (rc) {
            fr_tune_free(out);
            return -1;
        }
        p = nl ? nl + 1 : end;
    }
    if (!version) return fail(why, whylen, 1, "empty: not a tuning record");
    if ((seen & 0xf) != 0xf) {
        fr_tune_free(out);
        return fail(why, whylen, line, "incomplete: cpu, isa, threads and model are required");
    }
    if (fr_tune_sort(out)) {
        fr_tune_free(out);
        return fail(why, whylen, line, "a layer is listed twice");
    }
    if (out->split && (long)out->split * out->split_threads != out->threads) {
        int w = out->split, t = out->split_threads, n = out->threads;
        fr_tune_free(out);
        return fail(why, whylen, line, "thread_split %dx%d does not make the record's %d threads", w, t, n);
    }
    return 0;
}

char *fr_tune_format(const fr_tune_record *r) {
    size_t cap = 256 + strlen(r->cpu ? r->cpu : "") + strlen(r->isa ? r->isa : "") +
                 strlen(r->batches ? r->batches : "");
    for (int i = 0; i < r->n_layers; i++) cap += strlen(r->layers[i].name) + 32;
    char *s = malloc(cap);
    if (!s) return NULL;
    size_t o = (size_t)snprintf(s, cap, "frost-tune %d\ncpu %s\nisa %s\nthreads %d\nmodel %016" PRIx64 "\n",
                                FR_TUNE_VERSION, r->cpu ? r->cpu : "unknown", r->isa ? r->isa : "unknown", r->threads,
                                r->model);
    if (r->batches && *r->batches) o += (size_t)snprintf(s + o, cap - o, "batches %s\n", r->batches);
    if (r->micro > 0) o += (size_t)snprintf(s + o, cap - o, "micro_batch %d\n", r->micro);
    else if (r->micro < 0) o += (size_t)snprintf(s + o, cap - o, "micro_batch none\n");
    if (r->split > 0) o += (size_t)snprintf(s + o, cap - o, "thread_split %dx%d\n", r->split, r->threads / r->split);
    for (int i = 0; i < r->n_layers && o < cap; i++)
        o += (size_t)snprintf(s + o, cap - o, "layer %s %s\n", r->layers[i].name, fr_tune_pick_name(r->layers[i].pick));
    return s;
}

void fr_tune_machine(char *cpu, size_t cpu_len, char *isa, size_t isa_len) {
    snprintf(cpu, cpu_len, "unknown");
    snprintf(isa, isa_len, "unknown");
#if defined(__x86_64__) || defined(__i386__)
    unsigned regs[12], max = __get_cpuid_max(0x80000000u, NULL);
    if (max >= 0x80000004u) {
        for (unsigned i = 0; i < 3; i++) __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
        char brand[49];
        memcpy(brand, regs, 48);
        brand[48] = 0;
        char *b = brand, *e = brand + strlen(brand);
        while (*b == ' ') b++;
        while (e > b && e[-1] == ' ') e--;
        *e = 0;
        if (*b) snprintf(cpu, cpu_len, "%s", b);
    }
    __builtin_cpu_init();
    static const char *const FEATURES[] = {"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512vnni", "avx512bf16"};
    int has[7] = {__builtin_cpu_supports("avx2"), __builtin_cpu_supports("fma"), __builtin_cpu_supports("avx512f"),
                  __builtin_cpu_supports("avx512bw"), __builtin_cpu_supports("avx512vl"),
                  __builtin_cpu_supports("avx512vnni"), __builtin_cpu_supports("avx512bf16")};
    size_t o = 0;
    isa[0] = 0;
    for (int i = 0; i < 7; i++)
        if (has[i] && o < isa_len) o += (size_t)snprintf(isa + o, isa_len - o, "%s%s", o ? " " : "", FEATURES[i]);
    /* oneDNN capped below what the CPU has picks other kernels */
    const char *cap = getenv("ONEDNN_MAX_CPU_ISA");
    if (cap && *cap && o < isa_len) o += (size_t)snprintf(isa + o, isa_len - o, "%sonednn-max=%.32s", o ? " " : "", cap);
    if (!o) snprintf(isa, isa_len, "x86");
#endif
}

/* Result formatting of `frost classify`: label_image's text lines, JSON
 * lines, CSV. */
#include <math.h>
#include <string.h>

#include "classify.h"

void cls_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static const char *label_of(const cls_output *o, int index) {
    if (!o->labels || index < 0 || index >= o->num_labels) return NULL;
    return o->labels[index];
}

void cls_print_result(cls_output *o, const char *path, const int *index, const float *score, int k) {
    FILE *f = o->out;
    switch (o->format) {
    case CLS_TEXT:
        if (o->headers) fprintf(f, "%s:\n", path);
        for (int i = 0; i < k; i++) {
            const char *label = label_of(o, index[i]);
            /* label_image: "<label> (<index>): <score>", score as an ostream
             * prints a float by default (6 significant digits, %g). */
            if (label) fprintf(f, "%s (%d): %g\n", label, index[i], (double)score[i]);
            else fprintf(f, "%d: %g\n", index[i], (double)score[i]);
        }
        break;
    case CLS_JSONL:
        fputs("{\"image\":", f);
        cls_json_string(f, path);
        fputs(",\"top\":[", f);
        for (int i = 0; i < k; i++) {
            const char *label = label_of(o, index[i]);
            fprintf(f, "%s{\"index\":%d,\"label\":", i ? "," : "", index[i]);
            if (label) cls_json_string(f, label);
            else fputs("null", f);
            if (isfinite(score[i])) fprintf(f, ",\"score\":%.9g}", (double)score[i]);
            else fputs(",\"score\":null}", f);
        }
        fputs("]}\n", f);
        break;
    case CLS_CSV:
        if (!o->header_done) {
            fputs("image,rank,index,label,score\n", f);
            o->header_done = 1;
        }
        for (int i = 0; i < k; i++) {
            const char *label = label_of(o, index[i]);
            csv_field(f, path);
            fprintf(f, ",%d,%d,", i + 1, index[i]);
            csv_field(f, label ? label : "");
            fprintf(f, ",%.9g\n", (double)score[i]);
        }
        break;
    }
}

void cls_print_error(cls_output *o, const char *path, const char *message) {
    fprintf(stderr, "frost: %s\n", message);
    if (o->format == CLS_JSONL) {
        fputs("{\"image\":", o->out);
        cls_json_string(o->out, path);
        fputs(",\"error\":", o->out);
        cls_json_string(o->out, message);
        fputs("}\n", o->out);
    }
}

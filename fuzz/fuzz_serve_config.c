/* libFuzzer target: TensorFlow Serving's text-format configuration files as
 * frost serve reads them (tools/serve/serve_config.c): the protobuf text
 * format parser (nesting, strings and escapes, lists, separators, comments)
 * and the three readers on top of it.  The first byte picks the reader:
 * (b % 3) 0 --model_config_file (model_config_list), 1
 * --batching_parameters_file, 2 --monitoring_config_file; the rest is the
 * file.  What parses is checked for the readers' promises (names and base
 * paths present, policies and labels within their bounds). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char err[256];
    err[0] = '\0';
    switch (data[0] % 3) {
    case 0: {
        sv_model_config *m = NULL;
        int n = 0;
        if (sv_config_parse_models(text, len, &m, &n, err, sizeof err) == 0) {
            if (n < 1 || !m) abort();
            for (int k = 0; k < n; k++) {
                if (!m[k].name || !m[k].name[0] || !m[k].base_path) abort();
                if (m[k].num_labels < 0 || m[k].num_labels > SV_MAX_LABELS) abort();
                if (m[k].policy.num_specific < 0 || m[k].policy.num_specific > SV_MAX_SPECIFIC) abort();
                if (m[k].policy.kind == SV_POLICY_SPECIFIC && m[k].policy.num_specific == 0) abort();
            }
            sv_config_models_free(m, n);
        } else if (!err[0])
            abort(); /* a failure always says why */
        break;
    }
    case 1: {
        sv_batching_file b;
        if (sv_config_parse_batching(text, len, &b, err, sizeof err) == 0) {
            if (b.num_allowed < 0 || b.num_allowed > 32) abort();
        } else if (!err[0])
            abort();
        break;
    }
    default: {
        sv_monitoring_file mf;
        if (sv_config_parse_monitoring(text, len, &mf, err, sizeof err) == 0) {
            if (mf.prometheus_path && mf.prometheus_path[0] != '/') abort();
            sv_config_monitoring_free(&mf);
        } else if (!err[0])
            abort();
        break;
    }
    }
    return 0;
}

/* JPEG through libjpeg-turbo, with TensorFlow decode_jpeg's defaults:
 * JDCT_IFAST, fancy upsampling, channels=3 (grayscale replicated; CMYK/YCCK
 * converted with TensorFlow's integer formula), or the channels of the
 * decode ops (fr_decode_jpeg_channels).  Truncated data is an error,
 * as in decode_jpeg without try_recover_truncated. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "image/image_internal.h"

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jmp;
    char message[JMSG_LENGTH_MAX];
    int too_many_scans;
} fr_jpeg_err;

static void fr_jpeg_error_exit(j_common_ptr cinfo) {
    fr_jpeg_err *e = (fr_jpeg_err *)cinfo->err;
    e->pub.format_message(cinfo, e->message);
    longjmp(e->jmp, 1);
}

/* Warnings are ignored (as TensorFlow does) except running out of data. */
static void fr_jpeg_emit_message(j_common_ptr cinfo, int level) {
    fr_jpeg_err *e = (fr_jpeg_err *)cinfo->err;
    if (level < 0) {
        e->pub.num_warnings++;
        if (e->pub.msg_code == JWRN_JPEG_EOF) {
            snprintf(e->message, sizeof e->message, "truncated data (premature end of JPEG file)");
            longjmp(e->jmp, 1);
        }
    }
}

static void fr_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

/* Progressive files with absurd numbers of scans take minutes to decode
 * for a few kilobytes of input; real files have about ten. */
#define FR_JPEG_MAX_SCANS 500

typedef struct {
    struct jpeg_progress_mgr pub;
    fr_jpeg_err *err;
} fr_jpeg_progress;

static void fr_jpeg_progress_monitor(j_common_ptr cinfo) {
    fr_jpeg_progress *p = (fr_jpeg_progress *)cinfo->progress;
    int scan = ((j_decompress_ptr)cinfo)->input_scan_number;
    if (scan > FR_JPEG_MAX_SCANS) {
        snprintf(p->err->message, sizeof p->err->message, "more than %d scans", FR_JPEG_MAX_SCANS);
        p->err->too_many_scans = 1;
        longjmp(p->err->jmp, 1);
    }
}

/* Largest power-of-two reduction (up to 8) that keeps the output at least
 * twice the target in both dimensions. */
static unsigned fr_jpeg_fast_denom(unsigned w, unsigned h, const frost_decode_options *opt) {
    if (!opt->fast_decode || opt->target_width <= 0 || opt->target_height <= 0) return 1;
    unsigned denom = 1;
    for (unsigned d = 2; d <= 8; d *= 2) {
        unsigned sw = (w + d - 1) / d, sh = (h + d - 1) / d;
        if (sw >= 2u * (unsigned)opt->target_width && sh >= 2u * (unsigned)opt->target_height) denom = d;
    }
    return denom;
}

frost_status fr_decode_jpeg(const uint8_t *data, size_t size, const frost_decode_options *opt, frost_image **out,
                            char **err) {
    return fr_decode_jpeg_ratio(data, size, opt, 0, out, err);
}

/* channels: decode_jpeg's (0: min(the file's components, 3); 1: libjpeg's
 * own conversion to JCS_GRAYSCALE, as TensorFlow asks; 3: RGB, CMYK/YCCK
 * converted with TensorFlow's formula). */
static frost_status jpeg_decode(const uint8_t *data, size_t size, const frost_decode_options *opt, unsigned ratio,
                                int channels, fr_pixels *out, char **err) {
    struct jpeg_decompress_struct cinfo;
    fr_jpeg_err jerr;
    /* volatile: modified between setjmp and longjmp. */
    uint8_t *volatile pix = NULL;
    uint8_t *volatile cmyk_row = NULL;
    volatile frost_status status = FROST_OK; /* set when the message is already in *err */

    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = fr_jpeg_error_exit;
    jerr.pub.emit_message = fr_jpeg_emit_message;
    jerr.pub.output_message = fr_jpeg_output_message;
    jerr.message[0] = '\0';
    jerr.too_many_scans = 0;
    fr_jpeg_progress progress;
    memset(&progress, 0, sizeof progress);
    progress.pub.progress_monitor = fr_jpeg_progress_monitor;
    progress.err = &jerr;
    if (setjmp(jerr.jmp)) {
        frost_status failed = status;
        if (failed == FROST_OK)
            failed = fr_img_error(err, jerr.too_many_scans ? FROST_E_LIMIT : FROST_E_IMAGE, "JPEG: %s", jerr.message);
        jpeg_destroy_decompress(&cinfo);
        free(cmyk_row);
        free(pix);
        return failed;
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &progress.pub;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    frost_status st = fr_img_check_size("JPEG", cinfo.image_width, cinfo.image_height, opt, err);
    if (st != FROST_OK) {
        jpeg_destroy_decompress(&cinfo);
        return st;
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    if (cinfo.num_components != 1 && cinfo.num_components != 3 && !cmyk) {
        jpeg_destroy_decompress(&cinfo);
        return fr_img_error(err, FROST_E_IMAGE, "JPEG: unsupported number of components %d", cinfo.num_components);
    }
    int components = channels ? channels : cinfo.num_components < 3 ? cinfo.num_components : 3;
    if (components == 1) cmyk = 0; /* libjpeg converts to gray, or refuses (CMYK) as TensorFlow's decode does */
    cinfo.out_color_space = components == 1 ? JCS_GRAYSCALE : cmyk ? JCS_CMYK : JCS_RGB;
    cinfo.dct_method = opt->dct_method == FROST_DCT_INTEGER_ACCURATE ? JDCT_ISLOW : JDCT_IFAST;
    cinfo.do_fancy_upsampling = TRUE;
    cinfo.scale_num = 1;
    cinfo.scale_denom = ratio ? ratio : fr_jpeg_fast_denom(cinfo.image_width, cinfo.image_height, opt);
    jpeg_calc_output_dimensions(&cinfo);

    const size_t stride = (size_t)cinfo.output_width * (size_t)components;
    if (!(pix = malloc(stride * cinfo.output_height)) || (cmyk && !(cmyk_row = malloc((size_t)cinfo.output_width * 4)))) {
        status = fr_img_error(err, FROST_E_NO_MEMORY, "out of memory for a %ux%u image", cinfo.output_width,
                              cinfo.output_height);
        longjmp(jerr.jmp, 1);
    }
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != (cmyk ? 4 : components)) {
        status = fr_img_error(err, FROST_E_IMAGE, "JPEG: unexpected %d output components", cinfo.output_components);
        longjmp(jerr.jmp, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *dst = pix + (size_t)cinfo.output_scanline * stride;
        JSAMPROW row = cmyk ? cmyk_row : dst;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            status = fr_img_error(err, FROST_E_IMAGE, "JPEG: truncated data");
            longjmp(jerr.jmp, 1);
        }
        if (cmyk) {
            /* TensorFlow's conversion: Adobe files store inverted CMYK. */
            const int adobe = cinfo.saw_Adobe_marker;
            for (JDIMENSION x = 0; x < cinfo.output_width; x++) {
                const uint8_t *s = cmyk_row + 4 * (size_t)x;
                int c = s[0], m = s[1], y = s[2], k = s[3];
                if (!adobe) {
                    c = 255 - c;
                    m = 255 - m;
                    y = 255 - y;
                    k = 255 - k;
                }
                dst[3 * x + 0] = (uint8_t)(k * c / 255);
                dst[3 * x + 1] = (uint8_t)(k * m / 255);
                dst[3 * x + 2] = (uint8_t)(k * y / 255);
            }
        }
    }
    out->width = (int)cinfo.output_width;
    out->height = (int)cinfo.output_height;
    out->channels = components;
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(cmyk_row);
    out->data = pix;
    return FROST_OK;
}

frost_status fr_decode_jpeg_ratio(const uint8_t *data, size_t size, const frost_decode_options *opt, unsigned ratio,
                                  frost_image **out, char **err) {
    fr_pixels px;
    frost_status st = jpeg_decode(data, size, opt, ratio, 3, &px, err);
    if (st == FROST_OK && (st = fr_img_wrap(&px, out, err)) != FROST_OK) free(px.data);
    return st;
}

frost_status fr_decode_jpeg_channels(const uint8_t *data, size_t size, const frost_decode_options *opt, unsigned ratio,
                                     int channels, fr_pixels *out, char **err) {
    return jpeg_decode(data, size, opt, ratio, channels, out, err);
}

/* Image API: format detection, decoding dispatch, file loading. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/image_internal.h"

frost_status fr_img_error(char **err, frost_status status, const char *fmt, ...) {
    if (!err) return status;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0) msg = NULL;
    va_end(ap);
    free(*err);
    *err = msg;
    return status;
}

frost_status fr_img_check_size(const char *what, int64_t width, int64_t height, const frost_decode_options *opt,
                               char **err) {
    if (width <= 0 || height <= 0)
        return fr_img_error(err, FROST_E_IMAGE, "%s: invalid image size %lldx%lld", what, (long long)width,
                            (long long)height);
    int64_t limit = opt->max_pixels > 0 ? opt->max_pixels : FR_IMG_DEFAULT_MAX_PIXELS;
    /* Independent of the limit: dimensions must fit an int and the buffer a size_t. */
    if (width > INT32_MAX / 4 || height > INT32_MAX / 4 || width * height > limit ||
        (uint64_t)width * (uint64_t)height > SIZE_MAX / 4)
        return fr_img_error(err, FROST_E_LIMIT, "%s: image of %lldx%lld pixels exceeds the limit of %lld pixels", what,
                            (long long)width, (long long)height, (long long)limit);
    return FROST_OK;
}

frost_status fr_img_alloc(int width, int height, frost_image **out, char **err) {
    frost_image *img = calloc(1, sizeof *img);
    uint8_t *rgb = malloc((size_t)width * (size_t)height * 3);
    if (!img || !rgb) {
        free(img);
        free(rgb);
        return fr_img_error(err, FROST_E_NO_MEMORY, "out of memory for a %dx%d image", width, height);
    }
    img->width = width;
    img->height = height;
    img->rgb = rgb;
    *out = img;
    return FROST_OK;
}

frost_status fr_img_wrap(fr_pixels *px, frost_image **out, char **err) {
    frost_image *img = calloc(1, sizeof *img);
    if (!img) return fr_img_error(err, FROST_E_NO_MEMORY, "out of memory");
    img->width = px->width;
    img->height = px->height;
    img->rgb = px->data;
    px->data = NULL;
    *out = img;
    return FROST_OK;
}

void frost_decode_options_init(frost_decode_options *options) {
    if (!options) return;
    memset(options, 0, sizeof *options);
    options->max_pixels = FR_IMG_DEFAULT_MAX_PIXELS;
}

frost_image_format frost_image_detect(const void *data, size_t size) {
    const uint8_t *p = data;
    if (!p) return FROST_IMAGE_UNKNOWN;
    if (size >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return FROST_IMAGE_JPEG;
    if (size >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return FROST_IMAGE_PNG;
    if (size >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6))) return FROST_IMAGE_GIF;
    if (size >= 2 && p[0] == 'B' && p[1] == 'M') return FROST_IMAGE_BMP;
    return FROST_IMAGE_UNKNOWN;
}

frost_status frost_image_decode(const void *data, size_t size, const frost_decode_options *options,
                                frost_image **image_out, char **error_out) {
    if (error_out) *error_out = NULL;
    if (!image_out) return fr_img_error(error_out, FROST_E_INVALID_ARGUMENT, "image_out is NULL");
    *image_out = NULL;
    if (!data && size) return fr_img_error(error_out, FROST_E_INVALID_ARGUMENT, "image data is NULL");
    frost_decode_options defaults;
    if (!options) {
        frost_decode_options_init(&defaults);
        options = &defaults;
    }
    if (options->max_pixels < 0 || options->target_width < 0 || options->target_height < 0)
        return fr_img_error(error_out, FROST_E_INVALID_ARGUMENT, "negative value in frost_decode_options");
    if (options->dct_method != FROST_DCT_INTEGER_FAST && options->dct_method != FROST_DCT_INTEGER_ACCURATE)
        return fr_img_error(error_out, FROST_E_INVALID_ARGUMENT, "frost_decode_options.dct_method %d is neither "
                            "FROST_DCT_INTEGER_FAST nor FROST_DCT_INTEGER_ACCURATE", options->dct_method);
    switch (frost_image_detect(data, size)) {
    case FROST_IMAGE_JPEG: return fr_decode_jpeg(data, size, options, image_out, error_out);
    case FROST_IMAGE_PNG: return fr_decode_png(data, size, options, image_out, error_out);
    case FROST_IMAGE_BMP: return fr_decode_bmp(data, size, options, image_out, error_out);
    case FROST_IMAGE_GIF: return fr_decode_gif(data, size, options, image_out, error_out);
    default: break;
    }
    if (size == 0) return fr_img_error(error_out, FROST_E_IMAGE, "empty image data");
    return fr_img_error(error_out, FROST_E_IMAGE, "unknown image format (not JPEG, PNG, BMP or GIF)");
}

frost_status fr_decode_tf(const uint8_t *data, size_t size, const frost_decode_options *opt, unsigned ratio,
                          int channels, fr_pixels *out, char **err) {
    memset(out, 0, sizeof *out);
    switch (frost_image_detect(data, size)) {
    case FROST_IMAGE_JPEG:
        if (channels != 0 && channels != 1 && channels != 3)
            return fr_img_error(err, FROST_E_IMAGE, "channels must be 0, 1, or 3 for JPEG, got %d", channels);
        return fr_decode_jpeg_channels(data, size, opt, ratio ? ratio : 1, channels, out, err);
    case FROST_IMAGE_PNG: return fr_decode_png_channels(data, size, opt, channels, out, err);
    case FROST_IMAGE_BMP: return fr_decode_bmp_channels(data, size, opt, channels, out, err);
    case FROST_IMAGE_GIF: {
        if (channels != 0 && channels != 3)
            return fr_img_error(err, FROST_E_IMAGE, "channels must be 0 or 3 for GIF, got %d", channels);
        frost_image *img = NULL;
        frost_status st = fr_decode_gif(data, size, opt, &img, err);
        if (st != FROST_OK) return st;
        *out = (fr_pixels){img->width, img->height, 3, img->rgb};
        img->rgb = NULL;
        frost_image_free(img);
        return FROST_OK;
    }
    default: return fr_img_error(err, FROST_E_IMAGE, "unknown image format (not JPEG, PNG, BMP or GIF)");
    }
}

frost_status frost_image_load(const char *path, const frost_decode_options *options, frost_image **image_out,
                              char **error_out) {
    if (error_out) *error_out = NULL;
    if (!image_out) return fr_img_error(error_out, FROST_E_INVALID_ARGUMENT, "image_out is NULL");
    *image_out = NULL;
    if (!path) return fr_img_error(error_out, FROST_E_INVALID_ARGUMENT, "image path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return fr_img_error(error_out, FROST_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fr_img_error(error_out, FROST_E_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        fclose(f);
        return fr_img_error(error_out, FROST_E_NO_MEMORY, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = fread(buf, 1, size, f);
    int read_error = ferror(f);
    fclose(f);
    if (got != size || read_error) {
        free(buf);
        return fr_img_error(error_out, FROST_E_IO, "%s: read error", path);
    }
    char *msg = NULL;
    frost_status st2 = frost_image_decode(buf, size, options, image_out, &msg);
    free(buf);
    if (st2 != FROST_OK) fr_img_error(error_out, st2, "%s: %s", path, msg ? msg : frost_strerror(st2));
    free(msg);
    return st2;
}

void frost_image_free(frost_image *image) {
    if (!image) return;
    free(image->rgb);
    free(image);
}

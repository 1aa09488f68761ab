/* Internal interface of the image decoders (src/image/). */
#ifndef FR_IMAGE_INTERNAL_H
#define FR_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "frost.h"

/* Default pixel limit when frost_decode_options.max_pixels is 0. */
#define FR_IMG_DEFAULT_MAX_PIXELS ((int64_t)100 * 1000 * 1000)

/* Sets *err (when err is non-NULL) to a formatted message; returns `status`. */
frost_status fr_img_error(char **err, frost_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checks a declared width x height against the options' pixel limit and
 * against what fits in memory arithmetic.  `what` names the format. */
frost_status fr_img_check_size(const char *what, int64_t width, int64_t height, const frost_decode_options *opt,
                               char **err);

/* Allocates an image of width x height (width, height already checked). */
frost_status fr_img_alloc(int width, int height, frost_image **out, char **err);

/* Pixels of any number of channels (the decode ops' `channels`), HWC. */
typedef struct fr_pixels {
    int width, height, channels;
    uint8_t *data; /* malloc'ed, width * height * channels */
} fr_pixels;

/* A frost_image around 3-channel pixels (taken over on success). */
frost_status fr_img_wrap(fr_pixels *px, frost_image **out, char **err);

/* Decoders: `opt` is never NULL here.  On failure nothing is left allocated. */
frost_status fr_decode_jpeg(const uint8_t *data, size_t size, const frost_decode_options *opt, frost_image **out,
                            char **err);
/* The same at 1/ratio scale (libjpeg's DCT scaling, decode_jpeg's `ratio`:
 * 1, 2, 4 or 8), whatever opt->fast_decode says. */
frost_status fr_decode_jpeg_ratio(const uint8_t *data, size_t size, const frost_decode_options *opt, unsigned ratio,
                                  frost_image **out, char **err);
/* decode_jpeg's `channels`: 0 (the file's, at most 3), 1 (libjpeg's
 * conversion to grayscale) or 3; ratio 0: opt->fast_decode's. */
frost_status fr_decode_jpeg_channels(const uint8_t *data, size_t size, const frost_decode_options *opt, unsigned ratio,
                                     int channels, fr_pixels *out, char **err);

/* TensorFlow's decode ops (DecodeJpeg, DecodePng, DecodeBmp, DecodeImage
 * as tf.io.decode_* run them) with their `channels` attribute (0: as many as
 * the image has): the rules of src/image/decode_tf.c.  ratio: DecodeJpeg's
 * (1 for the others). */
frost_status fr_decode_tf(const uint8_t *data, size_t size, const frost_decode_options *opt, unsigned ratio,
                          int channels, fr_pixels *out, char **err);

/* TensorFlow's ResizeBilinear of a [h, w, c] float image (align_corners /
 * half_pixel_centers as its attributes) into [oh, ow, c] floats: the
 * formulas of frost_image_preprocess(), bit for bit. */
void fr_resize_bilinear(const float *in, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow, int align_corners,
                        int half_pixel, float *out);
frost_status fr_decode_png(const uint8_t *data, size_t size, const frost_decode_options *opt, frost_image **out,
                           char **err);
frost_status fr_decode_png_channels(const uint8_t *data, size_t size, const frost_decode_options *opt, int channels,
                                    fr_pixels *out, char **err);
frost_status fr_decode_bmp(const uint8_t *data, size_t size, const frost_decode_options *opt, frost_image **out,
                           char **err);
frost_status fr_decode_bmp_channels(const uint8_t *data, size_t size, const frost_decode_options *opt, int channels,
                                    fr_pixels *out, char **err);
frost_status fr_decode_gif(const uint8_t *data, size_t size, const frost_decode_options *opt, frost_image **out,
                           char **err);

#endif

/* BMP (Windows bitmap), parsed here with every offset bounds-checked:
 * BITMAPCOREHEADER and BITMAPINFOHEADER..V5; 1/4/8-bit palette, 16-bit
 * (5-5-5 or bit fields), 24-bit, 32-bit (BGRX or bit fields); bottom-up and
 * top-down rows.  RLE compression is rejected.  Alpha is dropped. */
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

enum { FR_BI_RGB = 0, FR_BI_RLE8 = 1, FR_BI_RLE4 = 2, FR_BI_BITFIELDS = 3, FR_BI_ALPHABITFIELDS = 6 };

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One channel of a bit-field pixel format. */
typedef struct {
    uint32_t mask;
    int shift;
    uint32_t max; /* mask >> shift */
} fr_bmp_field;

static int fr_bmp_field_init(fr_bmp_field *f, uint32_t mask) {
    f->mask = mask;
    f->shift = 0;
    f->max = 0;
    if (!mask) return 0;
    while (!((mask >> f->shift) & 1)) f->shift++;
    f->max = mask >> f->shift;
    return (f->max & (f->max + 1)) == 0 ? 0 : -1; /* contiguous bits only */
}

static uint8_t fr_bmp_field_get(const fr_bmp_field *f, uint32_t px) {
    if (!f->max) return 0;
    uint32_t v = (px & f->mask) >> f->shift;
    if (f->max == 255) return (uint8_t)v;
    if (f->max > 255) {
        int drop = 0;
        while ((f->max >> drop) > 255) drop++;
        return (uint8_t)(v >> drop);
    }
    return (uint8_t)((v * 255 + f->max / 2) / f->max);
}

frost_status fr_decode_bmp(const uint8_t *data, size_t size, const frost_decode_options *opt, frost_image **out,
                           char **err) {
    if (size < 14 + 12) return fr_img_error(err, FROST_E_IMAGE, "BMP: truncated header (%zu bytes)", size);
    const uint32_t pixel_offset = rd32(data + 10);
    const uint32_t hsize = rd32(data + 14);
    const uint8_t *h = data + 14;
    if (hsize != 12 && (hsize < 40 || hsize > 1024))
        return fr_img_error(err, FROST_E_IMAGE, "BMP: unsupported header size %u", hsize);
    if (size < 14 + (size_t)hsize) return fr_img_error(err, FROST_E_IMAGE, "BMP: truncated header");

    int64_t width, height;
    uint32_t bpp, compression = FR_BI_RGB, colors_used = 0;
    int top_down = 0;
    if (hsize == 12) {
        width = rd16(h + 4);
        height = rd16(h + 6);
        bpp = rd16(h + 10);
    } else {
        width = (int32_t)rd32(h + 4);
        height = (int32_t)rd32(h + 8);
        bpp = rd16(h + 14);
        compression = rd32(h + 16);
        colors_used = rd32(h + 32);
    }
    if (height < 0) {
        top_down = 1;
        height = -height;
    }
    if (compression == FR_BI_RLE8 || compression == FR_BI_RLE4)
        return fr_img_error(err, FROST_E_IMAGE, "BMP: RLE compression is not supported");
    if (compression != FR_BI_RGB && compression != FR_BI_BITFIELDS && compression != FR_BI_ALPHABITFIELDS)
        return fr_img_error(err, FROST_E_IMAGE, "BMP: unsupported compression %u", compression);
    if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
        return fr_img_error(err, FROST_E_IMAGE, "BMP: unsupported bit depth %u", bpp);
    if (compression != FR_BI_RGB && bpp != 16 && bpp != 32)
        return fr_img_error(err, FROST_E_IMAGE, "BMP: bit fields with %u bits per pixel", bpp);
    frost_status st = fr_img_check_size("BMP", width, height, opt, err);
    if (st != FROST_OK) return st;

    /* Bit fields: inside V2+ headers, or right after a 40-byte header. */
    fr_bmp_field fields[3];
    if (bpp == 16 || bpp == 32) {
        uint32_t masks[3];
        if (compression == FR_BI_RGB) {
            masks[0] = bpp == 16 ? 0x7C00 : 0xFF0000;
            masks[1] = bpp == 16 ? 0x03E0 : 0x00FF00;
            masks[2] = bpp == 16 ? 0x001F : 0x0000FF;
        } else {
            size_t at = 14 + 40;
            if (size < at + 12) return fr_img_error(err, FROST_E_IMAGE, "BMP: truncated bit fields");
            for (int c = 0; c < 3; c++) masks[c] = rd32(data + at + 4 * (size_t)c);
        }
        for (int c = 0; c < 3; c++)
            if (fr_bmp_field_init(&fields[c], masks[c]) != 0)
                return fr_img_error(err, FROST_E_IMAGE, "BMP: non-contiguous bit field mask 0x%08x", masks[c]);
    }

    /* Palette: after the header (and after the masks of a 40-byte header). */
    uint8_t palette[256][3];
    uint32_t ncolors = 0;
    if (bpp <= 8) {
        const size_t entry = hsize == 12 ? 3 : 4;
        size_t at = 14 + (size_t)hsize;
        if (hsize == 40 && compression == FR_BI_BITFIELDS) at += 12;
        if (hsize == 40 && compression == FR_BI_ALPHABITFIELDS) at += 16;
        ncolors = colors_used ? colors_used : 1u << bpp;
        if (ncolors > 1u << bpp) ncolors = 1u << bpp;
        /* Writers that over-declare the palette: keep what fits before the pixels. */
        if (pixel_offset > at && (pixel_offset - at) / entry < ncolors) ncolors = (uint32_t)((pixel_offset - at) / entry);
        if (at + ncolors * entry > size) return fr_img_error(err, FROST_E_IMAGE, "BMP: truncated palette");
        memset(palette, 0, sizeof palette);
        for (uint32_t i = 0; i < ncolors; i++) {
            const uint8_t *e = data + at + i * entry;
            palette[i][0] = e[2];
            palette[i][1] = e[1];
            palette[i][2] = e[0];
        }
    }

    const size_t stride = (((size_t)width * bpp + 31) / 32) * 4;
    if (pixel_offset > size || (size - pixel_offset) / stride < (size_t)height)
        return fr_img_error(err, FROST_E_IMAGE, "BMP: truncated pixel data (%zu bytes, %lld rows of %zu needed)", size,
                            (long long)height, stride);

    frost_image *img = NULL;
    if ((st = fr_img_alloc((int)width, (int)height, &img, err)) != FROST_OK) return st;
    const int w = (int)width;
    for (int y = 0; y < (int)height; y++) {
        const int src_row = top_down ? y : (int)height - 1 - y;
        const uint8_t *s = data + pixel_offset + (size_t)src_row * stride;
        uint8_t *d = img->rgb + (size_t)y * (size_t)w * 3;
        switch (bpp) {
        case 24:
            for (int x = 0; x < w; x++, s += 3, d += 3) {
                d[0] = s[2];
                d[1] = s[1];
                d[2] = s[0];
            }
            break;
        case 32:
        case 16:
            for (int x = 0; x < w; x++, d += 3) {
                uint32_t px = bpp == 32 ? rd32(s + 4 * (size_t)x) : rd16(s + 2 * (size_t)x);
                d[0] = fr_bmp_field_get(&fields[0], px);
                d[1] = fr_bmp_field_get(&fields[1], px);
                d[2] = fr_bmp_field_get(&fields[2], px);
            }
            break;
        default: { /* 1, 4, 8 bits: palette indices, most significant bits first */
            const unsigned per_byte = 8 / bpp, mask = (1u << bpp) - 1;
            for (int x = 0; x < w; x++, d += 3) {
                unsigned byte = s[(unsigned)x / per_byte];
                unsigned shift = 8 - bpp * ((unsigned)x % per_byte + 1);
                unsigned idx = (byte >> shift) & mask;
                if (idx < ncolors) memcpy(d, palette[idx], 3);
                else memset(d, 0, 3); /* out-of-palette index: black */
            }
        }
        }
    }
    *out = img;
    return FROST_OK;
}

/* TensorFlow's decode_bmp (DecodeImageV2Op::DecodeBmpV2): the header's
 * pixel offset, width, height and bits per pixel, then the pixels as they
 * are (rows padded to 4 bytes, bottom-up unless the height is negative; no
 * palette, compression or bit fields: 8 bits a pixel is one gray channel,
 * 24 BGR, 32 BGRA).  channels must be 0 or bits per pixel / 8. */
frost_status fr_decode_bmp_channels(const uint8_t *data, size_t size, const frost_decode_options *opt, int channels,
                                    fr_pixels *out, char **err) {
    if (size < 30) return fr_img_error(err, FROST_E_IMAGE, "BMP: truncated header (%zu bytes)", size);
    const int64_t offset = (int32_t)rd32(data + 10), width = (int32_t)rd32(data + 18),
                  height = (int32_t)rd32(data + 22);
    const int bpp = (int16_t)rd16(data + 28), c = channels ? channels : bpp / 8;
    if (channels && channels != bpp / 8)
        return fr_img_error(err, FROST_E_IMAGE, "BMP: channels attribute %d does not match bits per pixel from file %d",
                            channels, bpp / 8);
    if (c != 1 && c != 3 && c != 4)
        return fr_img_error(err, FROST_E_IMAGE, "BMP: number of channels must be 1, 3 or 4, was %d", c);
    if (width <= 0 || height == 0 || offset < 0)
        return fr_img_error(err, FROST_E_IMAGE, "BMP: width must be positive, height nonzero, header size nonnegative");
    const int64_t h = height < 0 ? -height : height;
    frost_status st = fr_img_check_size("BMP", width, h, opt, err);
    if (st != FROST_OK) return st;
    const int64_t row = (c * width + 3) / 4 * 4, need = offset + (h - 1) * row + width * c;
    if (need > (int64_t)size)
        return fr_img_error(err, FROST_E_IMAGE, "BMP: incomplete content, requires at least %lld bytes, got %zu",
                            (long long)need, size);
    uint8_t *pix = malloc((size_t)(width * h * c));
    if (!pix) return fr_img_error(err, FROST_E_NO_MEMORY, "BMP: out of memory");
    for (int64_t y = 0; y < h; y++) {
        const uint8_t *s = data + offset + (height < 0 ? y : h - 1 - y) * row;
        uint8_t *d = pix + y * width * c;
        for (int64_t x = 0; x < width; x++, s += c, d += c) {
            if (c == 1) {
                d[0] = s[0];
                continue;
            }
            d[0] = s[2]; /* BGR(A) -> RGB(A) */
            d[1] = s[1];
            d[2] = s[0];
            if (c == 4) d[3] = s[3];
        }
    }
    *out = (fr_pixels){(int)width, (int)h, c, pix};
    return FROST_OK;
}

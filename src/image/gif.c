/* GIF through giflib: the first frame, placed on the logical screen as
 * TensorFlow's decode_gif does (the screen starts black; pixels outside the
 * frame and transparent pixels stay black; a color index outside the color
 * map is an error).  Later frames are not read. */
#include <stdlib.h>
#include <string.h>

#include <gif_lib.h>

#include "image/image_internal.h"

typedef struct {
    const uint8_t *data;
    size_t size, pos;
} fr_gif_src;

static int fr_gif_read(GifFileType *gif, GifByteType *buf, int n) {
    fr_gif_src *src = gif->UserData;
    size_t avail = src->size - src->pos;
    size_t take = n < 0 ? 0 : (size_t)n;
    if (take > avail) take = avail;
    memcpy(buf, src->data + src->pos, take);
    src->pos += take;
    return (int)take;
}

static frost_status fr_gif_fail(GifFileType *gif, char **err, const char *what) {
    return fr_img_error(err, FROST_E_IMAGE, "GIF: %s: %s", what,
                        GifErrorString(gif->Error) ? GifErrorString(gif->Error) : "error");
}

/* Reads the first image of an opened GIF into *img (allocated here). */
static frost_status fr_gif_first_frame(GifFileType *gif, const frost_decode_options *opt, frost_image **img,
                                       char **err) {
    int transparent = NO_TRANSPARENT_COLOR;
    for (;;) {
        GifRecordType type;
        if (DGifGetRecordType(gif, &type) == GIF_ERROR) return fr_gif_fail(gif, err, "reading a record");
        if (type == TERMINATE_RECORD_TYPE) return fr_img_error(err, FROST_E_IMAGE, "GIF: the file has no image");
        if (type == EXTENSION_RECORD_TYPE) {
            int code;
            GifByteType *ext = NULL;
            if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR) return fr_gif_fail(gif, err, "reading an extension");
            if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4) {
                GraphicsControlBlock gcb;
                if (DGifExtensionToGCB(ext[0], ext + 1, &gcb) == GIF_OK) transparent = gcb.TransparentColor;
            }
            while (ext)
                if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR) return fr_gif_fail(gif, err, "reading an extension");
            continue;
        }
        if (type != IMAGE_DESC_RECORD_TYPE) continue;
        if (DGifGetImageDesc(gif) == GIF_ERROR) return fr_gif_fail(gif, err, "reading the image descriptor");
        break;
    }
    const GifImageDesc *d = &gif->Image;
    frost_status st = fr_img_check_size("GIF frame", d->Width, d->Height, opt, err);
    if (st != FROST_OK) return st;
    const ColorMapObject *cmap = d->ColorMap ? d->ColorMap : gif->SColorMap;
    if (!cmap) return fr_img_error(err, FROST_E_IMAGE, "GIF: missing color map");

    GifPixelType *line = malloc((size_t)d->Width);
    if (!line) return fr_img_error(err, FROST_E_NO_MEMORY, "GIF: out of memory");
    if ((st = fr_img_alloc(gif->SWidth, gif->SHeight, img, err)) != FROST_OK) {
        free(line);
        return st;
    }
    frost_image *im = *img;
    memset(im->rgb, 0, (size_t)im->width * (size_t)im->height * 3);
    static const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    const int passes = d->Interlace ? 4 : 1;
    for (int p = 0; p < passes && st == FROST_OK; p++) {
        for (int y = d->Interlace ? start[p] : 0; y < d->Height; y += d->Interlace ? step[p] : 1) {
            if (DGifGetLine(gif, line, d->Width) == GIF_ERROR) {
                st = fr_gif_fail(gif, err, "reading pixels");
                break;
            }
            const int cy = d->Top + y;
            if (cy < 0 || cy >= im->height) continue;
            uint8_t *row = im->rgb + (size_t)cy * (size_t)im->width * 3;
            for (int x = 0; x < d->Width; x++) {
                const int cx = d->Left + x;
                if (cx < 0 || cx >= im->width) continue;
                const int idx = line[x];
                if (idx == transparent) continue;
                if (idx >= cmap->ColorCount) {
                    st = fr_img_error(err, FROST_E_IMAGE, "GIF: color index %d outside of the color map (%d colors)",
                                      idx, cmap->ColorCount);
                    break;
                }
                row[3 * cx + 0] = cmap->Colors[idx].Red;
                row[3 * cx + 1] = cmap->Colors[idx].Green;
                row[3 * cx + 2] = cmap->Colors[idx].Blue;
            }
            if (st != FROST_OK) break;
        }
    }
    free(line);
    if (st != FROST_OK) {
        frost_image_free(*img);
        *img = NULL;
    }
    return st;
}

frost_status fr_decode_gif(const uint8_t *data, size_t size, const frost_decode_options *opt, frost_image **out,
                           char **err) {
    fr_gif_src src = {data, size, 0};
    int error = 0;
    GifFileType *gif = DGifOpen(&src, fr_gif_read, &error);
    if (!gif) {
        const char *why = GifErrorString(error);
        return fr_img_error(err, FROST_E_IMAGE, "GIF: %s", why ? why : "cannot open");
    }
    frost_image *img = NULL;
    frost_status st = fr_img_check_size("GIF", gif->SWidth, gif->SHeight, opt, err);
    if (st == FROST_OK) st = fr_gif_first_frame(gif, opt, &img, err);
    DGifCloseFile(gif, &error);
    if (st == FROST_OK) *out = img;
    return st;
}

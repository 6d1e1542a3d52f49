/* PNG through libpng's simplified API (no setjmp, which Swift cannot use). */
#pragma once
#include <stdint.h>

/* Writes 8-bit pixels, `channels` 1 (gray), 3 (RGB) or 4 (RGBA), rows top to bottom. 0 on
 * success; otherwise libpng's message is copied into `message`. */
int lk_png_write(const char *path, uint32_t width, uint32_t height, int channels, const uint8_t *pixels,
                 char *message, int message_size);

/* Reads a PNG as 8-bit RGBA; *pixels is malloc'ed (free it). 0 on success. */
int lk_png_read_rgba(const char *path, uint32_t *width, uint32_t *height, uint8_t **pixels, char *message, int message_size);

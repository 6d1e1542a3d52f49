#include "png_shims.h"
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lk_png_write(const char *path, uint32_t width, uint32_t height, int channels, const uint8_t *pixels,
                 char *message, int message_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = width;
    image.height = height;
    image.format = channels == 1 ? PNG_FORMAT_GRAY : channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
    if (!png_image_write_to_file(&image, path, 0, pixels, (png_int_32)(width * (uint32_t)channels), NULL)) {
        snprintf(message, (size_t)message_size, "%s", image.message);
        return 1;
    }
    return 0;
}

int lk_png_read_rgba(const char *path, uint32_t *width, uint32_t *height, uint8_t **pixels, char *message, int message_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, path)) {
        snprintf(message, (size_t)message_size, "%s", image.message);
        return 1;
    }
    image.format = PNG_FORMAT_RGBA;
    uint8_t *buffer = malloc(PNG_IMAGE_SIZE(image));
    if (!buffer) { png_image_free(&image); snprintf(message, (size_t)message_size, "out of memory"); return 1; }
    if (!png_image_finish_read(&image, NULL, buffer, 0, NULL)) {
        snprintf(message, (size_t)message_size, "%s", image.message);
        free(buffer);
        return 1;
    }
    *width = image.width;
    *height = image.height;
    *pixels = buffer;
    return 0;
}

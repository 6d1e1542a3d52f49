/* An ABI 1.3 encoder that gives its forward pass as `encode_images` (not `encode`) and has no
 * `prepare`: features = global average of a learned 1×1 convolution of the images. */
#include "fixture.h"
#include <stdlib.h>

typedef struct { const lk_host_api *api; lk_param *w; } pooled;

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    pooled *self = calloc(1, sizeof *self);
    if (!self) { lk_error_set(err, "out of memory"); return NULL; }
    self->api = api;
    static const int64_t dims[] = { 4, 1, 1, 1 };
    self->w = api->param_create(ctx, "w", NULL, dims, 4, LK_INIT_UNIFORM, 1.0f);
    return self;
}
static lk_status encode_images(void *p, lk_graph *g, lk_node *images, lk_taps *out, lk_error *err) {
    pooled *self = p;
    const lk_host_api *api = self->api;
    lk_node *map = api->relu(g, api->conv2d(g, images, api->param(g, self->w), NULL, 1, 0));
    if (api->emit_tap(out, "conv1", map) != LK_OK) { lk_error_set(err, "emit conv1"); return LK_ERROR; }
    return api->emit_tap(out, "features", api->global_avg_pool(g, map));
}
static const lk_plugin plugin = {
    LK_PLUGIN_HEADER(LK_KIND_ENCODER, "pooled", "1.0.0", "global average of a 1×1 convolution"),
    .create = create, .encode_images = encode_images, .destroy = fixture_destroy,
};
LK_PLUGIN_ENTRY(&plugin)

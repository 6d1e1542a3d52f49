/* Exercises: one library whose list carries two objectives, "alpha" (mean features) and "beta" (twice that). */
#include "losskit.h"
#include <stdlib.h>

typedef struct { const lk_host_api *api; float factor; } state;

static void *make(const lk_host_api *api, float factor, lk_error *err) {
    state *self = calloc(1, sizeof *self);
    if (!self) { lk_error_set(err, "out of memory"); return NULL; }
    self->api = api;
    self->factor = factor;
    return self;
}
static void *create_alpha(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)ctx;
    return make(api, 1.0f, err);
}
static void *create_beta(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)ctx;
    return make(api, 2.0f, err);
}
static lk_status prepare(void *self, lk_context *ctx, const lk_setup *s, lk_error *err) {
    (void)self; (void)ctx; (void)s; (void)err;
    return LK_OK;
}
static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    (void)batch;
    state *self = p;
    const lk_host_api *api = self->api;
    return api->scale(g, api->mean(g, api->tap(taps, "features"), NULL, 0, 0), self->factor);
}
static void destroy(void *self) { free(self); }

static const char *const reads[] = { "features", NULL };
static const lk_plugin alpha = {
    .struct_size = sizeof(lk_plugin), .abi_major = LOSSKIT_ABI_MAJOR, .abi_minor = LOSSKIT_ABI_MINOR,
    .kind = LK_KIND_OBJECTIVE, .name = "alpha", .version = "1.0.0",
    .summary = "mean feature", .taps_read = reads, .default_tap = "features",
    .create = create_alpha, .prepare = prepare, .loss = loss, .destroy = destroy,
};
static const lk_plugin beta = {
    .struct_size = sizeof(lk_plugin), .abi_major = LOSSKIT_ABI_MAJOR, .abi_minor = LOSSKIT_ABI_MINOR,
    .kind = LK_KIND_OBJECTIVE, .name = "beta", .version = "1.0.0",
    .summary = "twice the mean feature", .taps_read = reads, .default_tap = "features",
    .create = create_beta, .prepare = prepare, .loss = loss, .destroy = destroy,
};
static const lk_plugin *const list[] = { &alpha, &beta };
static const lk_plugin_list entry = { sizeof(lk_plugin_list), LOSSKIT_ABI_MAJOR, LOSSKIT_ABI_MINOR, 2, list };

const lk_plugin_list *losskit_plugin_entry(uint16_t host_major, uint16_t host_minor) {
    (void)host_major; (void)host_minor;
    return &entry;
}

/* Exercises: two libraries (dup_a.c, dup_b.c) that both provide an objective named "dupe". */
#include "losskit.h"
#include <stdlib.h>

typedef struct { const lk_host_api *api; } state;

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)ctx;
    state *self = calloc(1, sizeof *self);
    if (!self) { lk_error_set(err, "out of memory"); return NULL; }
    self->api = api;
    return self;
}
static lk_status prepare(void *self, lk_context *ctx, const lk_setup *s, lk_error *err) {
    (void)self; (void)ctx; (void)s; (void)err;
    return LK_OK;
}
static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    (void)batch;
    const lk_host_api *api = ((state *)p)->api;
    return api->mean(g, api->square(g, api->tap(taps, "features")), NULL, 0, 0);
}
static void destroy(void *self) { free(self); }

static const char *const reads[] = { "features", NULL };
static const lk_plugin plugin = {
    .struct_size = sizeof(lk_plugin), .abi_major = LOSSKIT_ABI_MAJOR, .abi_minor = LOSSKIT_ABI_MINOR,
    .kind = LK_KIND_OBJECTIVE, .name = "dupe", .version = "1.0.0",
    .summary = "mean squared feature (copy a)", .taps_read = reads, .default_tap = "features",
    .create = create, .prepare = prepare, .loss = loss, .destroy = destroy,
};
static const lk_plugin *const list[] = { &plugin };
static const lk_plugin_list entry = { sizeof(lk_plugin_list), LOSSKIT_ABI_MAJOR, LOSSKIT_ABI_MINOR, 1, list };

const lk_plugin_list *losskit_plugin_entry(uint16_t host_major, uint16_t host_minor) {
    (void)host_major; (void)host_minor;
    return &entry;
}

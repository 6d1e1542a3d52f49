/* Exercises: create returning NULL with an error message the host must report. */
#include "losskit.h"
#include <stdlib.h>

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)api; (void)ctx;
    lk_error_set(err, "license file not found: /nonexistent/license.key");
    return NULL;
}
static lk_status prepare(void *self, lk_context *ctx, const lk_setup *s, lk_error *err) {
    (void)self; (void)ctx; (void)s; (void)err;
    return LK_OK;
}
static lk_node *loss(void *self, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    (void)self; (void)g; (void)batch; (void)taps;
    return NULL;
}
static void destroy(void *self) { free(self); }

static const char *const reads[] = { "features", NULL };
static const lk_plugin plugin = {
    .struct_size = sizeof(lk_plugin), .abi_major = LOSSKIT_ABI_MAJOR, .abi_minor = LOSSKIT_ABI_MINOR,
    .kind = LK_KIND_OBJECTIVE, .name = "licensed", .version = "1.0.0",
    .summary = "always fails to create", .taps_read = reads, .default_tap = "features",
    .create = create, .prepare = prepare, .loss = loss, .destroy = destroy,
};
static const lk_plugin *const list[] = { &plugin };
static const lk_plugin_list entry = { sizeof(lk_plugin_list), LOSSKIT_ABI_MAJOR, LOSSKIT_ABI_MINOR, 1, list };

const lk_plugin_list *losskit_plugin_entry(uint16_t host_major, uint16_t host_minor) {
    (void)host_major; (void)host_minor;
    return &entry;
}

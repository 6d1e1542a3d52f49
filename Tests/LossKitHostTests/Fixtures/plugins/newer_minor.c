/* A plugin built against a later minor (this header's + 1) whose descriptor carries one more field: the host
 * reads only the 1.0 fields and accepts it (append-only structs within a major). */
#include "losskit.h"
#include <stdlib.h>

typedef struct { lk_plugin base; void (*added_in_1_1)(void *self); } lk_plugin_1_1;

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)ctx; (void)err;
    const lk_host_api **self = malloc(sizeof *self);
    *self = api;
    return self;
}
static lk_status prepare(void *self, lk_context *ctx, const lk_setup *s, lk_error *err) {
    (void)self; (void)ctx; (void)s; (void)err;
    return LK_OK;
}
static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    (void)batch;
    const lk_host_api *api = *(const lk_host_api **)p;
    return api->mean(g, api->tap(taps, "features"), NULL, 0, 0);
}
static void destroy(void *self) { free(self); }
static void added(void *self) { (void)self; }

static const char *reads[] = { "features", NULL };
static const lk_plugin_1_1 plugin = {
    .base = { .struct_size = sizeof(lk_plugin_1_1), .abi_major = LOSSKIT_ABI_MAJOR, .abi_minor = LOSSKIT_ABI_MINOR + 1,
              .kind = LK_KIND_OBJECTIVE, .name = "newer", .version = "1.1.0", .summary = "built for a later ABI minor",
              .taps_read = reads, .default_tap = "features",
              .create = create, .prepare = prepare, .loss = loss, .destroy = destroy },
    .added_in_1_1 = added,
};
static const lk_plugin *const list[] = { &plugin.base };
static const lk_plugin_list entry = { sizeof(lk_plugin_list), LOSSKIT_ABI_MAJOR, LOSSKIT_ABI_MINOR + 1, 1, list };

LK_EXPORT const lk_plugin_list *losskit_plugin_entry(uint16_t host_major, uint16_t host_minor) {
    (void)host_minor;
    return host_major == LOSSKIT_ABI_MAJOR ? &entry : NULL;
}

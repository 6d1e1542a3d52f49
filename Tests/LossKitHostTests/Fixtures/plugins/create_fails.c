/* Exercises: create returning NULL with an error message the host must report. */
#include "fixture.h"
#include <stdlib.h>

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)api; (void)ctx;
    lk_error_set(err, "license file not found: /nonexistent/license.key");
    return NULL;
}
static lk_node *loss(void *self, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    (void)self; (void)g; (void)batch; (void)taps;
    return NULL;
}
static const char *const reads[] = { "features", NULL };
static const lk_plugin plugin = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "licensed", "1.0.0", "always fails to create"),
    .taps_read = reads, .default_tap = "features",
    .create = create, .prepare = fixture_prepare_nothing, .loss = loss, .destroy = fixture_destroy,
};
LK_PLUGIN_ENTRY(&plugin)

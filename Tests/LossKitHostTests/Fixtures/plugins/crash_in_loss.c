/* Exercises: an objective ("crasher") that aborts inside loss; `plugins check` must survive it in a child. */
#include "fixture.h"
#include <stdlib.h>

typedef struct { const lk_host_api *api; } state;

FIXTURE_CREATE(state)

static lk_node *loss(void *self, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    (void)self; (void)g; (void)batch; (void)taps;
    abort();
}
static const char *const reads[] = { "features", NULL };
static const lk_plugin plugin = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "crasher", "1.0.0", "aborts in loss"),
    .taps_read = reads, .default_tap = "features",
    .create = create, .prepare = fixture_prepare_nothing, .loss = loss, .destroy = fixture_destroy,
};
LK_PLUGIN_ENTRY(&plugin)

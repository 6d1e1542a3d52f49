/* Exercises: two libraries (dup_a.c, dup_b.c) that both provide an objective named "dupe". */
#include "fixture.h"
#include <stdlib.h>

typedef struct { const lk_host_api *api; } state;

FIXTURE_CREATE(state)

static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    (void)batch;
    const lk_host_api *api = ((state *)p)->api;
    return api->mean(g, api->square(g, api->tap(taps, "features")), NULL, 0, 0);
}
static const char *const reads[] = { "features", NULL };
static const lk_plugin plugin = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "dupe", "1.0.0", "mean squared feature (copy b)"),
    .taps_read = reads, .default_tap = "features",
    .create = create, .prepare = fixture_prepare_nothing, .loss = loss, .destroy = fixture_destroy,
};
LK_PLUGIN_ENTRY(&plugin)

/* Exercises: one library whose list carries two objectives, "alpha" (mean features) and "beta" (twice that). */
#include "fixture.h"
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
static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    (void)batch;
    state *self = p;
    const lk_host_api *api = self->api;
    return api->scale(g, api->mean(g, api->tap(taps, "features"), NULL, 0, 0), self->factor);
}
static const char *const reads[] = { "features", NULL };
static const lk_plugin alpha = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "alpha", "1.0.0", "mean feature"),
    .taps_read = reads, .default_tap = "features",
    .create = create_alpha, .prepare = fixture_prepare_nothing, .loss = loss, .destroy = fixture_destroy,
};
static const lk_plugin beta = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "beta", "1.0.0", "twice the mean feature"),
    .taps_read = reads, .default_tap = "features",
    .create = create_beta, .prepare = fixture_prepare_nothing, .loss = loss, .destroy = fixture_destroy,
};
LK_PLUGIN_ENTRY(&alpha, &beta)

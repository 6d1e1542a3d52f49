/* Creates a parameter inside `loss`, which the host refuses (losskit.h, "What a plugin may call
 * where"): the term fails with the host's reason instead of training a parameter no optimiser or
 * checkpoint knows. */
#include "fixture.h"
#include <stdlib.h>

typedef struct { const lk_host_api *api; lk_context *ctx; } late;

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    late *self = calloc(1, sizeof *self);
    if (self) { self->api = api; self->ctx = ctx; } else { lk_error_set(err, "out of memory"); }
    return self;
}
static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    late *self = p;
    const lk_host_api *api = self->api;
    (void)batch; (void)taps;
    static const int64_t dims[] = { 1 };
    lk_param *w = api->param_create(self->ctx, "w", NULL, dims, 1, LK_INIT_CONSTANT, 1.0f);
    if (!w) { api->fail(g, "param_create refused in loss"); return NULL; }
    return api->mean(g, api->param(g, w), NULL, 0, 0);
}
static const char *reads[] = { "features", NULL };
static const lk_plugin plugin = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "param-in-loss", "1.0.0", "creates a parameter in loss"),
    .taps_read = reads, .default_tap = "features", .create = create, .loss = loss, .destroy = fixture_destroy,
};
LK_PLUGIN_ENTRY(&plugin)

/* Two ABI 1.3 objectives that read `logits` without sending it any gradient (only its values):
 * one declares it in taps_read_without_gradient, the other does not — `plugins check` must fail
 * the second, whose loss ignores a tap it says it reads. */
#include "fixture.h"
#include <stdlib.h>

typedef struct { const lk_host_api *api; float first_logit; } silent;

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)ctx;
    silent *self = calloc(1, sizeof *self);
    if (self) { self->api = api; } else { lk_error_set(err, "out of memory"); }
    return self;
}
/* mean(features²); the logits are read for a statistic kept aside (as a probe would), not used by the loss */
static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    silent *self = p;
    const lk_host_api *api = self->api;
    (void)batch;
    lk_node *logits = api->tap(taps, "logits");
    if (!logits) return NULL;
    self->first_logit = api->data(logits)[0];
    return api->mean(g, api->square(g, api->tap(taps, "features")), NULL, 0, 0);
}
static const char *reads[] = { "features", "logits", NULL };
static const char *values_only[] = { "logits", NULL };
static const lk_plugin declared = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "declares-logits", "1.0.0", "reads logits for their values, and says so"),
    .taps_read = reads, .taps_read_without_gradient = values_only, .default_tap = "features",
    .create = create, .loss = loss, .destroy = fixture_destroy,
};
static const lk_plugin undeclared = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "ignores-logits", "1.0.0", "reads logits for their values, and does not say so"),
    .taps_read = reads, .default_tap = "features",
    .create = create, .loss = loss, .destroy = fixture_destroy,
};
LK_PLUGIN_ENTRY(&declared, &undeclared)

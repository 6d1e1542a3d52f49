/* ABI 1.3 declarations of every option and probe type through losskit.h's macros: the loss is
 * the mean of the features times `scale`, and the options are echoed by the probes. */
#include "fixture.h"
#include <stdlib.h>

typedef struct {
    const lk_host_api *api;
    double scale;
    int64_t count;
    float rate;
    bool flag;
    char mode[8];
    double echoed_count, echoed_mode_length; /* probes */
    float echoed_rate;
    bool echoed_flag;
    int64_t calls;
} declared;

#define OPTIONS(X) \
    X(declared, scale, double, "1.0", LK_RANGE(0, 10), "multiplies the loss") \
    X(declared, count, int64, "3", LK_AT_LEAST(1), "a count") \
    X(declared, rate, float, "0.5", LK_FROM_BELOW(0, 1), "a rate") \
    X(declared, flag, bool, "false", LK_ANY, "a flag") \
    X(declared, mode, string, "fast", LK_CHOICES("fast|slow|exhaustive"), "a mode (stored in 8 bytes)")
#define PROBES(X) \
    X(declared, echoed_count, double, "count as set") \
    X(declared, echoed_mode_length, double, "length of the stored mode") \
    X(declared, echoed_rate, float, "rate as set") \
    X(declared, echoed_flag, bool, "flag as set") \
    X(declared, calls, int64, "loss calls")
OPTIONS(LK_OPTION_SETTER)
PROBES(LK_PROBE_GETTER)
static const lk_option_decl options[] = { OPTIONS(LK_OPTION_DECL) };
static const lk_probe_decl probes[] = { PROBES(LK_PROBE_DECL) };

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)ctx;
    declared *self = calloc(1, sizeof *self);
    if (self) { self->api = api; } else { lk_error_set(err, "out of memory"); }
    return self;
}
static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    declared *self = p;
    (void)batch;
    self->echoed_count = (double)self->count;
    self->echoed_mode_length = (double)strlen(self->mode);
    self->echoed_rate = self->rate;
    self->echoed_flag = self->flag;
    self->calls++;
    const lk_host_api *api = self->api;
    return api->scale(g, api->mean(g, api->tap(taps, "features"), NULL, 0, 0), (float)self->scale);
}
static const char *reads[] = { "features", NULL };
static const lk_plugin plugin = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "declared", "1.0.0", "every declared option type"),
    .taps_read = reads, .default_tap = "features", LK_PLUGIN_OPTIONS(options), LK_PLUGIN_PROBES(probes),
    .create = create, .loss = loss, .destroy = fixture_destroy,
};
LK_PLUGIN_ENTRY(&plugin)

/* Exercises: one option of every LK_TYPE_* and a probe of every numeric type that reads each option back. */
#include "fixture.h"
#include <stdlib.h>

typedef struct {
    const lk_host_api *api;
    int64_t count;
    double rate;
    float gain;
    bool enabled;
    char *label;
} demo;

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)ctx;
    demo *self = calloc(1, sizeof *self);
    if (!self) { lk_error_set(err, "out of memory"); return NULL; }
    self->api = api;
    self->count = 3; self->rate = 0.5; self->gain = 2.0f; self->enabled = true;
    return self;
}
static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    (void)batch;
    demo *self = p;
    const lk_host_api *api = self->api;
    return api->scale(g, api->mean(g, api->square(g, api->tap(taps, "features")), NULL, 0, 0), self->gain);
}
static void destroy(void *p) {
    demo *self = p;
    free(self->label);
    free(self);
}

lk_status options_demo_set_count(void *p, int64_t v, lk_error *err) {
    (void)err;
    ((demo *)p)->count = v;
    return LK_OK;
}
lk_status options_demo_set_rate(void *p, double v, lk_error *err) {
    if (!(v >= 0 && v <= 1)) {
        if (err) snprintf(err->message, sizeof err->message, "rate must be in [0, 1], got %g", v);
        return LK_ERROR;
    }
    ((demo *)p)->rate = v;
    return LK_OK;
}
lk_status options_demo_set_gain(void *p, float v, lk_error *err) {
    (void)err;
    ((demo *)p)->gain = v;
    return LK_OK;
}
lk_status options_demo_set_enabled(void *p, bool v, lk_error *err) {
    (void)err;
    ((demo *)p)->enabled = v;
    return LK_OK;
}
lk_status options_demo_set_label(void *p, const char *v, lk_error *err) {
    demo *self = p;
    size_t n = strlen(v) + 1;
    char *copy = malloc(n); /* the host's string is valid only during this call */
    if (!copy) { lk_error_set(err, "out of memory"); return LK_ERROR; }
    memcpy(copy, v, n);
    free(self->label);
    self->label = copy;
    return LK_OK;
}

int64_t options_demo_count(void *p) { return ((demo *)p)->count; }
double options_demo_rate(void *p) { return ((demo *)p)->rate; }
float options_demo_gain(void *p) { return ((demo *)p)->gain; }
bool options_demo_enabled(void *p) { return ((demo *)p)->enabled; }

static const lk_option_desc options[] = {
    { sizeof(lk_option_desc), "count", LK_TYPE_INT64, "3", "an int64 option", "options_demo_set_count" },
    { sizeof(lk_option_desc), "rate", LK_TYPE_DOUBLE, "0.5", "a double option in [0, 1]", "options_demo_set_rate" },
    { sizeof(lk_option_desc), "gain", LK_TYPE_FLOAT, "2.0", "a float option; scales the loss", "options_demo_set_gain" },
    { sizeof(lk_option_desc), "enabled", LK_TYPE_BOOL, "true", "a bool option", "options_demo_set_enabled" },
    { sizeof(lk_option_desc), "label", LK_TYPE_STRING, "hello", "a string option", "options_demo_set_label" },
};
static const lk_probe_desc probes[] = {
    { sizeof(lk_probe_desc), "count", LK_TYPE_INT64, "the count option", "options_demo_count" },
    { sizeof(lk_probe_desc), "rate", LK_TYPE_DOUBLE, "the rate option", "options_demo_rate" },
    { sizeof(lk_probe_desc), "gain", LK_TYPE_FLOAT, "the gain option", "options_demo_gain" },
    { sizeof(lk_probe_desc), "enabled", LK_TYPE_BOOL, "the enabled option", "options_demo_enabled" },
};
static const char *const reads[] = { "features", NULL };
static const lk_plugin plugin = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "options-demo", "1.0.0", "one option of each type, read back through probes"),
    .taps_read = reads,
    .default_tap = "features",
    .options = options, .option_count = 5, .probes = probes, .probe_count = 4,
    .create = create, .prepare = fixture_prepare_nothing, .loss = loss, .destroy = destroy,
};
LK_PLUGIN_ENTRY(&plugin)

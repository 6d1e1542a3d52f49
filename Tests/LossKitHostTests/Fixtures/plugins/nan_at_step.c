/* Objective `nan-at-step`: a small finite loss until its `step`-th call, then NaN — shows that
 * training stops naming the term and keeps the last good checkpoint. With `crash=1` it faults
 * there instead (a write through NULL) — shows what a user sees when a plugin crashes. */
#include "fixture.h"
#include <stdlib.h>

typedef struct { const lk_host_api *api; int64_t calls, at, crash; } nan_at;

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)ctx;
    nan_at *self = calloc(1, sizeof *self);
    if (!self) { lk_error_set(err, "out of memory"); return NULL; }
    self->api = api;
    self->at = 1;
    return self;
}

static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    (void)batch;
    nan_at *self = p;
    const lk_host_api *api = self->api;
    self->calls += 1;
    if (self->crash && self->calls >= self->at) *(volatile int *)(uintptr_t)0 = 1;
    lk_node *energy = api->mean(g, api->square(g, api->tap(taps, "features")), NULL, 0, 0);
    /* log(-1) is NaN: the host's finiteness check must catch it */
    return self->calls >= self->at ? api->log(g, api->scale(g, api->add_scalar(g, energy, 1.0f), -1.0f)) : api->scale(g, energy, 0.01f);
}

LK_EXPORT lk_status nan_at_set_step(void *p, int64_t v, lk_error *err) {
    if (v < 1) { lk_error_setf(err, "step must be >= 1, got %lld", (long long)v); return LK_ERROR; }
    ((nan_at *)p)->at = v;
    return LK_OK;
}

LK_EXPORT lk_status nan_at_set_crash(void *p, int64_t v, lk_error *err) {
    (void)err;
    ((nan_at *)p)->crash = v;
    return LK_OK;
}

static const lk_option_desc options[] = {
    { sizeof(lk_option_desc), "step", LK_TYPE_INT64, "1", "the call that returns NaN", "nan_at_set_step" },
    { sizeof(lk_option_desc), "crash", LK_TYPE_INT64, "0", "1: fault at that call instead", "nan_at_set_crash" },
};
static const char *reads[] = { "features", NULL };
static const lk_plugin plugin = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "nan-at-step", "1.0.0", "test fixture: NaN from a chosen step"),
    .taps_read = reads, .default_tap = "features",
    .options = options, .option_count = 2,
    .create = create, .prepare = fixture_prepare_nothing, .loss = loss, .destroy = fixture_destroy,
};
static const lk_plugin *const list[] = { &plugin };
static const lk_plugin_list entry = { sizeof(lk_plugin_list), LOSSKIT_ABI_MAJOR, LOSSKIT_ABI_MINOR, 1, list };

LK_EXPORT const lk_plugin_list *losskit_plugin_entry(uint16_t host_major, uint16_t host_minor) {
    (void)host_major; (void)host_minor;
    return &entry;
}

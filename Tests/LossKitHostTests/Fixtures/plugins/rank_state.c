/* Objective `rank-state`: a small loss on `features`, and two states that show what a plugin in
 * a data-parallel run sees (losskit.h, "Data-parallel runs"):
 * - `tally` [1]: after each step, this rank's rank + 1 — or, with keep=1, the sum of that over
 *   every rank (all_reduce_sum), the same on every rank. Without keep the ranks' copies differ,
 *   which the host must catch at the next checkpoint.
 * - `ranks` [world_size]: every rank's rank, gathered in rank order (all_gather).
 * With fail_rank=R, `loss` fails on rank R alone: one rank's error, which must end the job. */
#include "fixture.h"
#include <stdlib.h>

typedef struct {
    const lk_host_api *api;
    lk_state *tally, *ranks;
    int64_t keep, fail_rank, rank;
} rank_state;

#define RANK_STATE_OPTIONS(X) \
    X(rank_state, keep, int64, "0", LK_RANGE(0, 1), "1: keep the tally the same on every rank (all_reduce_sum)") \
    X(rank_state, fail_rank, int64, "-1", LK_AT_LEAST(-1), "the rank whose loss fails (-1: none)")
RANK_STATE_OPTIONS(LK_OPTION_SETTER)
static const lk_option_decl options[] = { RANK_STATE_OPTIONS(LK_OPTION_DECL) };

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)ctx;
    if (!LK_HOST_HAS(api, all_gather)) { lk_error_set(err, "needs a host of ABI 1.4"); return NULL; }
    rank_state *self = calloc(1, sizeof *self);
    if (!self) { lk_error_set(err, "out of memory"); return NULL; }
    self->api = api;
    self->fail_rank = -1;
    return self;
}

static lk_status prepare(void *p, lk_context *ctx, const lk_setup *s, lk_error *err) {
    (void)s;
    rank_state *self = p;
    int64_t one = 1, world = self->api->world_size(ctx);
    self->rank = self->api->rank(ctx);
    self->tally = self->api->state_create(ctx, "tally", &one, 1, 0.0f);
    self->ranks = self->api->state_create(ctx, "ranks", &world, 1, -1.0f);
    if (!self->tally || !self->ranks) { lk_error_set(err, "state_create failed"); return LK_ERROR; }
    return LK_OK;
}

static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    (void)batch;
    rank_state *self = p;
    const lk_host_api *api = self->api;
    if (self->fail_rank == self->rank) {
        api->fail(g, "rank-state: failing on this rank, as asked (fail_rank)");
        return NULL;
    }
    return api->scale(g, api->mean(g, api->square(g, api->tap(taps, "features")), NULL, 0, 0), 0.01f);
}

static void after_step(void *p, lk_context *ctx, const lk_step_info *info) {
    (void)info;
    rank_state *self = p;
    const lk_host_api *api = self->api;
    float mine = (float)(self->rank + 1), rank = (float)self->rank;
    lk_error err;
    if (self->keep && api->all_reduce_sum(ctx, &mine, 1, &err) != LK_OK) return;
    api->state_data(self->tally)[0] = mine;
    api->all_gather(ctx, &rank, sizeof rank, api->state_data(self->ranks), &err);
}

static const char *reads[] = { "features", NULL };
static const lk_plugin plugin = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "rank-state", "1.0.0", "test fixture: state across ranks"),
    .taps_read = reads, .default_tap = "features",
    .create = create, .prepare = prepare, .loss = loss, .after_step = after_step, .destroy = fixture_destroy,
    LK_PLUGIN_OPTIONS(options),
};
LK_PLUGIN_ENTRY(&plugin)

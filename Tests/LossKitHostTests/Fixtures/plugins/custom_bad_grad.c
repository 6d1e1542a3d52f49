/* Exercises: an objective ("custom-bad-grad") whose custom_op backward forgets the factor 2: the gradient check must fail. */
#include "fixture.h"
#include <stdlib.h>

typedef struct { const lk_host_api *api; } state;

static int64_t count(const lk_shape *s) {
    int64_t n = 1;
    for (int32_t d = 0; d < s->rank; d++) n *= s->dims[d];
    return n;
}
static lk_status square_forward(void *user, int32_t n_inputs, const float *const *inputs,
                                const lk_shape *shapes, float *output, lk_error *err) {
    (void)user; (void)n_inputs; (void)err;
    const float *x = inputs[0];
    for (int64_t i = 0, n = count(&shapes[0]); i < n; i++) output[i] = x[i] * x[i];
    return LK_OK;
}
static lk_status square_backward(void *user, int32_t n_inputs, const float *const *inputs,
                                 const lk_shape *shapes, const float *output, const float *grad_output,
                                 float *const *grad_inputs, lk_error *err) {
    (void)user; (void)n_inputs; (void)output; (void)err;
    if (!grad_inputs[0]) return LK_OK;
    const float *x = inputs[0];
    float *gx = grad_inputs[0];
    /* Deliberately wrong: d(x²)/dx is 2x. */
    for (int64_t i = 0, n = count(&shapes[0]); i < n; i++) gx[i] += x[i] * grad_output[i];
    return LK_OK;
}

FIXTURE_CREATE(state)

static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    (void)batch;
    const lk_host_api *api = ((state *)p)->api;
    lk_node *f = api->tap(taps, "features");
    lk_shape s = api->shape(f);
    lk_node *sq = api->custom_op(g, &f, 1, s.dims, s.rank, square_forward, square_backward, NULL);
    return api->mean(g, sq, NULL, 0, 0);
}
static const char *const reads[] = { "features", NULL };
static const lk_plugin plugin = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "custom-bad-grad", "1.0.0", "custom square with a wrong gradient"),
    .taps_read = reads, .default_tap = "features",
    .create = create, .prepare = fixture_prepare_nothing, .loss = loss, .destroy = fixture_destroy,
};
LK_PLUGIN_ENTRY(&plugin)

/* Objective `every-op`: a loss that calls every differentiable operation of the host table, so
 * `plugins check` gradient-checks each one *through the ABI* (the host's own tests check them in
 * Swift). Every term is small and smooth where it can be; the ops with kinks (relu, max-pool,
 * leaky_relu) are checked as the host checks them, with one-sided differences at kinks. */
#include "fixture.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const lk_host_api *api;
    lk_param *w, *b, *kernel, *gamma, *beta;
    lk_state *mean, *var, *mean2, *var2;
} every_op;

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    every_op *self = calloc(1, sizeof *self);
    if (!self) { lk_error_set(err, "out of memory"); return NULL; }
    self->api = api;
    const int64_t w[] = {3, 8}, b[] = {3}, k[] = {2, 4, 3, 3}, c[] = {4};
    self->w = api->param_create(ctx, "w", NULL, w, 2, LK_INIT_XAVIER_UNIFORM, 0);
    self->b = api->param_create_no_decay(ctx, "b", NULL, b, 1, LK_INIT_UNIFORM, 0.5f);
    self->kernel = api->param_create(ctx, "kernel", NULL, k, 4, LK_INIT_KAIMING_UNIFORM, 0);
    self->gamma = api->param_create_no_decay(ctx, "gamma", NULL, c, 1, LK_INIT_CONSTANT, 1.0f);
    self->beta = api->param_create_no_decay(ctx, "beta", NULL, c, 1, LK_INIT_UNIFORM, 0.2f);
    self->mean = api->state_create(ctx, "mean", c, 1, 0.0f);
    self->var = api->state_create(ctx, "var", c, 1, 1.0f);
    self->mean2 = api->state_create(ctx, "mean2", c, 1, 0.0f);
    self->var2 = api->state_create(ctx, "var2", c, 1, 1.0f);
    return self;
}

/* The element-wise ops' forward values against C's own libm, element by element: a table entry
 * wired to the wrong op (sigmoid to tanh, say) would pass a gradient check, not this. */
typedef double (*reference_fn)(double x);
static double ref_relu(double x) { return x > 0 ? x : 0; }
static double ref_leaky(double x) { return x > 0 ? x : 0.1 * x; }
static double ref_sigmoid(double x) { return 1 / (1 + exp(-x)); }
static double ref_softplus(double x) { return log1p(exp(x)); }
static double ref_square(double x) { return x * x; }
static double ref_scale(double x) { return 0.5 * x; }
static double ref_shift(double x) { return x + 1; }
static double ref_log1p2(double x) { return log(1 + x * x); }
static double ref_sqrt1p2(double x) { return sqrt(1 + x * x); }
static double ref_div(double x) { return x / (1 + x * x); }
static double ref_identity(double x) { return x; }

static int check_values(const lk_host_api *api, lk_graph *g, lk_node *in, lk_node *out, reference_fn ref, const char *name) {
    lk_shape shape = api->shape(in);
    int64_t count = 1;
    for (int i = 0; i < shape.rank; i++) count *= shape.dims[i];
    const float *x = api->data(in), *y = api->data(out);
    if (!x || !y) return 0;
    for (int64_t i = 0; i < count; i++) {
        double want = ref(x[i]);
        if (fabs(y[i] - want) > 1e-5 * (1 + fabs(want))) {
            char message[160];
            snprintf(message, sizeof message, "%s(%g) is %g through the ABI, libm says %g", name, x[i], y[i], want);
            api->fail(g, message);
            return 0;
        }
    }
    return 1;
}

/* mean of everything, scaled: one term of the sum */
static lk_node *term(const lk_host_api *api, lk_graph *g, lk_node *x, float weight) {
    return api->scale(g, api->mean(g, x, NULL, 0, 0), weight);
}

static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    every_op *self = p;
    const lk_host_api *api = self->api;
    lk_node *f = api->tap(taps, "features");   /* [B, 8] */
    lk_node *c = api->tap(taps, "conv2");      /* [B, 4, 8, 8] */
    lk_node *logits = api->tap(taps, "logits");/* [B, 4] */
    lk_node *x = batch->images;                /* [B, 1, 8, 8] */
    int64_t B = batch->size;
    lk_node *one_plus_f2 = api->add_scalar(g, api->square(g, f), 1.0f);
    lk_node *terms[48];
    int n = 0;
    /* forward values of the element-wise ops against libm (a failure is the graph's error) */
    const struct { lk_node *out; reference_fn ref; const char *name; } known[] = {
        { api->relu(g, f), ref_relu, "relu" }, { api->leaky_relu(g, f, 0.1f), ref_leaky, "leaky_relu" },
        { api->tanh(g, f), tanh, "tanh" }, { api->sigmoid(g, f), ref_sigmoid, "sigmoid" },
        { api->softplus(g, f), ref_softplus, "softplus" }, { api->exp(g, f), exp, "exp" },
        { api->square(g, f), ref_square, "square" }, { api->scale(g, f, 0.5f), ref_scale, "scale" },
        { api->add_scalar(g, f, 1.0f), ref_shift, "add_scalar" }, { api->log(g, one_plus_f2), ref_log1p2, "log" },
        { api->sqrt(g, one_plus_f2), ref_sqrt1p2, "sqrt" }, { api->div(g, f, one_plus_f2), ref_div, "div" },
        { api->sub(g, api->add(g, f, f), f), NULL, "add/sub" }, { api->mul(g, f, f), ref_square, "mul" },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (!check_values(api, g, f, known[i].out, known[i].ref ? known[i].ref : ref_identity, known[i].name)) return NULL;
    }
    /* element-wise */
    terms[n++] = term(api, g, api->mul(g, api->add(g, f, f), api->sub(g, f, api->scale(g, f, 0.5f))), 0.1f);
    terms[n++] = term(api, g, api->div(g, f, one_plus_f2), 0.3f);
    terms[n++] = term(api, g, api->relu(g, api->add_scalar(g, f, 0.05f)), 0.2f);
    terms[n++] = term(api, g, api->leaky_relu(g, f, 0.1f), 0.2f);
    terms[n++] = term(api, g, api->mul(g, api->tanh(g, f), api->sigmoid(g, f)), 0.3f);
    terms[n++] = term(api, g, api->softplus(g, f), 0.2f);
    terms[n++] = term(api, g, api->exp(g, api->scale(g, f, 0.3f)), 0.2f);
    terms[n++] = term(api, g, api->log(g, one_plus_f2), 0.2f);
    terms[n++] = term(api, g, api->sqrt(g, one_plus_f2), 0.2f);
    /* linear algebra, with parameters read three ways */
    lk_node *y = api->linear(g, f, api->param(g, self->w), api->param(g, self->b));           /* [B, 3] */
    terms[n++] = term(api, g, api->square(g, y), 0.1f);
    lk_node *yf = api->linear(g, f, api->frozen(g, self->w), NULL);                          /* weights as constants */
    terms[n++] = term(api, g, api->tanh(g, yf), 0.1f);
    terms[n++] = term(api, g, api->matmul(g, f, f, 0, 1), 0.05f);                            /* [B, B] */
    terms[n++] = term(api, g, api->matmul(g, api->param(g, self->w), f, 0, 1), 0.05f);       /* [3, B] */
    const int64_t split[] = {2, B / 2, 8};
    lk_node *fb = api->reshape(g, f, split, 3);                                              /* [2, B/2, 8] */
    terms[n++] = term(api, g, api->batched_matmul(g, fb, fb, 0, 1), 0.05f);
    terms[n++] = term(api, g, api->batched_matmul(g, fb, fb, 1, 0), 0.05f);
    /* images and maps */
    lk_node *cc = api->conv2d(g, c, api->param(g, self->kernel), NULL, 1, 1);                 /* [B, 2, 8, 8] */
    terms[n++] = term(api, g, api->square(g, cc), 0.1f);
    terms[n++] = term(api, g, api->conv2d(g, c, api->param(g, self->kernel), NULL, 2, 0), 0.1f);
    lk_node *pooled = api->max_pool(g, c, 2, 2);                                             /* [B, 4, 4, 4] */
    terms[n++] = term(api, g, api->mul(g, api->max_unpool(g, api->tanh(g, pooled), pooled), c), 0.3f);
    lk_node *avg = api->avg_pool(g, c, 2, 2);
    terms[n++] = term(api, g, api->mul(g, api->upsample_nearest(g, avg, 2), c), 0.3f);
    terms[n++] = term(api, g, api->square(g, api->global_avg_pool(g, c)), 0.3f);
    terms[n++] = term(api, g, api->mul(g, api->global_avg_pool(g, c), api->state(g, self->var)), 0.3f);  /* a state as a constant */
    lk_node *bn = api->batch_norm(g, c, api->param(g, self->gamma), api->param(g, self->beta), self->mean, self->var, 0.1f, 1e-5f);
    terms[n++] = term(api, g, api->mul(g, bn, c), 0.1f);
    if (LK_HOST_HAS(api, batch_norm_relu)) {
        lk_node *bnr = api->batch_norm_relu(g, c, api->param(g, self->gamma), api->param(g, self->beta), self->mean2, self->var2, 0.1f, 1e-5f);
        terms[n++] = term(api, g, api->mul(g, bnr, c), 0.1f);
    }
    const float theta0[6] = {0.9f, 0.1f, 0.05f, -0.1f, 0.95f, -0.05f};
    float *theta = malloc(sizeof(float) * 6 * (size_t)B);
    for (int64_t i = 0; i < B; i++) for (int j = 0; j < 6; j++) theta[6 * i + j] = theta0[j];
    terms[n++] = term(api, g, api->mul(g, api->affine_warp(g, x, theta, 0.0f), x), 0.3f);
    free(theta);
    if (LK_HOST_HAS(api, homography_warp)) {
        const float h0[9] = {0.9f, 0.1f, 0.05f, -0.1f, 0.95f, -0.05f, 0.08f, -0.06f, 1.02f};
        float *h = malloc(sizeof(float) * 9 * (size_t)B);
        for (int64_t i = 0; i < B; i++) for (int j = 0; j < 9; j++) h[9 * i + j] = h0[j];
        terms[n++] = term(api, g, api->mul(g, api->homography_warp(g, x, h, 0.5f), x), 0.3f);
        free(h);
    }
    terms[n++] = term(api, g, api->dropout(g, api->square(g, f), 0.25f), 0.1f);
    /* classification and normalisation */
    terms[n++] = term(api, g, api->mul(g, api->log_softmax(g, logits), api->tanh(g, logits)), 0.2f);
    terms[n++] = term(api, g, api->logsumexp(g, logits), 0.2f);
    int32_t labels[64];
    for (int64_t i = 0; i < B && i < 64; i++) labels[i] = batch->labels[i] < 0 ? 0 : batch->labels[i];
    terms[n++] = api->scale(g, api->cross_entropy(g, logits, labels, batch->labelled), 0.2f);
    terms[n++] = term(api, g, api->mul(g, api->l2_normalize(g, f), f), 0.2f);
    /* reductions and shapes */
    const int32_t axis1[] = {1};
    terms[n++] = term(api, g, api->square(g, api->sum(g, f, axis1, 1, 1)), 0.02f);
    terms[n++] = term(api, g, api->square(g, api->mean(g, c, axis1, 1, 0)), 0.2f);
    terms[n++] = term(api, g, api->square(g, api->slice(g, f, 1, 2, 5)), 0.2f);
    lk_node *pair[2] = {f, api->tanh(g, f)};
    terms[n++] = term(api, g, api->square(g, api->concat(g, pair, 2, 1)), 0.1f);
    const int32_t order[] = {0, 2, 3, 1};
    lk_node *cp = api->permute(g, c, order, 4);
    terms[n++] = term(api, g, api->mul(g, cp, api->tanh(g, cp)), 0.1f);
    const int64_t rows[] = {0, 2, 4};
    lk_node *gathered = api->gather_rows(g, f, rows, 3);
    terms[n++] = term(api, g, api->square(g, gathered), 0.2f);
    terms[n++] = term(api, g, api->mul(g, api->scatter_rows(g, api->tanh(g, gathered), rows, 3, B), f), 0.2f);
    /* constants, detach, encode again */
    float twos[8] = {2, -1, 0.5f, 1, -2, 1.5f, -0.5f, 1};
    const int64_t eight[] = {8};
    terms[n++] = term(api, g, api->mul(g, f, api->constant(g, twos, eight, 1)), 0.1f);
    terms[n++] = term(api, g, api->mul(g, api->detach(g, f), f), 0.1f);
    if (LK_HOST_HAS(api, mean_squared_error)) terms[n++] = api->scale(g, api->mean_squared_error(g, f, api->tanh(g, f)), 0.3f);
    lk_taps *again = api->encode(g, api->scale(g, x, 0.9f), 0);
    terms[n++] = term(api, g, api->square(g, api->tap(again, "features")), 0.2f);
    lk_taps *frozen = api->encode(g, api->scale(g, x, 1.1f), 1);
    terms[n++] = term(api, g, api->square(g, api->tap(frozen, "features")), 0.2f);
    lk_node *total = terms[0];
    for (int i = 1; i < n; i++) total = api->add(g, total, terms[i]);
    return total;
}

static const char *reads[] = { "features", "conv2", "logits", NULL };
static const lk_plugin plugin = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "every-op", "1.0.0", "test fixture: every operation of the host table in one loss"),
    .taps_read = reads, .default_tap = "features",
    .create = create, .prepare = fixture_prepare_nothing, .loss = loss, .destroy = fixture_destroy,
};
static const lk_plugin *const list[] = { &plugin };
static const lk_plugin_list entry = { sizeof(lk_plugin_list), LOSSKIT_ABI_MAJOR, LOSSKIT_ABI_MINOR, 1, list };

LK_EXPORT const lk_plugin_list *losskit_plugin_entry(uint16_t host_major, uint16_t host_minor) {
    (void)host_major; (void)host_minor;
    return &entry;
}

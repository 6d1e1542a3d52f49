/*
 * entropy-min: entropy minimisation of the class posterior on unlabelled rows
 * (Grandvalet & Bengio, "Semi-supervised Learning by Entropy Minimization", 2005).
 *
 *   loss = mean over unlabelled rows i of H(p_i),  H(p) = -Σ_k p_k log p_k,  p = softmax(logits / T)
 *
 * Build: cc -shared -fPIC $(pkg-config --cflags losskit) entropy_min.c -o libentropy_min.so
 */
#include <losskit.h>
#include <stdlib.h>

typedef struct {
    const lk_host_api *api;
    double temperature;  /* option */
    bool all_rows;       /* option */
    char *tap;           /* copied in prepare: the setup's string lives only for that call */
    int64_t *rows;       /* gather_rows indices; kept until the next batch so the backward pass can use them */
    int32_t rows_cap;
    double entropy;      /* probe */
} entropy_min;

/* Options and probes, each declared once (losskit.h, "Options and probes declared once"). */
#define OPTIONS(X) \
    X(entropy_min, temperature, double, "1.0", LK_ABOVE(0), "divides the logits before the softmax; > 1 flattens the posterior") \
    X(entropy_min, all_rows, bool, "false", LK_ANY, "also minimise the entropy on labelled rows")
#define PROBES(X) X(entropy_min, entropy, double, "mean entropy of the last batch's selected rows")
OPTIONS(LK_OPTION_SETTER)
PROBES(LK_PROBE_GETTER)
static const lk_option_decl options[] = { OPTIONS(LK_OPTION_DECL) };
static const lk_probe_decl probes[] = { PROBES(LK_PROBE_DECL) };

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)ctx;
    entropy_min *self = calloc(1, sizeof *self);
    if (!self) { lk_error_set(err, "out of memory"); return NULL; }
    self->api = api;
    return self;
}

static lk_status prepare(void *p, lk_context *ctx, const lk_setup *setup, lk_error *err) {
    (void)ctx;
    entropy_min *self = p;
    /* Honour `entropy-min@tap`: the host resolves it (or default_tap) into setup->tap. */
    const char *tap = setup->tap ? setup->tap : "logits";
    size_t n = strlen(tap) + 1;
    free(self->tap);
    self->tap = malloc(n);
    if (!self->tap) { lk_error_set(err, "out of memory"); return LK_ERROR; }
    memcpy(self->tap, tap, n);
    return LK_OK;
}

static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
    entropy_min *self = p;
    const lk_host_api *api = self->api;
    lk_node *logits = api->tap(taps, self->tap);

    int64_t n = batch->size;
    if (!self->all_rows) {
        if (self->rows_cap < batch->size) {
            int64_t *rows = realloc(self->rows, (size_t)batch->size * sizeof *rows);
            if (!rows) { api->fail(g, "out of memory"); return NULL; }
            self->rows = rows;
            self->rows_cap = batch->size;
        }
        n = 0;
        for (int32_t i = 0; i < batch->size; i++)
            if (!batch->labelled[i]) self->rows[n++] = i;
        if (n == 0) {
            /* Still return a node (of the tap) so the term stays on the tape with a zero gradient. */
            self->entropy = 0.0;
            return api->scale(g, api->sum(g, logits, NULL, 0, 0), 0.0f);
        }
    }

    lk_node *logp = api->log_softmax(g, api->scale(g, logits, (float)(1.0 / self->temperature)));
    static const int32_t class_axis[] = { 1 };
    /* keep_dims: a [B, 1] column, so gather_rows selects rows of a matrix as it expects. */
    lk_node *h = api->scale(g, api->sum(g, api->mul(g, api->exp(g, logp), logp), class_axis, 1, 1), -1.0f);
    if (!self->all_rows) h = api->gather_rows(g, h, self->rows, n);
    lk_node *out = api->mean(g, h, NULL, 0, 0);
    if (out) self->entropy = api->data(out)[0];
    return out;
}

static void destroy(void *p) {
    entropy_min *self = p;
    free(self->tap);
    free(self->rows);
    free(self);
}

static const char *const reads[] = { "logits", NULL };
static const lk_plugin plugin = {
    LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "entropy-min", "1.1.0",
                     "entropy minimisation of the class posterior on unlabelled rows (Grandvalet & Bengio 2005)"),
    .taps_read = reads, .default_tap = "logits", LK_PLUGIN_OPTIONS(options), LK_PLUGIN_PROBES(probes),
    .create = create, .prepare = prepare, .loss = loss, .destroy = destroy,
};
LK_PLUGIN_ENTRY(&plugin)

/* Kept as it was written against losskit.h ABI 1.2 (the header beside it, unchanged): the
 * compatibility test builds it with that header and loads, checks and trains it on this host. */
/*
 * entropy-min: entropy minimisation of the class posterior on unlabelled rows
 * (Grandvalet & Bengio, "Semi-supervised Learning by Entropy Minimization", 2005).
 *
 *   loss = mean over unlabelled rows i of H(p_i),  H(p) = -Σ_k p_k log p_k,  p = softmax(logits / T)
 *
 * Build: cc -shared -fPIC -I<path to Sources/CLossKitABI/include> entropy_min.c -o libentropy_min.so
 */
#include "losskit.h"
#include <stdlib.h>

typedef struct {
    const lk_host_api *api;
    double temperature;
    bool all_rows;
    char *tap;       /* copied in prepare: the setup's string lives only for that call */
    int64_t *rows;   /* gather_rows indices; kept until the next batch so the backward pass can use them */
    int32_t rows_cap;
    double entropy;  /* probe */
} entropy_min;

static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
    (void)ctx;
    entropy_min *self = calloc(1, sizeof *self);
    if (!self) { lk_error_set(err, "out of memory"); return NULL; }
    self->api = api;
    self->temperature = 1.0;
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

lk_status entropy_min_set_temperature(void *p, double v, lk_error *err) {
    if (!(v > 0)) { /* also rejects NaN */
        if (err) snprintf(err->message, sizeof err->message, "temperature must be > 0, got %g", v);
        return LK_ERROR;
    }
    ((entropy_min *)p)->temperature = v;
    return LK_OK;
}

lk_status entropy_min_set_all_rows(void *p, bool v, lk_error *err) {
    (void)err;
    ((entropy_min *)p)->all_rows = v;
    return LK_OK;
}

double entropy_min_entropy(void *p) { return ((entropy_min *)p)->entropy; }

static const lk_option_desc options[] = {
    { sizeof(lk_option_desc), "temperature", LK_TYPE_DOUBLE, "1.0",
      "divides the logits before the softmax; > 1 flattens the posterior", "entropy_min_set_temperature" },
    { sizeof(lk_option_desc), "all_rows", LK_TYPE_BOOL, "false",
      "also minimise the entropy on labelled rows", "entropy_min_set_all_rows" },
};
static const lk_probe_desc probes[] = {
    { sizeof(lk_probe_desc), "entropy", LK_TYPE_DOUBLE, "mean entropy of the last batch's selected rows",
      "entropy_min_entropy" },
};
static const char *const reads[] = { "logits", NULL };
static const lk_plugin plugin = {
    .struct_size = sizeof(lk_plugin), .abi_major = LOSSKIT_ABI_MAJOR, .abi_minor = LOSSKIT_ABI_MINOR,
    .kind = LK_KIND_OBJECTIVE, .name = "entropy-min", .version = "1.0.0",
    .summary = "entropy minimisation of the class posterior on unlabelled rows (Grandvalet & Bengio 2005)",
    .taps_read = reads, .default_tap = "logits",
    .options = options, .option_count = 2, .probes = probes, .probe_count = 1,
    .create = create, .prepare = prepare, .loss = loss, .destroy = destroy,
};
static const lk_plugin *const list[] = { &plugin };
static const lk_plugin_list entry = { sizeof(lk_plugin_list), LOSSKIT_ABI_MAJOR, LOSSKIT_ABI_MINOR, 1, list };

const lk_plugin_list *losskit_plugin_entry(uint16_t host_major, uint16_t host_minor) {
    (void)host_major; (void)host_minor; /* the host refuses another major itself */
    return &entry;
}

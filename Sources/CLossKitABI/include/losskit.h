/*
 * losskit.h — the LossKit plugin contract, ABI 1.4 (LOSSKIT_ABI_MAJOR.LOSSKIT_ABI_MINOR below).
 *
 * This header is the whole contract between the `losskit` host and its plugins: objectives
 * (a loss term such as `nce` or `sc`) and encoders (such as `convnet-s`). A plugin is a shared
 * library that includes this header (or the Swift SDK built on it) and nothing of the host: the
 * host hands it a table of functions, `lk_host_api`, when it is created.
 *
 * A minimal complete objective (C): mean squared activation of the global feature
 * --------------------------------------------------------------------------------
 *
 *   #include <losskit.h>
 *   #include <stdlib.h>
 *
 *   typedef struct { const lk_host_api *api; double scale; } energy;
 *
 *   // each option declared once: name, type, default, valid range, doc (see "Options")
 *   #define ENERGY_OPTIONS(X) X(energy, scale, double, "1.0", LK_AT_LEAST(0), "multiplies the energy")
 *   ENERGY_OPTIONS(LK_OPTION_SETTER)
 *   static const lk_option_decl options[] = { ENERGY_OPTIONS(LK_OPTION_DECL) };
 *
 *   static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) {
 *       (void)ctx;
 *       energy *self = calloc(1, sizeof *self);
 *       if (self) { self->api = api; } else { lk_error_set(err, "out of memory"); }
 *       return self;
 *   }
 *   static lk_node *loss(void *p, lk_graph *g, const lk_batch *batch, lk_taps *taps) {
 *       energy *self = p; const lk_host_api *api = self->api; (void)batch;
 *       lk_node *f = api->tap(taps, "features");
 *       return api->scale(g, api->mean(g, api->square(g, f), NULL, 0, 0), (float)self->scale);
 *   }
 *   static void destroy(void *self) { free(self); }
 *
 *   static const char *reads[] = { "features", NULL };
 *   static const lk_plugin plugin = {
 *       LK_PLUGIN_HEADER(LK_KIND_OBJECTIVE, "energy", "1.0.0", "mean squared global feature"),
 *       .taps_read = reads, .default_tap = "features", LK_PLUGIN_OPTIONS(options),
 *       .create = create, .loss = loss, .destroy = destroy,
 *   };
 *   LK_PLUGIN_ENTRY(&plugin)
 *
 * Build: cc -shared -fPIC $(pkg-config --cflags losskit) energy.c -o libenergy.so
 * Use:   losskit train --plugin-path . --loss 'ce + 0.1*energy(scale=2)'
 * Check: losskit plugins check ./libenergy.so --term 'energy(scale=2)'
 *
 * Rules that keep the contract stable
 * -----------------------------------
 * - One exported symbol per library: `losskit_plugin_entry` (see the end of this file). It
 *   returns a list of plugin descriptors; one library may carry several plugins.
 * - Every struct that crosses the boundary starts with `struct_size`. Fields are only ever
 *   appended, never reordered or removed, within a major version. A reader uses only the fields
 *   that the writer's `struct_size` covers, so an older plugin (smaller struct) keeps working
 *   with a newer host of the same major version. The host refuses a plugin of another major.
 *   The other way round, a newer plugin on an older host checks `LK_HOST_HAS(api, fn)` before
 *   calling a function appended after 1.0, and falls back when it is absent.
 * - Plain C types only. Strings are UTF-8 and NUL-terminated. Nothing is freed across the
 *   boundary: every pointer says below who owns it and how long it stays valid.
 * - The host owns the math. A plugin builds its loss from graph operations of `lk_host_api`;
 *   the host records them on its tape and runs the backward pass. Plugins write no gradient
 *   code, except inside `custom_op`, whose gradient `losskit plugins check` verifies.
 * - Errors: functions that can fail return `lk_status` and fill an `lk_error` the caller
 *   provides. Graph operations instead return NULL and leave a *sticky* error on the graph:
 *   every later operation given a NULL input returns NULL too, so a plugin may chain calls and
 *   check once at the end; the host reports the first error with the plugin's name.
 * - Arrays passed *into* host functions (indices, labels, masks, theta, dims, names) are copied
 *   or consumed before the function returns: the plugin may free or reuse them at once.
 * - A scalar is rank 0 with one element; `shape(NULL)` is also rank 0, so check for NULL first.
 * - The host loads each library with RTLD_LOCAL: same-named helpers of two plugins never clash.
 *   Export the entry (and 1.2-style setters and getters) with LK_EXPORT so -fvisibility=hidden
 *   builds work.
 *
 * Lifecycle of an instance
 * ------------------------
 * One instance per term of the loss expression (`nce` and `nce@conv4` are two), and one of the
 * encoder. In this order, each call from one thread at a time:
 *
 *     create ──► options (defaults, then the user's) ──► prepare? ──► restore? ──┐
 *                                                                                 ▼
 *     destroy ◄── ... ◄── after_step? ◄── loss      (objectives, once per training step)
 *                                    ◄── encode_images (encoders, once per batch, also in evaluation)
 *
 * - create: make the instance; no parameters yet (the options are not set).
 * - options: every declared option's default is set, then each `key=value` the user wrote, in
 *   order; a value outside the declared range or choices is refused by the host before any call.
 * - prepare (may be NULL since 1.3): create parameters and state from `lk_setup`.
 * - restore: on resume or `--init-from`, the host overwrites the values of the parameters and
 *   states that `prepare` created with the checkpoint's, after `prepare` and before the first
 *   `loss`. So create every checkpointed tensor in `prepare`, and keep nothing derived from
 *   their values that `prepare` computed (recompute it in `loss` or `after_step`).
 * - loss: build the term on the graph; the host scales it by the term's weight. A term whose
 *   schedule is off at a step (`[until=750]`, a zero ramp) gets neither `loss` nor `after_step`
 *   at that step.
 * - after_step: after the optimiser step of a step whose `loss` ran.
 * - destroy: free the instance; the host frees parameters and states itself.
 *
 * What a plugin may call where
 * ----------------------------
 *     host function                     create  options  prepare  loss/encode  after_step
 *     param_create, state_create,         yes      -       yes      refused       (1)
 *       set_group_optimizer
 *     state_data, tap_shape, log_message  yes      -       yes        yes         yes
 *     random_* (the run's generator)      yes      -       yes        yes         yes
 *     report_image                         -       -        -         yes         yes
 *     graph functions (the lk_graph *)     -       -        -         yes          -
 *     rank, world_size (1.4)              yes      -       yes        yes         yes
 *     all_reduce_sum, all_gather (1.4)     -       -       yes      loss (2)      yes
 * (1) allowed since 1.0, but a parameter or state made after `prepare` is not restored from a
 * checkpoint: make them in `prepare`. The host refuses the first row's functions
 * in `loss` and `encode` (NULL, or LK_ERROR, with a message).
 * (2) in an objective's `loss`; never in an encoder's `encode_images`, which evaluation runs on
 * rank 0 alone.
 * Random numbers come from the run's one seeded generator, so a run is reproducible whatever a
 * plugin draws, in any callback above. `losskit plugins check` calls `loss` hundreds of times on
 * one batch and restores the generator before each call, so a plugin's draws inside `loss` repeat
 * exactly there; a plugin must not keep its own generator or read the clock. `plugins check`
 * also creates instances with each option at its default and at the ends of its range.
 *
 * Data-parallel runs (since 1.4)
 * ------------------------------
 * `mpirun -np N losskit train ...` starts N processes, ranks 0..N-1, that train one model. Each
 * step's batch is the one a single process would draw; each rank computes the loss on its share
 * of its rows (an equal share of the labelled rows and of the unlabelled rows), so a `loss`
 * batch has batch_size / N rows and lk_batch.indices names that rank's rows. The host averages
 * every parameter's gradient (param_create) across ranks before the optimiser step, so
 * parameters stay identical everywhere and a plugin whose state is only parameters needs to do
 * nothing. State (state_create) is the plugin's own: a plugin whose state follows the batch
 * (NCE's memory bank, a running estimate) keeps every rank's copy identical with all_gather or
 * all_reduce_sum in `after_step`; at each checkpoint the host compares every state across ranks
 * and stops the run, naming the first that differs. random_* draws are the same on every rank
 * in create and prepare (parameters and states start identical) and each rank's own in `loss`
 * and `after_step` (N ranks do not draw N copies of the same noise). Every rank must make the
 * same collective calls in the same order with the same sizes; a call only some ranks make
 * leaves the others waiting until the job is ended. In a run of one process rank is 0,
 * world_size 1, all_reduce_sum leaves the data and all_gather copies it.
 *
 * Taps: what an objective reads
 * -----------------------------
 * The encoder publishes named tensors, its taps: `convnet-s` emits conv1...conv5 [B, C, H, W]
 * (after ReLU), pool1 and pool2 (max-pools, carrying their switches for max_unpool) and
 * features [B, D]; the host adds logits [B, K], the classifier head on features. `losskit
 * plugins info ENCODER` lists an encoder's taps with shapes. An objective declares the taps it
 * reads in `taps_read`, where '*' matches any run of characters ("pool*" matches pool1 and
 * pool2; "*" matches every tap; no other character is special); the host refuses a term whose
 * encoder offers no match. `name@tap` in a loss expression replaces the plugin's `default_tap`.
 * `tap_shape`'s first dimension is the training batch size (lk_setup.batch_size); a `loss`
 * batch may be smaller, so size per-row work from the node's own shape.
 */
#ifndef LOSSKIT_H
#define LOSSKIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Since 1.0. The major changes only when the contract breaks; the minor when fields or
 * functions are appended. A plugin built against minor m loads on every host of the same major
 * whose minor is m or later. 1.1 appended lk_host_api.batch_norm_relu; 1.2 appended
 * lk_host_api.mean_squared_error; 1.3 added options and probes declared once (lk_option_decl,
 * lk_probe_decl, and their tables appended to lk_plugin), lk_plugin.taps_read_without_gradient,
 * lk_host_api.encode_again and lk_plugin.encode_images (the two `encode`s by names that tell
 * them apart), lk_host_api.homography_warp, and made `prepare` optional; 1.4 appended the
 * data-parallel functions lk_host_api.rank, world_size, all_reduce_sum and all_gather. */
#define LOSSKIT_ABI_MAJOR 1
#define LOSSKIT_ABI_MINOR 4

/* The largest tensor rank the ABI carries. Since 1.0. */
#define LK_MAX_RANK 8

/* ---- Status and errors ------------------------------------------------------------------- */

/* 0 is success; anything else is failure with a message in the accompanying lk_error. */
typedef int32_t lk_status;
#define LK_OK 0
#define LK_ERROR 1

/* A message buffer owned by whoever calls the function that may fail. The callee writes a
 * NUL-terminated UTF-8 message (truncated to fit); the caller copies it. Since 1.0. */
typedef struct lk_error {
    char message[512];         /* NUL-terminated UTF-8; empty when no message was written. Since 1.0. */
} lk_error;

/* Marks a symbol the host looks up by name (entry, option setters, probe getters). */
#define LK_EXPORT __attribute__((visibility("default")))

/* Fills `err` (if not NULL) with a message; a convenience for plugin authors. */
static inline void lk_error_set(lk_error *err, const char *message) {
    if (err) { snprintf(err->message, sizeof err->message, "%s", message); }
}

/* printf-style lk_error_set: lk_error_setf(err, "rate must be in [0, 1], got %g", v). */
__attribute__((format(printf, 2, 3)))
static inline void lk_error_setf(lk_error *err, const char *format, ...) {
    if (!err) { return; }
    va_list args;
    va_start(args, format);
    vsnprintf(err->message, sizeof err->message, format, args);
    va_end(args);
}

/* ---- Opaque handles ------------------------------------------------------------------------ */

/* One forward/backward pass (one training step, one evaluation batch). Owned by the host; valid
 * only during the host call it is passed to. */
typedef struct lk_graph lk_graph;
/* A value recorded on a graph. Owned by the graph; valid until the host call that created it
 * returns (the whole step, for nodes made in `loss` or `encode`). */
typedef struct lk_node lk_node;
/* A trainable parameter made by `param_create`. Owned by the host; valid for the life of the
 * plugin instance. Its values are saved in checkpoints under "<instance>.<name>". */
typedef struct lk_param lk_param;
/* A non-trained state tensor made by `state_create` (NCE's memory bank, batch-norm running
 * statistics). Owned by the host; valid for the life of the plugin instance; checkpointed. */
typedef struct lk_state lk_state;
/* The host's handle for one plugin instance: parameter and state creation, logging, random
 * numbers. Owned by the host; valid for the life of the instance. */
typedef struct lk_context lk_context;
/* A named set of encoder outputs (taps) from one encoder pass. Owned by the graph. */
typedef struct lk_taps lk_taps;

/* ---- Enumerations (int32_t on the wire) ---------------------------------------------------- */

/* Plugin kinds. Since 1.0. */
#define LK_KIND_OBJECTIVE 1 /* contributes a loss term */
#define LK_KIND_ENCODER 2   /* maps images to taps */

/* Declared option and probe types: the C type of the setter's value / getter's result. */
#define LK_TYPE_INT64 1  /* int64_t */
#define LK_TYPE_DOUBLE 2 /* double */
#define LK_TYPE_FLOAT 3  /* float */
#define LK_TYPE_BOOL 4   /* bool (C99 _Bool) */
#define LK_TYPE_STRING 5 /* const char * (UTF-8; valid only during the setter call: copy it) */

/* Parameter initialisers for `param_create`; `arg` is the constant, bound or std. */
#define LK_INIT_ZEROS 0
#define LK_INIT_CONSTANT 1        /* every value = arg */
#define LK_INIT_UNIFORM 2         /* U(-arg, arg) */
#define LK_INIT_NORMAL 3          /* N(0, arg²) */
#define LK_INIT_KAIMING_NORMAL 4  /* N(0, 2/fan_in); fan_in = dims[1]·(kernel size) */
#define LK_INIT_KAIMING_UNIFORM 5 /* U(±sqrt(6/fan_in)) */
#define LK_INIT_XAVIER_UNIFORM 6  /* U(±sqrt(6/(fan_in+fan_out))) */

/* Optimiser kinds for `set_group_optimizer`. */
#define LK_OPTIMIZER_SGD 1
#define LK_OPTIMIZER_ADAM 2

/* Log levels for `log`. */
#define LK_LOG_DEBUG 0
#define LK_LOG_INFO 1
#define LK_LOG_WARNING 2

/* ---- Plain data structs -------------------------------------------------------------------- */

/* A shape, passed by value (no ownership). Since 1.0. */
typedef struct lk_shape {
    int32_t rank;              /* number of dimensions, 0...LK_MAX_RANK (0: scalar or NULL node). Since 1.0. */
    int64_t dims[LK_MAX_RANK]; /* the first `rank` entries are the sizes, outermost first. Since 1.0. */
} lk_shape;

/* Optimiser settings of a parameter group. Written by the plugin, copied by the host. Since 1.0. */
typedef struct lk_optimizer_settings {
    uint32_t struct_size;  /* sizeof(lk_optimizer_settings) as the plugin was compiled. Since 1.0. */
    int32_t kind;          /* LK_OPTIMIZER_SGD or LK_OPTIMIZER_ADAM. Since 1.0. */
    float learning_rate;   /* base learning rate; the run's schedule scales it. Since 1.0. */
    float momentum;        /* SGD momentum, or Adam's beta1. Since 1.0. */
    float beta2;           /* Adam's beta2 (ignored by SGD). Since 1.0. */
    float epsilon;         /* Adam's epsilon (ignored by SGD). Since 1.0. */
    float weight_decay;    /* L2 coefficient. Since 1.0. */
    int32_t nesterov;      /* SGD: 1 for Nesterov momentum. Since 1.0. */
} lk_optimizer_settings;

/* A batch as an objective sees it. Owned by the host; valid during the `loss` call. Since 1.0. */
typedef struct lk_batch {
    uint32_t struct_size;    /* sizeof(lk_batch) as the host was compiled. Since 1.0. */
    int32_t size;            /* B, the number of rows. Since 1.0. */
    int32_t channels;        /* C of the images. Since 1.0. */
    int32_t height;          /* H. Since 1.0. */
    int32_t width;           /* W. Since 1.0. */
    lk_node *images;         /* [B, C, H, W], normalised, augmented; a constant node. Since 1.0. */
    const int32_t *labels;   /* [B]; -1 where the row is unlabelled. Since 1.0. */
    const uint8_t *labelled; /* [B]; 1 where the label is known to training. Since 1.0. */
    const int64_t *indices;  /* [B]; each row's index in the training set (memory banks). Since 1.0. */
    int64_t dataset_size;    /* N, the number of training images (bank rows). Since 1.0. */
    int32_t num_classes;     /* K. Since 1.0. */
    float pixel_min;         /* smallest normalised pixel value (0 before normalisation). Since 1.0. */
    float pixel_max;         /* largest normalised pixel value (1 before normalisation). Since 1.0. */
} lk_batch;

/* What the host tells `prepare`, once, before the first step. Owned by the host; valid during
 * the call. Since 1.0. */
typedef struct lk_setup {
    uint32_t struct_size;    /* sizeof(lk_setup) as the host was compiled. Since 1.0. */
    const char *instance;    /* the term's name in the loss expression, e.g. "nce" or "sc@conv4";
                                prefixes the names of the instance's parameters. Host-owned,
                                valid during the call: copy it. Since 1.0. */
    const char *tap;         /* objectives: the tap to read — the user's `@tap`, else the plugin's
                                `default_tap`; NULL for encoders. Host-owned, valid during the
                                call: copy it. Since 1.0. */
    int32_t channels;        /* C of the images. Since 1.0. */
    int32_t height;          /* H of the images. Since 1.0. */
    int32_t width;           /* W of the images. Since 1.0. */
    int32_t num_classes;     /* K, the classes of the data set (the head's logits). Since 1.0. */
    int64_t dataset_size;    /* N training images (memory-bank rows). Since 1.0. */
    float pixel_min;         /* smallest normalised pixel value, as in lk_batch. Since 1.0. */
    float pixel_max;         /* largest normalised pixel value, as in lk_batch. Since 1.0. */
    int32_t batch_size;      /* B of training batches. Since 1.0. */
} lk_setup;

/* Passed to `after_step`. Owned by the host; valid during the call. Since 1.0. */
typedef struct lk_step_info {
    uint32_t struct_size;    /* sizeof(lk_step_info) as the host was compiled. Since 1.0. */
    int64_t step;            /* 0-based index of the step just taken. Since 1.0. */
    int64_t total_steps;     /* Since 1.0. */
    float learning_rate_factor; /* the schedule's factor at this step. Since 1.0. */
} lk_step_info;

/* A declared entry point of a plugin (an option's `set`, a probe's `get`): the host calls it
 * through libffi with the signature its declaration's `type` gives. Since 1.3. */
typedef void (*lk_fn)(void);

/* Which bounds of an option's range apply (lk_option_decl.bounds), for int64, double and float
 * options. Open bounds exclude the value itself. Since 1.3. */
#define LK_BOUND_MIN 1
#define LK_BOUND_MAX 2
#define LK_BOUND_MIN_OPEN 4
#define LK_BOUND_MAX_OPEN 8

/* A declared option of ABI 1.0–1.2 (a 1.3 plugin declares lk_option_decl instead). The host
 * converts the user's text (`nce(tau=0.1)`) to `type` and calls the exported function named
 * `setter` through libffi:
 *     lk_status setter(void *self, <C type of `type`> value, lk_error *err);
 * Setters run after `create` and before `prepare`, defaults first, then the user's values.
 * All strings are static (owned by the plugin, valid while the library is loaded). Since 1.0. */
typedef struct lk_option_desc {
    uint32_t struct_size;      /* sizeof(lk_option_desc). Since 1.0. */
    const char *name;          /* key in the loss expression. Since 1.0. */
    int32_t type;              /* LK_TYPE_*. Since 1.0. */
    const char *default_value; /* as text, parsed like user text. Since 1.0. */
    const char *doc;           /* one line for `losskit plugins info`. Since 1.0. */
    const char *setter;        /* exported symbol name of the setter. Since 1.0. */
} lk_option_desc;

/* A declared probe of ABI 1.0–1.2 (a 1.3 plugin declares lk_probe_decl instead): a number the
 * plugin reports, logged with the metrics. The host calls the exported function named `getter`
 * through libffi after each logged step:
 *     <C type of `type`> getter(void *self);
 * `type` is LK_TYPE_INT64, LK_TYPE_DOUBLE, LK_TYPE_FLOAT or LK_TYPE_BOOL. Since 1.0. */
typedef struct lk_probe_desc {
    uint32_t struct_size;      /* sizeof(lk_probe_desc). Since 1.0. */
    const char *name;          /* metric name, logged as "<instance>.<name>". Since 1.0. */
    int32_t type;              /* LK_TYPE_*. Since 1.0. */
    const char *doc;           /* one line. Since 1.0. */
    const char *getter;        /* exported symbol name of the getter. Since 1.0. */
} lk_probe_desc;

/* An option declared once: everything the host knows of it, from which it derives `plugins
 * info`, the parsing of `term(key=value)`, the check of the value with its message, the call
 * that sets it, and the run's record of the options. Write them with LK_OPTION_SETTER and
 * LK_OPTION_DECL (below), and the declared type and the setter's signature cannot disagree.
 * The host calls `set` through libffi as
 *     lk_status set(void *self, int32_t index, <C type of `type`> value, lk_error *err);
 * `index` being the declaration's position in `option_decls`; only with values the declaration
 * accepts (type, range, choices), after `create` and before `prepare`, defaults first, then the
 * user's values. A string value is valid only during the call: copy it. All strings are static
 * (owned by the plugin, valid while the library is loaded). Since 1.3. */
typedef struct lk_option_decl {
    uint32_t struct_size;      /* sizeof(lk_option_decl) as the plugin was compiled. Since 1.3. */
    const char *name;          /* key in the loss expression. Since 1.3. */
    int32_t type;              /* LK_TYPE_*. Since 1.3. */
    const char *default_value; /* as text, parsed like user text; must be accepted. Since 1.3. */
    const char *doc;           /* one line for `losskit plugins info`. Since 1.3. */
    int32_t bounds;            /* LK_BOUND_* flags: which of minimum and maximum apply (int64,
                                  double, float); 0: any value of the type. Since 1.3. */
    double minimum;            /* the range's lower end (LK_BOUND_MIN). Since 1.3. */
    double maximum;            /* the range's upper end (LK_BOUND_MAX). Since 1.3. */
    const char *choices;       /* string options: the values accepted, separated by '|'
                                  ("jsd|infonce|dv"); NULL: any string. Since 1.3. */
    lk_fn set;                 /* the setter, signature above. Since 1.3. */
} lk_option_decl;

/* A probe declared once (LK_PROBE_GETTER and LK_PROBE_DECL below): a number the plugin reports,
 * logged as "<instance>.<name>" after each logged step. The host calls `get` through libffi as
 *     <C type of `type`> get(void *self, int32_t index);
 * `type` is LK_TYPE_INT64, LK_TYPE_DOUBLE, LK_TYPE_FLOAT or LK_TYPE_BOOL. Since 1.3. */
typedef struct lk_probe_decl {
    uint32_t struct_size;      /* sizeof(lk_probe_decl) as the plugin was compiled. Since 1.3. */
    const char *name;          /* metric name. Since 1.3. */
    int32_t type;              /* LK_TYPE_*. Since 1.3. */
    const char *doc;           /* one line. Since 1.3. */
    lk_fn get;                 /* the getter, signature above. Since 1.3. */
} lk_probe_decl;

/* ---- Options and probes declared once (C, since 1.3) ---------------------------------------
 *
 * List a plugin's options once, as an X-macro whose entries are
 *     X(struct type, field, type, "default", range, "doc")
 * `type` is one of int64, double, float, bool, string (the C types int64_t, double, float,
 * bool, and for string a char array field, into which the value is copied; a longer value is
 * refused with a message);
 * `range` is LK_ANY, LK_RANGE(lo, hi) (both ends included), LK_AT_LEAST(lo), LK_ABOVE(lo),
 * LK_ABOVE_UP_TO(lo, hi) (lo excluded), LK_FROM_BELOW(lo, hi) (hi excluded), LK_AT_MOST(hi) or,
 * for strings, LK_CHOICES("a|b|c"). Then
 *     MY_OPTIONS(LK_OPTION_SETTER)                                  writes one setter per option
 *     static const lk_option_decl options[] = { MY_OPTIONS(LK_OPTION_DECL) };   and the table
 * The setter stores the value into the field; the compiler refuses a field whose C type is not
 * the declared type, and the table names the setter the same declaration wrote, so the declared
 * type and the function that receives the value agree by construction. A plugin that must do
 * more when an option is set does it in `prepare`, which runs after every option is set.
 * Probes the same way: X(struct type, field, type, "doc") with LK_PROBE_GETTER / LK_PROBE_DECL,
 * for int64, double, float or bool fields. LK_PLUGIN_OPTIONS and LK_PLUGIN_PROBES (further below)
 * put the tables in the descriptor. */
#define LK_CTYPE_int64 int64_t
#define LK_CTYPE_double double
#define LK_CTYPE_float float
#define LK_CTYPE_bool bool
#define LK_CTYPE_string const char *
#define LK_TYPECODE_int64 LK_TYPE_INT64
#define LK_TYPECODE_double LK_TYPE_DOUBLE
#define LK_TYPECODE_float LK_TYPE_FLOAT
#define LK_TYPECODE_bool LK_TYPE_BOOL
#define LK_TYPECODE_string LK_TYPE_STRING
#define LK_FIELD_IS_(field, ctype) __builtin_types_compatible_p(__typeof__(field), ctype)
#define LK_STORE_int64(field, v) do { _Static_assert(LK_FIELD_IS_(field, int64_t), "option field is not int64_t"); (field) = (v); } while (0)
#define LK_STORE_double(field, v) do { _Static_assert(LK_FIELD_IS_(field, double), "option field is not double"); (field) = (v); } while (0)
#define LK_STORE_float(field, v) do { _Static_assert(LK_FIELD_IS_(field, float), "option field is not float"); (field) = (v); } while (0)
#define LK_STORE_bool(field, v) do { _Static_assert(LK_FIELD_IS_(field, bool), "option field is not bool"); (field) = (v); } while (0)
#define LK_STORE_string(field, v) do { _Static_assert(LK_FIELD_IS_(field, char[sizeof(field)]), "string option field is not a char array"); \
    const char *lk_v_ = (v) ? (v) : ""; \
    if (strlen(lk_v_) >= sizeof(field)) { lk_error_setf(err, "at most %zu bytes, got %zu", sizeof(field) - 1, strlen(lk_v_)); return LK_ERROR; } \
    memcpy((field), lk_v_, strlen(lk_v_) + 1); } while (0)

#define LK_ANY 0, 0.0, 0.0, NULL
#define LK_RANGE(lo, hi) LK_BOUND_MIN | LK_BOUND_MAX, (lo), (hi), NULL
#define LK_AT_LEAST(lo) LK_BOUND_MIN, (lo), 0.0, NULL
#define LK_ABOVE(lo) LK_BOUND_MIN | LK_BOUND_MIN_OPEN, (lo), 0.0, NULL
#define LK_AT_MOST(hi) LK_BOUND_MAX, 0.0, (hi), NULL
#define LK_ABOVE_UP_TO(lo, hi) LK_BOUND_MIN | LK_BOUND_MIN_OPEN | LK_BOUND_MAX, (lo), (hi), NULL
#define LK_FROM_BELOW(lo, hi) LK_BOUND_MIN | LK_BOUND_MAX | LK_BOUND_MAX_OPEN, (lo), (hi), NULL
#define LK_CHOICES(text) 0, 0.0, 0.0, (text)

#define LK_OPTION_SETTER(T, field, type, default_text, range, doc_text) \
    static lk_status lk_set_##T##_##field(void *self, int32_t index, LK_CTYPE_##type value, lk_error *err) { \
        (void)index; (void)err; LK_STORE_##type(((T *)self)->field, value); return LK_OK; }
#define LK_OPTION_DECL(T, field, type, default_text, range, doc_text) \
    { sizeof(lk_option_decl), #field, LK_TYPECODE_##type, default_text, doc_text, range, (lk_fn)lk_set_##T##_##field },

#define LK_PROBE_GETTER(T, field, type, doc_text) \
    static LK_CTYPE_##type lk_get_##T##_##field(void *self, int32_t index) { \
        (void)index; _Static_assert(LK_FIELD_IS_(((T *)0)->field, LK_CTYPE_##type), "probe field is not of its declared type"); \
        return ((T *)self)->field; }
#define LK_PROBE_DECL(T, field, type, doc_text) \
    { sizeof(lk_probe_decl), #field, LK_TYPECODE_##type, doc_text, (lk_fn)lk_get_##T##_##field },

/* custom_op callbacks. `inputs[i]` points at input i's values (shape `shapes[i]`), `output` at
 * the output's; all are host-owned and valid during the call. Forward writes every output
 * value. Backward *adds* each input's gradient into `grad_inputs[i]`, which is NULL for inputs
 * that need none. `user` is the pointer given to custom_op. Since 1.0. */
typedef lk_status (*lk_custom_forward)(void *user, int32_t n_inputs, const float *const *inputs,
                                       const lk_shape *shapes, float *output, lk_error *err);
typedef lk_status (*lk_custom_backward)(void *user, int32_t n_inputs, const float *const *inputs,
                                        const lk_shape *shapes, const float *output,
                                        const float *grad_output, float *const *grad_inputs,
                                        lk_error *err);

/* ---- The host API table -------------------------------------------------------------------- */

/* Functions the host offers. Owned by the host; valid while the plugin is loaded. The host
 * may be older than the header a plugin was compiled with: a function added after 1.0 (the
 * "Appended in 1.x" sections) may be called only after `LK_HOST_HAS(api, name)` says the host's
 * `struct_size` covers it. Graph functions return NULL on error (sticky, see the top). */
typedef struct lk_host_api {
    uint32_t struct_size; /* sizeof(lk_host_api) as the host was compiled. Since 1.0. */
    uint16_t abi_major;   /* the host's ABI major version. Since 1.0. */
    uint16_t abi_minor;   /* the host's ABI minor version: functions past 1.0 exist only when
                             abi_minor (and struct_size) cover them. Since 1.0. */

    /* -- Instance services (lk_context): see "What a plugin may call where" above. Since 1.0. -- */

    /* A trainable parameter "<instance>.<name>" of shape dims[rank] in optimiser `group`
     * ("default" for the run's main optimiser; any other name for a group of its own). */
    lk_param *(*param_create)(lk_context *ctx, const char *name, const char *group,
                              const int64_t *dims, int32_t rank, int32_t init, float arg);
    /* Like param_create, but excluded from weight decay (biases, batch-norm scales). */
    lk_param *(*param_create_no_decay)(lk_context *ctx, const char *name, const char *group,
                                       const int64_t *dims, int32_t rank, int32_t init, float arg);
    /* Sets the optimiser of one of this instance's parameter groups. */
    lk_status (*set_group_optimizer)(lk_context *ctx, const char *group,
                                     const lk_optimizer_settings *settings, lk_error *err);
    /* A state tensor "<instance>.<name>" filled with `fill`; checkpointed and restored. */
    lk_state *(*state_create)(lk_context *ctx, const char *name, const int64_t *dims, int32_t rank,
                              float fill);
    /* The state's values (host-owned, valid for the instance's life; the plugin may write). */
    float *(*state_data)(lk_state *state);
    /* The shape of an encoder tap as the host measured it before training; rank 0 if absent. */
    lk_shape (*tap_shape)(lk_context *ctx, const char *tap);
    /* Writes a log line, prefixed with the instance name. */
    void (*log_message)(lk_context *ctx, int32_t level, const char *message);
    /* Draws from the run's one seeded generator (reproducible with the run's seed). */
    uint64_t (*random_u64)(lk_context *ctx);
    void (*random_uniform)(lk_context *ctx, float *out, int64_t n, float low, float high);
    void (*random_normal)(lk_context *ctx, float *out, int64_t n, float mean, float std);
    /* Hands the host an image batch [n, c, h, w] to show in the run's report under `name`;
     * values between lo and hi map to black..white. The host copies the values. */
    lk_status (*report_image)(lk_context *ctx, const char *name, const float *data, int32_t n,
                              int32_t c, int32_t h, int32_t w, float lo, float hi);

    /* -- Graph: leaves and inspection. Since 1.0. -- */

    lk_node *(*param)(lk_graph *g, lk_param *p);   /* its value; the gradient trains it */
    lk_node *(*frozen)(lk_graph *g, lk_param *p);  /* its value as a constant: gradients reach the
                                                      other operands, never the parameter */
    lk_node *(*constant)(lk_graph *g, const float *data, const int64_t *dims, int32_t rank); /* copies data */
    lk_node *(*state)(lk_graph *g, lk_state *s);   /* a state tensor as a constant (no copy) */
    lk_node *(*detach)(lk_graph *g, lk_node *x);   /* same value, gradient stopped */
    lk_shape (*shape)(lk_node *x);                 /* rank 0 for NULL */
    const float *(*data)(lk_node *x);              /* forward values; valid for the step */
    int32_t (*is_training)(lk_graph *g);           /* 1 in training (batch statistics, dropout) */
    void (*fail)(lk_graph *g, const char *message); /* records a plugin error on the graph */

    /* -- Graph: arithmetic (NumPy broadcasting). Since 1.0. -- */
    lk_node *(*add)(lk_graph *g, lk_node *a, lk_node *b);
    lk_node *(*sub)(lk_graph *g, lk_node *a, lk_node *b);
    lk_node *(*mul)(lk_graph *g, lk_node *a, lk_node *b);
    lk_node *(*div)(lk_graph *g, lk_node *a, lk_node *b);
    lk_node *(*scale)(lk_graph *g, lk_node *x, float s);
    lk_node *(*add_scalar)(lk_graph *g, lk_node *x, float c);

    /* -- Graph: point-wise functions. Since 1.0. -- */
    lk_node *(*relu)(lk_graph *g, lk_node *x);
    lk_node *(*leaky_relu)(lk_graph *g, lk_node *x, float slope);
    lk_node *(*tanh)(lk_graph *g, lk_node *x);
    lk_node *(*sigmoid)(lk_graph *g, lk_node *x);
    lk_node *(*softplus)(lk_graph *g, lk_node *x);
    /* exp, log, sqrt and tanh share names with <math.h>: do not include <tgmath.h>, whose
     * macros would rewrite `api->exp(...)`. */
    lk_node *(*exp)(lk_graph *g, lk_node *x);
    lk_node *(*log)(lk_graph *g, lk_node *x);
    lk_node *(*sqrt)(lk_graph *g, lk_node *x);
    lk_node *(*square)(lk_graph *g, lk_node *x);

    /* -- Graph: layers. Since 1.0. -- */
    /* x [N, in] · wᵀ (w [out, in]) + b [out]; b may be NULL. */
    lk_node *(*linear)(lk_graph *g, lk_node *x, lk_node *w, lk_node *b);
    /* op(a)·op(b) for 2-D a, b; ta/tb = 1 transposes. */
    lk_node *(*matmul)(lk_graph *g, lk_node *a, lk_node *b, int32_t ta, int32_t tb);
    /* per-batch op(a_i)·op(b_i) for a [n, m, k], b [n, k, p]. */
    lk_node *(*batched_matmul)(lk_graph *g, lk_node *a, lk_node *b, int32_t ta, int32_t tb);
    /* x [B, C, H, W], w [O, C, kh, kw], b [O] or NULL. */
    lk_node *(*conv2d)(lk_graph *g, lk_node *x, lk_node *w, lk_node *b, int32_t stride, int32_t padding);
    /* k×k max-pool, stride s; the output carries its switches (argmax positions). */
    lk_node *(*max_pool)(lk_graph *g, lk_node *x, int32_t k, int32_t s);
    /* places x (shaped like `pooled`) at `pooled`'s switches, zeros elsewhere. */
    lk_node *(*max_unpool)(lk_graph *g, lk_node *x, lk_node *pooled);
    lk_node *(*avg_pool)(lk_graph *g, lk_node *x, int32_t k, int32_t s);
    lk_node *(*global_avg_pool)(lk_graph *g, lk_node *x);            /* [B, C, H, W] → [B, C] */
    lk_node *(*upsample_nearest)(lk_graph *g, lk_node *x, int32_t factor);
    /* batch norm over axis 1 of [B, C] or [B, C, H, W]; running statistics in the two states
     * (each [C]; NULL for none: batch statistics always). */
    lk_node *(*batch_norm)(lk_graph *g, lk_node *x, lk_node *gamma, lk_node *beta,
                           lk_state *running_mean, lk_state *running_var, float momentum, float eps);
    lk_node *(*dropout)(lk_graph *g, lk_node *x, float p);

    /* -- Graph: rows of [N, K]. Since 1.0. -- */
    lk_node *(*log_softmax)(lk_graph *g, lk_node *x);
    lk_node *(*logsumexp)(lk_graph *g, lk_node *x);                   /* → [N] */
    /* mean cross-entropy over rows with mask[i] != 0 (mask NULL: all rows); labels [N]. */
    lk_node *(*cross_entropy)(lk_graph *g, lk_node *logits, const int32_t *labels, const uint8_t *mask);
    lk_node *(*l2_normalize)(lk_graph *g, lk_node *x);

    /* -- Graph: reductions and structure. Since 1.0. -- */
    /* over `axes[n_axes]` (all axes when axes is NULL); keep_dims = 1 keeps them as size 1 */
    lk_node *(*sum)(lk_graph *g, lk_node *x, const int32_t *axes, int32_t n_axes, int32_t keep_dims);
    lk_node *(*mean)(lk_graph *g, lk_node *x, const int32_t *axes, int32_t n_axes, int32_t keep_dims);
    lk_node *(*reshape)(lk_graph *g, lk_node *x, const int64_t *dims, int32_t rank); /* one dim may be -1 */
    lk_node *(*slice)(lk_graph *g, lk_node *x, int32_t axis, int64_t start, int64_t end);
    lk_node *(*concat)(lk_graph *g, lk_node *const *xs, int32_t n, int32_t axis);
    lk_node *(*permute)(lk_graph *g, lk_node *x, const int32_t *order, int32_t rank);
    lk_node *(*gather_rows)(lk_graph *g, lk_node *x, const int64_t *indices, int64_t n);
    lk_node *(*scatter_rows)(lk_graph *g, lk_node *x, const int64_t *indices, int64_t n, int64_t rows);
    /* warps x [B, C, H, W] by theta [B·6] (row-major 2×3 per image, output → input in
     * normalised coordinates), bilinear, `fill` outside. Gradient flows to x only. */
    lk_node *(*affine_warp)(lk_graph *g, lk_node *x, const float *theta, float fill);
    /* An op the table lacks: output shape `out_dims[out_rank]`, values from `forward`, input
     * gradients from `backward` (may be NULL: no gradient flows). `user` is passed back. */
    lk_node *(*custom_op)(lk_graph *g, lk_node *const *inputs, int32_t n_inputs, const int64_t *out_dims,
                          int32_t out_rank, lk_custom_forward forward, lk_custom_backward backward,
                          void *user);

    /* -- Taps and the encoder. Since 1.0. -- */
    lk_node *(*tap)(lk_taps *taps, const char *name);   /* NULL (sticky error) if absent */
    int32_t (*tap_count)(lk_taps *taps);
    const char *(*tap_name)(lk_taps *taps, int32_t i);  /* owned by the taps */
    /* Encoders: publishes `node` as tap `name` (copied name). */
    lk_status (*emit_tap)(lk_taps *taps, const char *name, lk_node *node);
    /* Objectives: runs the run's encoder (and head) again on `images` [B, C, H, W] with the
     * same weights; frozen = 1 reads every encoder and head parameter frozen. In training its
     * batch-norm layers use the new batch's statistics and leave the running statistics as they
     * were, so generated or warped images never shift what evaluation uses. The same function
     * as `encode_again` (appended in 1.3), whose name does not read like lk_plugin's `encode`. */
    lk_taps *(*encode)(lk_graph *g, lk_node *images, int32_t frozen);

    /* -- Appended in 1.1: check LK_HOST_HAS(api, name) first; a 1.0 host's table ends above. -- */
    /* max(batch_norm(x, ...), 0) as one op, arguments as batch_norm's: the same values and
     * gradients as batch_norm followed by relu, with one pass fewer over the activations each
     * way (the ReLU is applied as batch-norm writes its output, and its mask inside batch-norm's
     * backward). Since 1.1. */
    lk_node *(*batch_norm_relu)(lk_graph *g, lk_node *x, lk_node *gamma, lk_node *beta,
                                lk_state *running_mean, lk_state *running_var, float momentum, float eps);

    /* -- Appended in 1.2: check LK_HOST_HAS(api, name) first; a 1.1 host's table ends above. -- */
    /* mean((a - b)^2) over every element of a and b, which must have one shape: a scalar node,
     * owned by the graph like every node. The same value and gradients, bit for bit, as
     * mean(square(sub(a, b))), in one pass over a and b each way instead of three, with no
     * intermediate tensors (a reconstruction loss). Since 1.2. */
    lk_node *(*mean_squared_error)(lk_graph *g, lk_node *a, lk_node *b);

    /* -- Appended in 1.3: check LK_HOST_HAS(api, name) first; a 1.2 host's table ends above. -- */
    /* `encode` under a name that says what it does: run the encoder again (see there). Since 1.3. */
    lk_taps *(*encode_again)(lk_graph *g, lk_node *images, int32_t frozen);
    /* warps x [B, C, H, W] by one homography per image: h [B·9], row-major 3×3, output → input
     * in the normalised coordinates of affine_warp; output point p reads the input at (u/w, v/w),
     * [u, v, w] = h·[p, 1], bilinear, `fill` outside or where w ≤ 0. A last row [0, 0, 1] is
     * affine_warp exactly. Gradient flows to x only. Since 1.3. */
    lk_node *(*homography_warp)(lk_graph *g, lk_node *x, const float *h, float fill);

    /* -- Appended in 1.4: check LK_HOST_HAS(api, name) first; a 1.3 host's table ends above. --
     * Data-parallel runs: see "Data-parallel runs" at the top. */
    /* This process's rank, 0..world_size-1 (0 in a run of one process). Since 1.4. */
    int32_t (*rank)(lk_context *ctx);
    /* The number of ranks training this model (1 in a run of one process). Since 1.4. */
    int32_t (*world_size)(lk_context *ctx);
    /* data[n] summed element-wise over every rank, in place (a normaliser, a count). Every rank
     * must call it at the same point with the same n. LK_ERROR with `err` filled if the
     * communication failed. Since 1.4. */
    lk_status (*all_reduce_sum)(lk_context *ctx, float *data, int64_t n, lk_error *err);
    /* Each rank's `bytes` bytes of `data`, concatenated in rank order into `out`, which holds
     * world_size × bytes (each rank's updated bank rows). Every rank must call it at the same
     * point with the same `bytes`. Since 1.4. */
    lk_status (*all_gather)(lk_context *ctx, const void *data, int64_t bytes, void *out, lk_error *err);
} lk_host_api;

/* Whether host table `api` carries function `fn`, one appended after 1.0: its struct_size
 * covers the field and the field is set. An older host's table is smaller, and reading past
 * its struct_size reads memory that is not the table. Since 1.1. */
#define LK_HOST_HAS(api, fn) \
    ((api)->struct_size >= offsetof(lk_host_api, fn) + sizeof((api)->fn) && (api)->fn != NULL)

/* ---- The plugin descriptor ----------------------------------------------------------------- */

/* One plugin. Static, owned by the plugin library, valid while it is loaded. Since 1.0. */
typedef struct lk_plugin {
    uint32_t struct_size;     /* sizeof(lk_plugin) as the plugin was compiled. Since 1.0. */
    uint16_t abi_major;       /* LOSSKIT_ABI_MAJOR the plugin was compiled with. Since 1.0. */
    uint16_t abi_minor;       /* LOSSKIT_ABI_MINOR the plugin was compiled with. Since 1.0. */
    int32_t kind;             /* LK_KIND_OBJECTIVE or LK_KIND_ENCODER. Since 1.0. */
    const char *name;         /* unique; letters, digits, '-' and '_' ("nce", "convnet-s"). Since 1.0. */
    const char *version;      /* the plugin's own version, e.g. "1.2.0". Since 1.0. */
    const char *summary;      /* one line for `losskit plugins`. Since 1.0. */
    /* Objectives: NULL-terminated list of the taps read ("features", "logits", "pool*", ...);
     * the host checks the encoder offers them. Encoders: NULL. Since 1.0. */
    const char *const *taps_read;
    /* Objectives: the tap that `name@tap` in a loss expression replaces; NULL if none. Since 1.0. */
    const char *default_tap;
    const lk_option_desc *options; /* option_count entries, static; a 1.3 plugin declares
                                      option_decls instead. Since 1.0. */
    int32_t option_count;          /* entries in `options` (0: none). Since 1.0. */
    const lk_probe_desc *probes;   /* probe_count entries, static; a 1.3 plugin declares
                                      probe_decls instead. Since 1.0. */
    int32_t probe_count;           /* entries in `probes` (0: none). Since 1.0. */

    /* Makes an instance with default settings; NULL with `err` filled on failure. Since 1.0. */
    void *(*create)(const lk_host_api *api, lk_context *ctx, lk_error *err);
    /* After the options are set: create parameters and state from the setup. May be NULL
     * (nothing to prepare) since 1.3. Since 1.0. */
    lk_status (*prepare)(void *self, lk_context *ctx, const lk_setup *setup, lk_error *err);
    /* Objectives: the scalar loss node for this batch (NULL on failure: see the graph's error).
     * The host multiplies it by the term's weight. Encoders: NULL. Since 1.0. */
    lk_node *(*loss)(void *self, lk_graph *g, const lk_batch *batch, lk_taps *taps);
    /* Encoders: builds the forward pass of `images` and emits its taps, which must include
     * "features" [B, D]. Objectives: NULL. A 1.3 encoder may set `encode_images` (appended)
     * instead, the same function under a name that does not read like lk_host_api's. Since 1.0. */
    lk_status (*encode)(void *self, lk_graph *g, lk_node *images, lk_taps *out, lk_error *err);
    /* After each optimiser step (may be NULL): e.g. NCE's memory-bank update. Since 1.0. */
    void (*after_step)(void *self, lk_context *ctx, const lk_step_info *info);
    /* Frees the instance. Since 1.0. */
    void (*destroy)(void *self);

    /* -- Appended in 1.3: read when struct_size covers them. -- */
    /* Objectives: NULL-terminated patterns, each also in `taps_read`, of taps read for their
     * values or switches only (SWWAE's "pool*"), through which no gradient is meant to flow;
     * `losskit plugins check` requires every other declared tap to receive a gradient. NULL:
     * none. Since 1.3. */
    const char *const *taps_read_without_gradient;
    /* The options declared once (lk_option_decl), static; a plugin lists its options here or in
     * `options`, not in both. Since 1.3. */
    const lk_option_decl *option_decls;
    int32_t option_decl_count;     /* entries in `option_decls` (0: none). Since 1.3. */
    /* The probes declared once (lk_probe_decl), static; here or in `probes`, not both. Since 1.3. */
    const lk_probe_decl *probe_decls;
    int32_t probe_decl_count;      /* entries in `probe_decls` (0: none). Since 1.3. */
    /* Encoders: `encode` by its 1.3 name; the host calls this one when it is set. Since 1.3. */
    lk_status (*encode_images)(void *self, lk_graph *g, lk_node *images, lk_taps *out, lk_error *err);
} lk_plugin;

/* What the entry returns. Static, owned by the library. Since 1.0. */
typedef struct lk_plugin_list {
    uint32_t struct_size;     /* sizeof(lk_plugin_list). Since 1.0. */
    uint16_t abi_major;       /* must equal the host's major. Since 1.0. */
    uint16_t abi_minor;       /* the minor the library was compiled with. Since 1.0. */
    int32_t count;            /* entries in `plugins`. Since 1.0. */
    const lk_plugin *const *plugins; /* `count` static descriptors. Since 1.0. */
} lk_plugin_list;

/* The one exported symbol. The host passes its ABI version; a plugin that cannot serve that
 * host returns NULL. Since 1.0. */
#define LOSSKIT_ENTRY_SYMBOL "losskit_plugin_entry"
typedef const lk_plugin_list *(*lk_entry_fn)(uint16_t host_major, uint16_t host_minor);
LK_EXPORT const lk_plugin_list *losskit_plugin_entry(uint16_t host_major, uint16_t host_minor);

/* The smallest struct sizes the host accepts: the layout of ABI 1.0. */
#define LK_PLUGIN_MIN_SIZE (offsetof(lk_plugin, destroy) + sizeof(void (*)(void *)))
#define LK_PLUGIN_LIST_MIN_SIZE sizeof(lk_plugin_list)
#define LK_OPTION_MIN_SIZE sizeof(lk_option_desc)
#define LK_PROBE_MIN_SIZE sizeof(lk_probe_desc)
#define LK_OPTION_DECL_MIN_SIZE (offsetof(lk_option_decl, set) + sizeof(lk_fn))
#define LK_PROBE_DECL_MIN_SIZE (offsetof(lk_probe_decl, get) + sizeof(lk_fn))

/* ---- Descriptor helpers (C, since 1.3) -----------------------------------------------------
 * LK_PLUGIN_HEADER(kind, "name", "version", "summary") fills the fixed head of an lk_plugin
 * initialiser; LK_PLUGIN_OPTIONS(array) and LK_PLUGIN_PROBES(array) point it at static tables
 * and count them; LK_PLUGIN_ENTRY(&a, &b, ...) writes the library's exported entry. The entry
 * serves hosts of this major whose minor is at least 3, which read option_decls and probe_decls. */
#define LK_PLUGIN_HEADER(kind_, name_, version_, summary_) \
    .struct_size = sizeof(lk_plugin), .abi_major = LOSSKIT_ABI_MAJOR, .abi_minor = LOSSKIT_ABI_MINOR, \
    .kind = (kind_), .name = (name_), .version = (version_), .summary = (summary_)
#define LK_PLUGIN_OPTIONS(array) .option_decls = (array), .option_decl_count = (int32_t)(sizeof(array) / sizeof((array)[0]))
#define LK_PLUGIN_PROBES(array) .probe_decls = (array), .probe_decl_count = (int32_t)(sizeof(array) / sizeof((array)[0]))
#define LK_PLUGIN_ENTRY(...) \
    static const lk_plugin *const lk_entry_plugins_[] = { __VA_ARGS__ }; \
    static const lk_plugin_list lk_entry_list_ = { sizeof(lk_plugin_list), LOSSKIT_ABI_MAJOR, LOSSKIT_ABI_MINOR, \
        (int32_t)(sizeof(lk_entry_plugins_) / sizeof(lk_entry_plugins_[0])), lk_entry_plugins_ }; \
    LK_EXPORT const lk_plugin_list *losskit_plugin_entry(uint16_t host_major, uint16_t host_minor) { \
        return host_major == LOSSKIT_ABI_MAJOR && host_minor >= 3 ? &lk_entry_list_ : NULL; }

#ifdef __cplusplus
}
#endif
#endif /* LOSSKIT_H */

/* The part the C test fixtures share, so each file shows only what it exercises. Fixtures whose
 * point is the descriptor or the entry itself (wrong_major.c, newer_minor.c, small_struct.c,
 * null_entry.c, ...) spell those out by hand instead. */
#ifndef LOSSKIT_TEST_FIXTURE_H
#define LOSSKIT_TEST_FIXTURE_H

#include "losskit.h"
#include <stdlib.h>

/* `create` for a fixture whose object is `type`, a struct whose field `api` keeps the host
 * table: zeroed, with api set. */
#define FIXTURE_CREATE(type) \
    static void *create(const lk_host_api *api, lk_context *ctx, lk_error *err) { \
        (void)ctx; \
        type *self = calloc(1, sizeof *self); \
        if (!self) { lk_error_set(err, "out of memory"); return NULL; } \
        self->api = api; \
        return self; \
    }

/* A `prepare` that needs nothing from the setup. */
static inline lk_status fixture_prepare_nothing(void *self, lk_context *ctx, const lk_setup *s, lk_error *err) {
    (void)self; (void)ctx; (void)s; (void)err;
    return LK_OK;
}

/* `destroy` for an object from calloc. */
static inline void fixture_destroy(void *self) { free(self); }

#endif

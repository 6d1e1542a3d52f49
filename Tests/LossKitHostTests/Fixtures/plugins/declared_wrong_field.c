/* Must not compile: the option is declared double, the field is int64_t. */
#include "losskit.h"
typedef struct { int64_t scale; } wrong;
#define OPTIONS(X) X(wrong, scale, double, "1.0", LK_ANY, "declared double, stored in an int64_t")
OPTIONS(LK_OPTION_SETTER)
static const lk_option_decl options[] = { OPTIONS(LK_OPTION_DECL) };

/* SwiftPM needs one source file in a C target. Compiling the header here also checks, on every
 * build, that losskit.h is valid C on its own (plugins include nothing else). */
#include "losskit.h"

_Static_assert(sizeof(lk_error) == 512, "lk_error is a fixed 512-byte buffer");
_Static_assert(LOSSKIT_ABI_MAJOR == 1, "this file pins the 1.x layout");

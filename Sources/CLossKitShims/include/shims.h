/* C shims for what Swift 6 cannot reach directly: libffi's global type descriptors (C global
 * variables are rejected in Swift 6 mode) and the default ABI constant. */
#pragma once
#include <ffi.h>

ffi_type *lk_ffi_type_sint32(void);
ffi_type *lk_ffi_type_sint64(void);
ffi_type *lk_ffi_type_uint8(void);
ffi_type *lk_ffi_type_float(void);
ffi_type *lk_ffi_type_double(void);
ffi_type *lk_ffi_type_pointer(void);
ffi_type *lk_ffi_type_void(void);

/* ffi_prep_cif with the platform's default calling convention. */
ffi_status lk_ffi_prep_cif(ffi_cif *cif, unsigned int nargs, ffi_type *rtype, ffi_type **atypes);
#include "png_shims.h"
#include "crash_note.h"

#include "shims.h"

ffi_type *lk_ffi_type_sint32(void) { return &ffi_type_sint32; }
ffi_type *lk_ffi_type_sint64(void) { return &ffi_type_sint64; }
ffi_type *lk_ffi_type_uint8(void) { return &ffi_type_uint8; }
ffi_type *lk_ffi_type_float(void) { return &ffi_type_float; }
ffi_type *lk_ffi_type_double(void) { return &ffi_type_double; }
ffi_type *lk_ffi_type_pointer(void) { return &ffi_type_pointer; }
ffi_type *lk_ffi_type_void(void) { return &ffi_type_void; }

ffi_status lk_ffi_prep_cif(ffi_cif *cif, unsigned int nargs, ffi_type *rtype, ffi_type **atypes) {
    return ffi_prep_cif(cif, FFI_DEFAULT_ABI, nargs, rtype, atypes);
}

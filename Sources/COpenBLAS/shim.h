#include <cblas.h>

/* OpenBLAS exports these but declares them in no public header (0.3.x, pthread builds): they
   re-read the OPENBLAS_* environment and restart the thread server, so a setting such as
   OPENBLAS_THREAD_TIMEOUT can be applied after the library has been loaded. */
void openblas_read_env(void);
int blas_thread_init(void);
int blas_thread_shutdown_(void);
unsigned int openblas_thread_timeout(void);

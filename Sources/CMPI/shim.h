/* Open MPI's C interface (Debian's libopenmpi-dev; pkg-config ompi-c gives the include path).
 * Swift does not import MPI_COMM_WORLD and the other predefined handles (they are macros over
 * casts), so LossKit calls MPI through CLossKitMPI's small C layer, never directly. */
#include <mpi.h>

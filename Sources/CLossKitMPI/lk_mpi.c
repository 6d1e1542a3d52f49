/* See lk_mpi.h. Messages longer than INT_MAX elements are sent in pieces, since MPI counts are
 * ints: a 60 000 × 128 bank is far below that, but a caller should not need to know. */
#include "lk_mpi.h"
#include <limits.h>
#include <string.h>
#include <stdlib.h>
#include <mpi.h>

enum { PIECE = INT_MAX / 8 };

static int broadcast(void *data, int64_t bytes, int root);


int lk_mpi_init(int *rank, int *size) {
    int provided = 0;
    /* one thread calls MPI (the trainer's); the worker pool never does */
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return rc;
    /* errors return codes to LossKit, which names what failed and aborts the job */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    rc = MPI_Comm_rank(MPI_COMM_WORLD, rank);
    if (rc != MPI_SUCCESS) return rc;
    return MPI_Comm_size(MPI_COMM_WORLD, size);
}

int lk_mpi_is_initialized(void) {
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    return initialized && !finalized;
}

static int reduce(void *data, int64_t n, MPI_Datatype type, size_t width) {
    char *p = data;
    while (n > 0) {
        int count = n > PIECE ? PIECE : (int)n;
        int rc = MPI_Allreduce(MPI_IN_PLACE, p, count, type, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return rc;
        p += (size_t)count * width;
        n -= count;
    }
    return MPI_SUCCESS;
}

int lk_mpi_all_reduce_sum_float(float *data, int64_t n) { return reduce(data, n, MPI_FLOAT, sizeof(float)); }
int lk_mpi_all_reduce_sum_double(double *data, int64_t n) { return reduce(data, n, MPI_DOUBLE, sizeof(double)); }

int lk_mpi_all_gather(const void *data, int64_t bytes, void *out) {
    if (bytes <= PIECE) {
        return MPI_Allgather(data, (int)bytes, MPI_BYTE, out, (int)bytes, MPI_BYTE, MPI_COMM_WORLD);
    }
    /* past an int count: each rank's block is broadcast from its own rank, in pieces */
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    memmove((char *)out + (size_t)rank * (size_t)bytes, data, (size_t)bytes);
    for (int r = 0; r < size; r++) {
        int rc = broadcast((char *)out + (size_t)r * (size_t)bytes, bytes, r);
        if (rc != MPI_SUCCESS) return rc;
    }
    return MPI_SUCCESS;
}

/* Rank `root`'s `bytes` bytes copied to every rank, in pieces. */
static int broadcast(void *data, int64_t bytes, int root) {
    char *p = data;
    while (bytes > 0) {
        int count = bytes > PIECE ? PIECE : (int)bytes;
        int rc = MPI_Bcast(p, count, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return rc;
        p += count;
        bytes -= count;
    }
    return MPI_SUCCESS;
}

void lk_mpi_abort(int code) {
    MPI_Abort(MPI_COMM_WORLD, code);
    _Exit(code);
}

int lk_mpi_finalize(void) { return MPI_Finalize(); }

void lk_mpi_error_text(int code, char *out, int size) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS || length < 0) length = 0;
    text[length < MPI_MAX_ERROR_STRING ? length : MPI_MAX_ERROR_STRING - 1] = 0;
    strncpy(out, text, (size_t)size - 1);
    out[size - 1] = 0;
}

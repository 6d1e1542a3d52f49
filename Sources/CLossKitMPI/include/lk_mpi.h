/* The few MPI calls LossKit's data-parallel training makes, over MPI_COMM_WORLD, as plain C
 * functions Swift can call (MPI's predefined handles are macros Swift does not import).
 * Every function returns MPI_SUCCESS (0) or MPI's error code; lk_mpi_error_text describes one.
 * lk_mpi_init sets MPI_ERRORS_RETURN on MPI_COMM_WORLD, so a failed collective comes back as a
 * code: LossKit names what failed and which rank, then ends the whole job (lk_mpi_abort), so a
 * broken link never leaves the other ranks waiting. */
#ifndef LK_MPI_H
#define LK_MPI_H
#include <stddef.h>
#include <stdint.h>

/* MPI_Init; *rank and *size of MPI_COMM_WORLD. Call once, only in a process mpirun started. */
int lk_mpi_init(int *rank, int *size);
/* Whether MPI_Init has run (and MPI_Finalize has not). */
int lk_mpi_is_initialized(void);
/* Element-wise sum over every rank, in place: n floats / doubles. */
int lk_mpi_all_reduce_sum_float(float *data, int64_t n);
int lk_mpi_all_reduce_sum_double(double *data, int64_t n);
/* Each rank's `bytes` bytes, concatenated in rank order into `out` (size × bytes). */
int lk_mpi_all_gather(const void *data, int64_t bytes, void *out);
/* Ends every rank of the job with `code` (MPI_Abort): for an error one rank met alone, which
 * would otherwise leave the others waiting in a collective. Does not return. */
void lk_mpi_abort(int code);
int lk_mpi_finalize(void);
/* MPI's text for an error code, into out (at most size bytes, NUL-terminated). */
void lk_mpi_error_text(int code, char *out, int size);
#endif

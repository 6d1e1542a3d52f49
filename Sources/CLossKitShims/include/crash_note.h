/* The one line losskit prints when the process dies of a fault during training. */
#pragma once

/* Installs the fault handlers (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) once. */
void lk_crash_note_install(void);

/* The note printed if a fault comes next (copied; NULL or "" prints nothing). */
void lk_crash_note_set(const char *text);

/* The note printed if SIGTERM ends the process next (mpirun ending a data-parallel job because
 * another rank failed); the first call installs the handler, which then ends the process by
 * SIGTERM as before. Copied; NULL or "" prints nothing. */
void lk_termination_note_set(const char *text);

/* The one line losskit prints when the process dies of a fault during training. */
#pragma once

/* Installs the fault handlers (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) once. */
void lk_crash_note_install(void);

/* The note printed if a fault comes next (copied; NULL or "" prints nothing). */
void lk_crash_note_set(const char *text);

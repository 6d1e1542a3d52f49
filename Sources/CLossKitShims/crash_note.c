/* The line losskit leaves when the process dies of a fault (a plugin's SIGSEGV, an abort).
 *
 * A signal handler may only call async-signal-safe functions, so the text is prepared ahead,
 * by the trainer (`lk_crash_note_set` before each plugin call), and the handler just writes it
 * to stderr and puts back the handler that was there before (the Swift runtime's backtracer, or
 * the default). A fault the CPU raised (a bad pointer) is then simply returned to: the faulting
 * instruction runs again and faults again into that handler, which so sees the real fault
 * address; a signal that was sent (abort, kill) is sent again. Either way the process still
 * ends by that signal. */
#include "crash_note.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>

enum { NOTE_SIZE = 2048 };
static const int signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
enum { SIGNAL_COUNT = sizeof signals / sizeof signals[0] };
static struct sigaction previous[SIGNAL_COUNT];
/* two buffers, and the index of the one to print: a note is written whole into the other one
   before it is published, so a fault during an update prints a complete note */
static char notes[2][NOTE_SIZE];
static volatile sig_atomic_t current = 0;

/* The note on a line of its own (write(2) only: async-signal-safe). */
static void write_note(const char *note) {
    size_t length = strlen(note);
    if (length > 0) {
        (void)!write(STDERR_FILENO, "\n", 1);
        (void)!write(STDERR_FILENO, note, length);
        (void)!write(STDERR_FILENO, "\n", 1);
    }
}

static void on_fault(int sig, siginfo_t *info, void *context) {
    (void)context;
    write_note(notes[current]);
    for (int i = 0; i < SIGNAL_COUNT; i++) {
        if (signals[i] == sig) sigaction(sig, &previous[i], NULL);
    }
    /* si_code > 0: raised by the CPU for this instruction; <= 0: sent by a process */
    if (info == NULL || info->si_code <= 0 || sig == SIGABRT) raise(sig);
}

void lk_crash_note_install(void) {
    static int installed = 0;
    if (installed) return;
    installed = 1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < SIGNAL_COUNT; i++) sigaction(signals[i], &action, &previous[i]);
}

/* Writes `text` whole into the buffer not shown, then shows it. */
static void publish(char buffers[2][NOTE_SIZE], volatile sig_atomic_t *shown, const char *text) {
    int next = 1 - *shown;
    if (text) {
        strncpy(buffers[next], text, NOTE_SIZE - 1);
        buffers[next][NOTE_SIZE - 1] = 0;
    } else {
        buffers[next][0] = 0;
    }
    *shown = next;
}

void lk_crash_note_set(const char *text) { publish(notes, &current, text); }

/* The line a data-parallel run's rank 0 leaves when mpirun ends it (SIGTERM) because another
 * rank failed: where the last intact checkpoint is. Prepared by the trainer after each
 * checkpoint (`lk_termination_note_set`), written by the handler, which then ends the process
 * by the same signal with the default action. */
static char termination_notes[2][NOTE_SIZE];
static volatile sig_atomic_t termination_current = 0;

static void on_termination(int sig) {
    write_note(termination_notes[termination_current]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void lk_termination_note_set(const char *text) {
    static int installed = 0;
    publish(termination_notes, &termination_current, text);
    if (!installed) {
        installed = 1;
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = on_termination;
        sigemptyset(&action.sa_mask);
        sigaction(SIGTERM, &action, NULL);
    }
}

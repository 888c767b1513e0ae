#include "csignals.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t received = 0;

static void record(int number) { received = number; }

int csignals_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = record;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    int signals[] = {SIGTERM, SIGINT, SIGUSR1};
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        if (sigaction(signals[i], &action, 0) != 0) return -1;
    }
    return 0;
}

int csignals_received(void) { return received; }

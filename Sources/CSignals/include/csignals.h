// Stop requests from signals, for graceful checkpoint-and-exit.
//
// A signal handler may only touch a `volatile sig_atomic_t`; Swift cannot declare one, and a
// Swift closure cannot be an async-signal-safe handler. So the handler lives here: it records
// the signal number and does nothing else. The run loop polls it at step boundaries.
#ifndef CSIGNALS_H
#define CSIGNALS_H

/// Installs the handler for SIGTERM, SIGINT and SIGUSR1. Returns 0, or -1 if sigaction failed.
int csignals_install(void);

/// The last stop signal received (0 if none).
int csignals_received(void);

#endif

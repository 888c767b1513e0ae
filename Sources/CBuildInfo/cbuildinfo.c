// C, because a C macro can carry a string from the package manifest into the build and a
// Swift compilation condition cannot.
#include "cbuildinfo.h"

#ifndef TESSERA_COMMIT
#define TESSERA_COMMIT "unknown"
#endif

const char *tessera_build_commit(void) { return TESSERA_COMMIT; }

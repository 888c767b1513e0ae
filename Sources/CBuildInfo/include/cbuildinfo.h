#ifndef CBUILDINFO_H
#define CBUILDINFO_H

/// The commit this build is of (12 hex digits, ".dirty" when the work tree had changes), as
/// Package.swift found it at build time; "unknown" outside a git checkout or a source tarball.
const char *tessera_build_commit(void);

#endif

-- Lmod modulefile for Tessera 0.1.0.
-- scripts/install.sh writes a copy with the real prefix and the MPI and HDF5 modules Tessera
-- was built with into the site's module tree; as kept here it describes a build in
-- /opt/tessera/0.1.0 against Debian's packages, which need no module.
help([[
Tessera 0.1.0: domain-decomposed structured-grid simulations over MPI, writing results in
The Well's HDF5 layout and checkpoints that restart on any rank count.

  tessera --help                       commands and options
  tessera plan CONFIG --ranks N        size a job before submitting it
  $TESSERA_HOME/jobs/                  batch scripts for Slurm, PBS, LSF and Flux
  $TESSERA_HOME/README.md              the manual
]])
whatis("Name: tessera")
whatis("Version: 0.1.0")
whatis("Category: simulation, AI for science")
whatis("Description: structured-grid simulation engine over MPI and parallel HDF5")

local root = "/opt/tessera/0.1.0"
-- The MPI and HDF5 modules Tessera was built with ("" when they came from the system).
local mpi = ""
local hdf5 = ""

if mpi ~= "" then depends_on(mpi) end
if hdf5 ~= "" then depends_on(hdf5) end
setenv("TESSERA_HOME", root)
prepend_path("PATH", pathJoin(root, "bin"))
-- The man page, and the completions where bash-completion and fish (XDG_DATA_DIRS) and zsh
-- (FPATH, for shells started after the load) look for them.
prepend_path("MANPATH", pathJoin(root, "share/man"))
prepend_path("XDG_DATA_DIRS", pathJoin(root, "share"))
prepend_path("FPATH", pathJoin(root, "share/zsh/site-functions"))

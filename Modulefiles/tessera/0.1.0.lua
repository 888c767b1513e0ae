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
-- The compiler, MPI and HDF5 modules Tessera was built with ("" when they came from the
-- system, or when this file sits in a module hierarchy at the level that already has them),
-- loaded in that order: in a hierarchy each one's level is visible only once the one above
-- it is loaded.
local compiler = ""
local mpi = ""
local hdf5 = ""

for _, requirement in ipairs({compiler, mpi, hdf5}) do
    if requirement ~= "" then depends_on(requirement) end
end
setenv("TESSERA_HOME", root)
prepend_path("PATH", pathJoin(root, "bin"))
-- The man page, and the completions where bash-completion and fish (XDG_DATA_DIRS) and zsh
-- (FPATH, for shells started after the load) look for them.
prepend_path("MANPATH", pathJoin(root, "share/man"))
prepend_path("XDG_DATA_DIRS", pathJoin(root, "share"))
prepend_path("FPATH", pathJoin(root, "share/zsh/site-functions"))

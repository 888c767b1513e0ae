help([[
Tessera 0.1.0: domain-decomposed structured-grid simulations over MPI, with results in
The Well's HDF5 layout. Run `tessera --help`, or see $TESSERA_HOME/README.md.
]])
whatis("Name: tessera")
whatis("Version: 0.1.0")
whatis("Description: structured-grid simulation engine over MPI and parallel HDF5")

local root = "/opt/tessera/0.1.0"
setenv("TESSERA_HOME", root)
prepend_path("PATH", pathJoin(root, "bin"))

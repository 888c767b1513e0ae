// swift-tools-version:6.0
//
// Tessera: a domain-decomposed structured-grid simulation engine over MPI and parallel HDF5.
//
// Targets depend one way:
//   CMPI, CHDF5            system libraries (module map + one shim header each)
//   CSignals               the async-signal-safe stop-request handler (C)
//   CLanes                 vectorisable square roots for the kernels (one C header)
//   MPI, HDF5              Swift APIs over them
//   Grid                   boxes, decomposition, halo plans, fields (pure Swift)
//   Engine                 model protocol, boundary conditions, time stepping (pure Swift)
//   Models/<Name>          one physics model each; Engine and Grid only
//   Distributed            halo exchange and reductions over MPI
//   Config                 TOML input
//   IO                     results (The Well layout), XDMF, inspection
//   tessera                the executable: argument parsing and wiring
import PackageDescription

/// Warnings are errors in our own targets (not in dependencies, whose warnings we cannot fix).
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

/// The CPU the kernels are compiled for: `TESSERA_TARGET_CPU=native` (what scripts/ use) for the
/// machine that builds, a name such as `znver3` or `x86-64-v3` for a cluster's compute nodes,
/// unset for the toolchain's baseline. Results do not depend on it: Swift never contracts a
/// multiply and an add into an FMA unless asked, so every CPU computes the same bits.
let targetCPU: [String] = Context.environment["TESSERA_TARGET_CPU"].map { ["-target-cpu", $0] } ?? []

/// The MPI implementation, chosen at build time: `TESSERA_MPI=openmpi` (the default) or
/// `mpich` (also for MPICH-derived MPIs: Cray MPICH, Intel MPI, MVAPICH). It names the
/// pkg-config packages of the MPI and of the parallel HDF5 built against it, Debian's names by
/// default; `TESSERA_MPI_PC` and `TESSERA_HDF5_PC` name others. Build each in its own folder
/// (scripts/setup.sh uses .build-mpich for MPICH); see docs/install.md.
let mpiImplementation = Context.environment["TESSERA_MPI"] ?? "openmpi"
let mpiPackages: (mpi: String, hdf5: String, apt: [String]) = {
    switch mpiImplementation {
    case "openmpi": return ("ompi", "hdf5-openmpi", ["libopenmpi-dev", "libhdf5-openmpi-dev"])
    case "mpich": return ("mpich", "hdf5-mpich", ["libmpich-dev", "libhdf5-mpich-dev"])
    default: fatalError("TESSERA_MPI must be openmpi or mpich, not \(mpiImplementation)")
    }
}()

/// Kernels run without overflow and bounds checks in release builds; see docs/benchmarks.md.
let kernel: [SwiftSetting] =
    strict + [.unsafeFlags(["-Ounchecked"] + targetCPU, .when(configuration: .release))]

let package = Package(
    name: "Tessera",
    products: [
        .executable(name: "tessera", targets: ["tessera"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CMPI",
            pkgConfig: Context.environment["TESSERA_MPI_PC"] ?? mpiPackages.mpi,
            providers: [.apt([mpiPackages.apt[0]])]
        ),
        .systemLibrary(
            name: "CHDF5",
            pkgConfig: Context.environment["TESSERA_HDF5_PC"] ?? mpiPackages.hdf5,
            providers: [.apt([mpiPackages.apt[1]])]
        ),
        .target(name: "CSignals"),
        .systemLibrary(name: "CLanes"),
        .target(
            name: "MPI", dependencies: ["CMPI"],
            swiftSettings: strict + (mpiImplementation == "mpich" ? [.define("TESSERA_MPICH")] : [])
        ),
        .target(name: "HDF5", dependencies: ["CHDF5", "MPI"], swiftSettings: strict),
        .target(name: "Grid", swiftSettings: kernel),
        .target(name: "Engine", dependencies: ["Grid", "CLanes"], swiftSettings: kernel),
        .target(name: "Heat", dependencies: ["Engine", "Grid"], path: "Sources/Models/Heat", swiftSettings: kernel),
        .target(
            name: "Advection", dependencies: ["Engine", "Grid"], path: "Sources/Models/Advection", swiftSettings: kernel
        ),
        .target(
            name: "Burgers", dependencies: ["Engine", "Grid"], path: "Sources/Models/Burgers", swiftSettings: kernel),
        .target(
            name: "GrayScott", dependencies: ["Engine", "Grid"], path: "Sources/Models/GrayScott",
            swiftSettings: kernel),
        .target(
            name: "Wave", dependencies: ["Engine", "Grid"], path: "Sources/Models/Wave", swiftSettings: kernel),
        .target(
            name: "Euler", dependencies: ["Engine", "Grid"], path: "Sources/Models/Euler", swiftSettings: kernel),
        .target(name: "Distributed", dependencies: ["MPI", "Grid", "Engine"], swiftSettings: kernel),
        .target(
            name: "Config",
            dependencies: ["Engine", "Grid", .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: strict
        ),
        .target(name: "IO", dependencies: ["HDF5", "MPI", "Grid", "Engine"], swiftSettings: strict),
        .executableTarget(
            name: "tessera",
            dependencies: [
                "MPI", "HDF5", "Grid", "Engine", "Heat", "Advection", "Burgers", "GrayScott", "Wave", "Euler",
                "Distributed",
                "Config",
                "IO",
                "CSignals",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "GridTests", dependencies: ["Grid"], swiftSettings: strict),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Engine", "Grid", "Heat", "Advection", "Burgers", "GrayScott", "Wave", "Euler",
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Engine", "Heat"], swiftSettings: strict),
        .testTarget(name: "IOTests", dependencies: ["IO", "Grid", "Engine"], swiftSettings: strict),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5", "MPI", "IO", "Grid"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)

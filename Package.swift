// swift-tools-version:6.0
//
// Tessera: a domain-decomposed structured-grid simulation engine over MPI and parallel HDF5.
//
// Targets depend one way (docs/architecture.md has a paragraph on each):
//   CMPI, CHDF5            system libraries (module map + one shim header each)
//   CSignals               the async-signal-safe stop-request handler (C)
//   CLanes                 vectorisable square roots for the kernels (one C header)
//   VersionStamp           a build tool plugin: the commit the build is of, into Runtime
//   MPI, HDF5              Swift APIs over them; the only targets that import a C module
//                          of MPI or HDF5, and none of their public API names a C type
//   Grid                   boxes, layouts, fields, decomposition, halo plans (pure Swift)
//   Settings               the input's vocabulary: values, errors naming a key, parameters,
//                          boundary conditions, physics keys, the seeded generator
//   Engine                 model protocol, geometry, boundary filling, time stepping, output staging
//   Numerics               the kit models build kernels from (lanes, face sweeps, limiters, ...)
//   Adjoint                differentiable models, adjoint runs and checks, L-BFGS
//   Models/<Name>          one physics model each; Engine, Numerics, Grid, Settings (Adjoint)
//   Distributed            halo exchange and reductions over MPI
//   Config                 TOML input into validated settings
//   IO                     results (The Well layout), checkpoints, ParaView view, inspection, datasets
//   Runtime                runs, restarts, checkpoint policy, failure agreement, campaigns,
//                          inversion, planning and benchmarks: the application, as a library
//   tessera                the executable: argument parsing that calls into Runtime
import Foundation
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

/// `TESSERA_VECTOR_WIDTH=8` vectorises the loops of the models that gain from it (the wave)
/// eight doubles wide, one AVX-512 register, where LLVM's tuning for Intel's AVX-512 cores
/// stops at four; scripts/setup.sh sets it when it builds for a CPU with AVX-512. The bits do
/// not change: each lane does a cell's arithmetic in the same order. Heat's one-sweep step
/// was 0.77 times as fast with it (docs/benchmarks.md), so heat keeps four.
let vectorWidth: [String] =
    Context.environment["TESSERA_VECTOR_WIDTH"].map { ["-Xllvm", "-force-vector-width=\($0)"] } ?? []

/// A physics model's target: one folder under Sources/Models, compiled as a kernel. Models
/// see the engine and the numerics kit, never MPI, HDF5 or a C module; those with an exact
/// adjoint see the adjoint machinery too. `wide` models take ``vectorWidth``.
func model(_ name: String, adjoint: Bool = false, wide: Bool = false) -> Target {
    .target(
        name: name, dependencies: ["Engine", "Numerics", "Grid", "Settings"] + (adjoint ? ["Adjoint"] : []),
        path: "Sources/Models/\(name)",
        swiftSettings: kernel + (wide ? [.unsafeFlags(vectorWidth, .when(configuration: .release))] : []))
}

/// The Swift packages Tessera uses, as pinned in Package.resolved. A source tarball made by
/// `scripts/dist` carries each one's sources under `vendor/<identity>/` and builds from
/// there, with no network.
let dependencies: [Package.Dependency] = {
    let remote: [(identity: String, url: String, version: Version)] = [
        ("swift-argument-parser", "https://github.com/apple/swift-argument-parser", "1.8.2"),
        ("swift-log", "https://github.com/apple/swift-log", "1.16.2"),
        ("tomlkit", "https://github.com/LebJe/TOMLKit", "0.6.0"),
    ]
    let vendor = Context.packageDirectory + "/vendor"
    if FileManager.default.fileExists(atPath: vendor + "/\(remote[0].identity)/Package.swift") {
        return remote.map { .package(path: "vendor/\($0.identity)") }
    }
    return remote.map { .package(url: $0.url, from: $0.version) }
}()

let package = Package(
    name: "Tessera",
    products: [
        .executable(name: "tessera", targets: ["tessera"])
    ],
    dependencies: dependencies,
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
        .plugin(name: "VersionStamp", capability: .buildTool()),
        .systemLibrary(name: "CLanes"),
        .target(
            name: "MPI", dependencies: ["CMPI"],
            swiftSettings: strict + (mpiImplementation == "mpich" ? [.define("TESSERA_MPICH")] : [])
        ),
        .target(name: "HDF5", dependencies: ["CHDF5", "CMPI", "MPI"], swiftSettings: strict),
        .target(name: "Grid", swiftSettings: kernel),
        .target(name: "Settings", swiftSettings: strict),
        .target(name: "Engine", dependencies: ["Grid", "Settings"], swiftSettings: kernel),
        .target(name: "Numerics", dependencies: ["Engine", "Grid", "Settings", "CLanes"], swiftSettings: kernel),
        .target(name: "Adjoint", dependencies: ["Engine", "Grid", "Settings"], swiftSettings: kernel),
        model("Heat", adjoint: true),
        model("Advection"),
        model("Burgers"),
        model("GrayScott"),
        model("Wave", adjoint: true, wide: true),
        model("Euler"),
        .target(name: "Distributed", dependencies: ["MPI", "Grid", "Engine"], swiftSettings: kernel),
        .target(
            name: "Config",
            dependencies: ["Settings", .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: strict
        ),
        .target(name: "IO", dependencies: ["HDF5", "MPI", "Grid", "Engine", "Settings"], swiftSettings: strict),
        .target(
            name: "Runtime",
            dependencies: [
                "MPI", "HDF5", "Grid", "Settings", "Engine", "Numerics", "Adjoint", "Distributed", "Config", "IO",
                "CSignals",
                "Heat", "Advection", "Burgers", "GrayScott", "Wave", "Euler",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict,
            plugins: ["VersionStamp"]
        ),
        .executableTarget(
            name: "tessera",
            dependencies: [
                "Runtime", "Config", "Settings", "IO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TestSupport", dependencies: ["MPI", "Engine", "Grid", "Settings", "Heat"], path: "Tests/TestSupport",
            swiftSettings: strict),
        .testTarget(name: "GridTests", dependencies: ["Grid"], swiftSettings: strict),
        .testTarget(name: "SettingsTests", dependencies: ["Settings"], swiftSettings: strict),
        .testTarget(
            name: "EngineTests", dependencies: ["Engine", "Grid", "Settings", "Heat", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "NumericsTests", dependencies: ["Numerics", "Engine", "Grid"], swiftSettings: strict),
        .testTarget(
            name: "ModelTests",
            dependencies: [
                "Engine", "Grid", "Settings", "Numerics", "Adjoint", "Heat", "Advection", "Burgers", "GrayScott",
                "Wave", "Euler", "TestSupport",
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "AdjointTests", dependencies: ["Adjoint", "Engine", "Grid", "Wave"], swiftSettings: strict),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Settings"], swiftSettings: strict),
        .testTarget(
            name: "IOTests", dependencies: ["IO", "HDF5", "Grid", "Engine", "Settings", "MPI", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "MPITests", dependencies: ["MPI", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5", "MPI", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "RuntimeTests",
            dependencies: ["Runtime", "Config", "Settings", "Engine", "Grid", "IO", "HDF5", "MPI", "TestSupport"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)

internal import CMPI

#if canImport(Glibc)
    import Glibc
#endif

/// The thread level `MPI_Init_thread` granted: written once at start-up, read afterwards.
private final class ThreadLevel: @unchecked Sendable {
    private var value: Int32 = -1
    func store(_ level: Int32) { value = level }
    func load() -> Int32 { value }
}

/// Start-up and shut-down of the MPI library for this process.
///
/// `tessera` runs under `mpirun`/`srun` or as a plain process; in the latter case MPI starts
/// as a singleton and the world communicator has one rank.
public enum MPIEnvironment {
    /// Initialises MPI and returns the world communicator, whose error handler is set to
    /// `MPI_ERRORS_RETURN` so that every failure reaches Swift as an ``MPIError``.
    ///
    /// Asks for `MPI_THREAD_MULTIPLE`, so that results can be written on threads of their own
    /// (each on a communicator no other thread uses) while the main thread exchanges halos;
    /// ``threadsMayCallMPI`` says whether the library granted it. Anything less still runs,
    /// with output written by the main thread.
    ///
    /// The corresponding C function is `MPI_Init_thread`.
    public static func initialize() throws(MPIError) -> Communicator {
        var provided: Int32 = 0
        try check(MPI_Init_thread(nil, nil, cmpi_thread_multiple(), &provided), "MPI_Init_thread")
        threadLevel.store(provided)
        let world = try Communicator(handle: cmpi_comm_world(), owned: false)
        try check(MPI_Comm_set_errhandler(world.handle, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        return world
    }

    /// The thread level MPI granted, once it is initialised.
    private static let threadLevel = ThreadLevel()

    /// Whether any thread may call MPI at any time (`MPI_THREAD_MULTIPLE` was granted).
    public static var threadsMayCallMPI: Bool { threadLevel.load() >= cmpi_thread_multiple() }

    /// Whether `MPI_Init_thread` has run and `MPI_Finalize` has not.
    public static var isActive: Bool {
        var initialized: Int32 = 0
        var finalized: Int32 = 0
        MPI_Initialized(&initialized)
        MPI_Finalized(&finalized)
        return initialized != 0 && finalized == 0
    }

    /// Shuts MPI down. Every communicator other than the world must be released first, and
    /// every HDF5 object closed.
    ///
    /// The corresponding C function is `MPI_Finalize`.
    public static func finalize() throws(MPIError) {
        if isActive { try check(MPI_Finalize(), "MPI_Finalize") }
    }

    /// Ends every rank of the job at once with `code`: the way out when this rank cannot tell
    /// whether the others will reach the same point (so that none waits forever).
    ///
    /// Waits half a second first, so that the launcher forwards what this rank has just
    /// written to standard error: MPICH's Hydra (4.0.2) can tear the job down before it
    /// has, and the job then ends with no word of why (seen about one time in ten).
    ///
    /// The corresponding C function is `MPI_Abort`.
    public static func abort(code: Int32) -> Never {
        if isActive {
            usleep(500_000)
            MPI_Abort(cmpi_comm_world(), code)
        }
        exit(code)
    }

    /// This process's rank in the world communicator.
    public static func worldRank() throws(MPIError) -> Int {
        var rank: Int32 = 0
        try check(MPI_Comm_rank(cmpi_comm_world(), &rank), "MPI_Comm_rank")
        return Int(rank)
    }

    /// The name of the node this process runs on, as MPI reports it (usually the host name).
    ///
    /// The corresponding C function is `MPI_Get_processor_name`.
    public static func processorName() throws(MPIError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(cmpi_max_processor_name()) + 1)
        var length: Int32 = 0
        try check(MPI_Get_processor_name(&buffer, &length), "MPI_Get_processor_name")
        return text(buffer, length: length)
    }

    /// The MPI library's own version text, for example `Open MPI v4.1.4, ...`.
    ///
    /// The corresponding C function is `MPI_Get_library_version`.
    public static var libraryVersion: String {
        var buffer = [CChar](repeating: 0, count: Int(cmpi_max_library_version_string()) + 1)
        var length: Int32 = 0
        guard MPI_Get_library_version(&buffer, &length) == cmpi_success() else { return "unknown" }
        let version = text(buffer, length: length)
        return version.split(separator: "\n").first.map(String.init) ?? version
    }

    /// A balanced process grid for `ranks` ranks in `dims.count` dimensions; non-zero entries
    /// of `dims` are kept as given, zeros are chosen by MPI.
    ///
    /// The corresponding C function is `MPI_Dims_create`.
    public static func dimsCreate(ranks: Int, constraints dims: [Int]) throws(MPIError) -> [Int] {
        var values = dims.map { Int32($0) }
        try check(MPI_Dims_create(Int32(ranks), Int32(values.count), &values), "MPI_Dims_create")
        return values.map { Int($0) }
    }
}

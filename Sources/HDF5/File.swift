internal import CHDF5
internal import CMPI
import MPI

#if canImport(Glibc)
    import Glibc
#endif

/// An HDF5 file, opened by one process or collectively by every rank of a communicator
/// through MPI-IO. The file closes when the last reference to it (and its objects) goes;
/// ``close()`` closes it now and reports errors.
public final class File {
    let handle: Handle
    /// Whether the file was opened collectively through MPI-IO: then every dataset write is
    /// collective and every rank must take part.
    public let isParallel: Bool
    /// The path the file was opened with.
    public let path: String

    private init(handle: Handle, parallel: Bool, path: String) {
        self.handle = handle
        self.isParallel = parallel
        self.path = path
    }

    /// File access properties: MPI-IO on `communicator` with collective metadata operations
    /// and `tuning`'s hints, or the default single-process driver; `tuning`'s alignment either way.
    private static func accessList(_ communicator: Communicator?, _ tuning: FileTuning) throws(HDF5Error) -> Handle {
        quietErrors()
        let fapl = try propertyList(chdf5_p_file_access())
        if let communicator {
            let hints: Hints
            do { hints = try Hints(tuning.hints) } catch {
                throw HDF5Error(call: "MPI_Info_set", context: "MPI-IO hints \(tuning.hints)", stack: ["\(error)"])
            }
            // HDF5 keeps its own copy of the hints.
            try check(H5Pset_fapl_mpio(fapl.id, communicator.handle, hints.handle), "H5Pset_fapl_mpio")
            try check(H5Pset_all_coll_metadata_ops(fapl.id, true), "H5Pset_all_coll_metadata_ops")
            try check(H5Pset_coll_metadata_write(fapl.id, true), "H5Pset_coll_metadata_write")
        }
        if let alignment = tuning.alignment {
            try check(
                H5Pset_alignment(fapl.id, hsize_t(alignment.threshold), hsize_t(alignment.boundary)),
                "H5Pset_alignment")
        }
        return fapl
    }

    /// Creates `path`, replacing any file there when `overwrite` is true and failing otherwise.
    /// Collective over `communicator` when one is given.
    ///
    /// The corresponding C function is `H5Fcreate`.
    ///
    /// With `checksummedMetadata`, the file uses HDF5's 1.8+ format, whose superblock and object
    /// headers carry checksums that HDF5 verifies when it reads them.
    public static func create(
        _ path: String, communicator: Communicator?, overwrite: Bool, checksummedMetadata: Bool = false,
        tuning: FileTuning = FileTuning()
    )
        throws(HDF5Error) -> File
    {
        let fapl = try accessList(communicator, tuning)
        if checksummedMetadata {
            try check(H5Pset_libver_bounds(fapl.id, H5F_LIBVER_V18, H5F_LIBVER_V110), "H5Pset_libver_bounds")
        }
        let flags = overwrite ? chdf5_acc_trunc() : chdf5_acc_excl()
        let id = try checked(H5Fcreate(path, flags, hid_t(H5P_DEFAULT), fapl.id), "H5Fcreate", path)
        return File(
            handle: Handle(id, .file, abortsOnFailure: communicator != nil), parallel: communicator != nil, path: path)
    }

    /// Opens an existing file. Collective over `communicator` when one is given.
    ///
    /// The corresponding C function is `H5Fopen`.
    public static func open(
        _ path: String, readOnly: Bool = true, communicator: Communicator? = nil, tuning: FileTuning = FileTuning()
    ) throws(HDF5Error) -> File {
        // HDF5 would open a FIFO or a device and wait on it forever: only regular files (or
        // links to them) are files here.
        if access(path, F_OK) == 0, !isRegularFile(path) {
            throw HDF5Error(call: "H5Fopen", context: path, stack: ["not a regular file (a folder, FIFO or device)"])
        }
        let fapl = try accessList(communicator, tuning)
        let flags = readOnly ? chdf5_acc_rdonly() : chdf5_acc_rdwr()
        let id = try checked(H5Fopen(path, flags, fapl.id), "H5Fopen", path)
        let parallel = communicator != nil
        return File(handle: Handle(id, .file, abortsOnFailure: parallel), parallel: parallel, path: path)
    }

    /// Whether `path` is a regular file, or a link to one: not missing, and not a folder, a
    /// FIFO or a device, which an open would fail on or wait on forever.
    public static func isRegularFile(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
    }

    /// The root group `/`.
    public var root: Group {
        get throws(HDF5Error) {
            try Group(file: self, id: checked(H5Gopen2(handle.id, "/", hid_t(H5P_DEFAULT)), "H5Gopen2", "/"))
        }
    }

    /// The MPI-IO hints HDF5 holds for this file, as it passes them to MPI (empty for a file
    /// opened by one process).
    ///
    /// The corresponding C functions are `H5Fget_access_plist` and `H5Pget_fapl_mpio`.
    public var mpiHints: [String: String] {
        get throws(HDF5Error) {
            guard isParallel else { return [:] }
            let fapl = Handle(try checked(H5Fget_access_plist(handle.id), "H5Fget_access_plist", path), .propertyList)
            var communicator: CommSlot = cmpi_comm_null()
            var info: InfoSlot = cmpi_info_null()
            try check(H5Pget_fapl_mpio(fapl.id, &communicator, &info), "H5Pget_fapl_mpio", path)
            return Hints.takePairs(info: &info, communicator: &communicator)
        }
    }

    /// Writes buffered data and metadata to storage.
    ///
    /// The corresponding C function is `H5Fflush`.
    public func flush() throws(HDF5Error) {
        try check(H5Fflush(handle.id, H5F_SCOPE_GLOBAL), "H5Fflush", path, in: handle)
    }
}

/// How a file meets its file system: MPI-IO hints (for example Lustre's `striping_factor`
/// and `striping_unit`, ROMIO's `cb_nodes` and `romio_cb_write`) and HDF5's alignment of
/// objects to a boundary such as the stripe size. The defaults suit a local disk.
public struct FileTuning: Sendable, Equatable {
    /// Hints passed to MPI-IO when the file is opened collectively.
    public var hints: [String: String]
    /// Every object of at least `threshold` bytes starts at a multiple of `boundary`.
    public var alignment: Alignment?

    public struct Alignment: Sendable, Equatable {
        public var threshold: Int
        public var boundary: Int

        public init(threshold: Int, boundary: Int) {
            self.threshold = threshold
            self.boundary = boundary
        }
    }

    public init(hints: [String: String] = [:], alignment: Alignment? = nil) {
        self.hints = hints
        self.alignment = alignment
    }
}

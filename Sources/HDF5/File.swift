import CHDF5
import CMPI
import MPI

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

    /// File access properties: MPI-IO on `communicator` with collective metadata operations,
    /// or the default single-process driver.
    private static func accessList(_ communicator: Communicator?) throws(HDF5Error) -> Handle {
        quietErrors()
        let fapl = try propertyList(chdf5_p_file_access())
        if let communicator {
            try check(H5Pset_fapl_mpio(fapl.id, communicator.handle, cmpi_info_null()), "H5Pset_fapl_mpio")
            try check(H5Pset_all_coll_metadata_ops(fapl.id, true), "H5Pset_all_coll_metadata_ops")
            try check(H5Pset_coll_metadata_write(fapl.id, true), "H5Pset_coll_metadata_write")
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
        _ path: String, communicator: Communicator?, overwrite: Bool, checksummedMetadata: Bool = false
    )
        throws(HDF5Error) -> File
    {
        let fapl = try accessList(communicator)
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
    public static func open(_ path: String, readOnly: Bool = true, communicator: Communicator? = nil) throws(HDF5Error)
        -> File
    {
        let fapl = try accessList(communicator)
        let flags = readOnly ? chdf5_acc_rdonly() : chdf5_acc_rdwr()
        let id = try checked(H5Fopen(path, flags, fapl.id), "H5Fopen", path)
        let parallel = communicator != nil
        return File(handle: Handle(id, .file, abortsOnFailure: parallel), parallel: parallel, path: path)
    }

    /// The root group `/`.
    public var root: Group {
        get throws(HDF5Error) {
            try Group(file: self, id: checked(H5Gopen2(handle.id, "/", hid_t(H5P_DEFAULT)), "H5Gopen2", "/"))
        }
    }

    /// Writes buffered data and metadata to storage.
    ///
    /// The corresponding C function is `H5Fflush`.
    public func flush() throws(HDF5Error) {
        try check(H5Fflush(handle.id, H5F_SCOPE_GLOBAL), "H5Fflush", path, in: handle)
    }
}

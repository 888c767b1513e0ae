internal import CHDF5
import Foundation
import MPI

/// An HDF5 identifier that closes itself when the last reference goes.
///
/// An object inside a file keeps the file's handle alive, so the file always closes after
/// everything in it: with MPI-IO, HDF5 refuses to close a file that still has open objects
/// (its close degree is "semi"), and the file would be left unflushed.
final class Handle {
    /// What kind of object the identifier names; decides which close function runs.
    enum Kind { case file, group, dataset, attribute, dataspace, datatype, propertyList }

    let id: hid_t
    let kind: Kind
    /// The file this object lives in, kept open while the object is.
    let file: Handle?
    /// Whether a failed call on this object must end the job: true for everything in a file
    /// opened collectively (see ``abortIfCollective(_:)``).
    let abortsOnFailure: Bool

    init(_ id: hid_t, _ kind: Kind, in file: Handle? = nil, abortsOnFailure: Bool = false) {
        self.id = id
        self.kind = kind
        self.file = file
        self.abortsOnFailure = abortsOnFailure || (file?.abortsOnFailure ?? false)
    }

    /// Ends every rank at once if `error` happened in a collectively opened file.
    ///
    /// When a collective call (a write, a metadata change, a flush) fails on some ranks only,
    /// the others are already waiting in it or in the next one; unwinding would then release
    /// handles, and closing a file is itself collective, so the job would hang. Nothing can be
    /// recovered there, so the error is printed and the job aborted at the point of failure.
    func abortIfCollective(_ error: HDF5Error) {
        guard abortsOnFailure else { return }
        let rank = MPIEnvironment.isActive ? (try? MPIEnvironment.worldRank()) ?? -1 : -1
        let text =
            "tessera: error: rank \(rank): \(error)\n  (a collective HDF5 operation failed; aborting every rank)\n"
        FileHandle.standardError.write(Data(text.utf8))
        MPIEnvironment.abort(code: 1)
    }

    deinit {
        switch kind {
        case .file: H5Fclose(id)
        case .group: H5Gclose(id)
        case .dataset: H5Dclose(id)
        case .attribute: H5Aclose(id)
        case .dataspace: H5Sclose(id)
        case .datatype: H5Tclose(id)
        case .propertyList: H5Pclose(id)
        }
    }
}

/// A dataspace: the shape of a dataset or attribute, and a selection within it.
struct Dataspace {
    let handle: Handle
    var id: hid_t { handle.id }

    /// A simple dataspace of `shape`, growable to `maxShape` (nil entries are unlimited).
    init(shape: [Int], maxShape: [Int?]? = nil) throws(HDF5Error) {
        var dims = shape.map { hsize_t($0) }
        let id: hid_t
        if let maxShape {
            var maxDims = maxShape.map { $0.map { hsize_t($0) } ?? chdf5_unlimited() }
            id = H5Screate_simple(Int32(dims.count), &dims, &maxDims)
        } else {
            id = H5Screate_simple(Int32(dims.count), &dims, nil)
        }
        handle = Handle(try checked(id, "H5Screate_simple"), .dataspace)
    }

    /// A scalar dataspace (one element, no dimensions).
    static func scalar() throws(HDF5Error) -> Dataspace {
        Dataspace(handle: Handle(try checked(H5Screate(H5S_SCALAR), "H5Screate"), .dataspace))
    }

    init(handle: Handle) { self.handle = handle }

    /// The current extent.
    var shape: [Int] {
        let rank = Int(H5Sget_simple_extent_ndims(id))
        guard rank > 0 else { return [] }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(id, &dims, nil)
        return dims.map { Int($0) }
    }

    /// Selects the block at `start` with `count` elements per axis.
    func selectBlock(start: [Int], count: [Int]) throws(HDF5Error) {
        var s = start.map { hsize_t($0) }
        var c = count.map { hsize_t($0) }
        try check(H5Sselect_hyperslab(id, H5S_SELECT_SET, &s, nil, &c, nil), "H5Sselect_hyperslab")
    }

    /// Selects nothing: this rank takes part in a collective call without data.
    func selectNone() throws(HDF5Error) {
        try check(H5Sselect_none(id), "H5Sselect_none")
    }
}

/// A property list of the given class.
func propertyList(_ cls: hid_t) throws(HDF5Error) -> Handle {
    Handle(try checked(H5Pcreate(cls), "H5Pcreate"), .propertyList)
}

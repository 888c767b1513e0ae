internal import CHDF5

/// A group in an HDF5 file: holds datasets, groups and attributes.
public struct Group {
    let file: File
    let handle: Handle
    /// The attributes of this object.
    public var attributes: Attributes { Attributes(owner: handle) }

    init(file: File, id: hid_t) {
        self.file = file
        self.handle = Handle(id, .group, in: file.handle)
    }

    /// Creates the subgroup `name`.
    ///
    /// The corresponding C function is `H5Gcreate2`.
    public func createGroup(_ name: String) throws(HDF5Error) -> Group {
        let d = hid_t(H5P_DEFAULT)
        return Group(file: file, id: try checked(H5Gcreate2(handle.id, name, d, d, d), "H5Gcreate2", name, in: handle))
    }

    /// Opens the subgroup `name`.
    public func openGroup(_ name: String) throws(HDF5Error) -> Group {
        Group(file: file, id: try checked(H5Gopen2(handle.id, name, hid_t(H5P_DEFAULT)), "H5Gopen2", name, in: handle))
    }

    /// What a group member is.
    public enum MemberKind: Sendable { case group, dataset, other }

    /// The members of this group in name order.
    ///
    /// The corresponding C functions are `H5Gget_info` and `H5Lget_name_by_idx`.
    public func members() throws(HDF5Error) -> [(name: String, kind: MemberKind)] {
        var info = H5G_info_t()
        try check(H5Gget_info(handle.id, &info), "H5Gget_info", in: handle)
        var result: [(String, MemberKind)] = []
        for index in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(
                handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, hid_t(H5P_DEFAULT))
            guard length >= 0 else {
                throw HDF5Error(call: "H5Lget_name_by_idx", context: "", stack: captureErrorStack())
            }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            H5Lget_name_by_idx(
                handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, Int(length) + 1, hid_t(H5P_DEFAULT))
            let name = string(fromCString: buffer)
            let object = try checked(H5Oopen(handle.id, name, hid_t(H5P_DEFAULT)), "H5Oopen", name, in: handle)
            let type = H5Iget_type(object)
            H5Oclose(object)
            result.append((name, type == H5I_GROUP ? .group : type == H5I_DATASET ? .dataset : .other))
        }
        return result
    }

    /// Creates a dataset of `type` elements with the given shape. With `maxShape` (nil entries
    /// unlimited) and `chunk` the dataset is chunked and can grow with ``Dataset/setExtent(_:)``.
    /// Storage is allocated without writing fill values: every element is written by Tessera.
    ///
    /// The corresponding C function is `H5Dcreate2`.
    public func createDataset<T: HDF5Scalar>(
        _ name: String, of type: T.Type, shape: [Int], maxShape: [Int?]? = nil, chunk: [Int]? = nil
    ) throws(HDF5Error) -> Dataset {
        try createDataset(
            name, fileType: T.hdf5Type, shape: shape, maxShape: maxShape, chunk: chunk)
    }

    /// Creates a dataset of h5py booleans (written from `Int8` 0 and 1).
    public func createBoolDataset(_ name: String, shape: [Int]) throws(HDF5Error) -> Dataset {
        let type = try DerivedType.h5pyBool()
        return try createDataset(
            name, fileType: type.id, shape: shape, maxShape: nil, chunk: nil, keep: type)
    }

    private func createDataset(
        _ name: String, fileType: hid_t, shape: [Int], maxShape: [Int?]?, chunk: [Int]?,
        keep: Handle? = nil
    ) throws(HDF5Error) -> Dataset {
        let space = try Dataspace(shape: shape, maxShape: maxShape)
        let dcpl = try propertyList(chdf5_p_dataset_create())
        if let chunk {
            var dims = chunk.map { hsize_t($0) }
            try check(H5Pset_chunk(dcpl.id, Int32(dims.count), &dims), "H5Pset_chunk", name, in: handle)
        }
        try check(H5Pset_fill_time(dcpl.id, H5D_FILL_TIME_NEVER), "H5Pset_fill_time", name, in: handle)
        let d = hid_t(H5P_DEFAULT)
        let id = try checked(
            H5Dcreate2(handle.id, name, fileType, space.id, d, dcpl.id, d), "H5Dcreate2", name, in: handle)
        return Dataset(file: file, id: id, name: name, memoryType: keep)
    }

    /// Creates a virtual dataset of `element` values with the given shape, whose blocks are
    /// blocks of datasets elsewhere (in this file or in others, by a path relative to this
    /// file's folder), so that a second view of data costs no copy. Elements no mapping
    /// covers read as zero.
    ///
    /// The corresponding C functions are `H5Pset_virtual` and `H5Dcreate2`.
    public func createVirtualDataset(
        _ name: String, of element: HDF5Element, shape: [Int], mappings: [VirtualMapping]
    ) throws(HDF5Error) -> Dataset {
        let space = try Dataspace(shape: shape)
        let dcpl = try propertyList(chdf5_p_dataset_create())
        var zero = 0.0
        try check(H5Pset_fill_value(dcpl.id, chdf5_native_double(), &zero), "H5Pset_fill_value", name, in: handle)
        for mapping in mappings {
            let virtual = try Dataspace(shape: shape)
            try virtual.selectBlock(start: mapping.start, count: mapping.count)
            let source = try Dataspace(shape: mapping.sourceShape)
            try source.selectBlock(start: mapping.sourceStart, count: mapping.sourceCount)
            try check(
                H5Pset_virtual(dcpl.id, virtual.id, mapping.sourceFile, mapping.sourceDataset, source.id),
                "H5Pset_virtual", "\(name) from \(mapping.sourceFile):\(mapping.sourceDataset)", in: handle)
        }
        let d = hid_t(H5P_DEFAULT)
        let id = try checked(
            H5Dcreate2(handle.id, name, element.nativeType, space.id, d, dcpl.id, d), "H5Dcreate2", name, in: handle)
        return Dataset(file: file, id: id, name: name)
    }

    /// Copies the object `name` (a group with everything in it, or a dataset, with their
    /// attributes) into `destination` under the same name; the files may differ.
    ///
    /// The corresponding C function is `H5Ocopy`.
    public func copy(_ name: String, to destination: Group) throws(HDF5Error) {
        let d = hid_t(H5P_DEFAULT)
        try check(H5Ocopy(handle.id, name, destination.handle.id, name, d, d), "H5Ocopy", name, in: handle)
    }

    /// Removes the member `name` from this group.
    ///
    /// The corresponding C function is `H5Ldelete`.
    public func remove(_ name: String) throws(HDF5Error) {
        try check(H5Ldelete(handle.id, name, hid_t(H5P_DEFAULT)), "H5Ldelete", name, in: handle)
    }

    /// Opens the dataset `name`.
    public func openDataset(_ name: String) throws(HDF5Error) -> Dataset {
        Dataset(
            file: file, id: try checked(H5Dopen2(handle.id, name, hid_t(H5P_DEFAULT)), "H5Dopen2", name, in: handle),
            name: name)
    }
}

/// One block of a virtual dataset: its `count` elements from `start` are, in the same order,
/// the `sourceCount` elements from `sourceStart` of the dataset `sourceDataset` (of shape
/// `sourceShape`) in `sourceFile`. Both blocks hold the same number of elements; their shapes
/// may differ (an axis of length one dropped, for example).
public struct VirtualMapping: Sendable, Equatable {
    public var start: [Int]
    public var count: [Int]
    public var sourceFile: String
    public var sourceDataset: String
    public var sourceShape: [Int]
    public var sourceStart: [Int]
    public var sourceCount: [Int]

    public init(
        start: [Int], count: [Int], sourceFile: String, sourceDataset: String, sourceShape: [Int],
        sourceStart: [Int], sourceCount: [Int]
    ) {
        self.start = start
        self.count = count
        self.sourceFile = sourceFile
        self.sourceDataset = sourceDataset
        self.sourceShape = sourceShape
        self.sourceStart = sourceStart
        self.sourceCount = sourceCount
    }
}

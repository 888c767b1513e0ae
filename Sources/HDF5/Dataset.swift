internal import CHDF5

/// A dataset in an HDF5 file. In a file opened collectively, every read and write here is
/// a collective call: every rank calls it, with its own block or with an empty one.
public struct Dataset {
    let file: File
    let handle: Handle
    let name: String
    /// The type data is written with when it is not a plain ``HDF5Scalar`` (h5py booleans).
    let memoryType: Handle?
    /// The attributes of this object.
    public var attributes: Attributes { Attributes(owner: handle) }

    init(file: File, id: hid_t, name: String, memoryType: Handle? = nil) {
        self.file = file
        self.handle = Handle(id, .dataset, in: file.handle)
        self.name = name
        self.memoryType = memoryType
    }

    /// The current shape.
    public var shape: [Int] {
        get throws(HDF5Error) {
            try Dataspace(handle: Handle(checked(H5Dget_space(handle.id), "H5Dget_space", name), .dataspace)).shape
        }
    }

    /// A short description of the element type, for example `float32` or `string`.
    public var elementDescription: String {
        let type = H5Dget_type(handle.id)
        defer { H5Tclose(type) }
        return describeType(type)
    }

    /// Where chunk `index` (in the order HDF5 stores them) starts in the file, in bytes.
    ///
    /// The corresponding C function is `H5Dget_chunk_info`.
    public func chunkAddress(_ index: Int) throws(HDF5Error) -> Int {
        let space = Dataspace(
            handle: Handle(try checked(H5Dget_space(handle.id), "H5Dget_space", name, in: handle), .dataspace))
        var address: haddr_t = 0
        var size: hsize_t = 0
        var mask: UInt32 = 0
        var offset = [hsize_t](repeating: 0, count: Swift.max(space.shape.count, 1))
        try check(
            H5Dget_chunk_info(handle.id, space.id, hsize_t(index), &offset, &mask, &address, &size),
            "H5Dget_chunk_info", name, in: handle)
        return Int(address)
    }

    /// Grows (or shrinks) a chunked dataset to `shape`. Collective in a parallel file.
    ///
    /// The corresponding C function is `H5Dset_extent`.
    public func setExtent(_ shape: [Int]) throws(HDF5Error) {
        var dims = shape.map { hsize_t($0) }
        try check(H5Dset_extent(handle.id, &dims), "H5Dset_extent", name, in: handle)
    }

    private func transferList() throws(HDF5Error) -> Handle {
        let dxpl = try propertyList(chdf5_p_dataset_xfer())
        if file.isParallel {
            try check(H5Pset_dxpl_mpio(dxpl.id, H5FD_MPIO_COLLECTIVE), "H5Pset_dxpl_mpio", name, in: handle)
        }
        return dxpl
    }

    /// Writes `data` (C order) into the block at `start` with `count` elements per axis.
    /// A rank with nothing to write passes a `count` with a zero. With `memory`, `data` is a
    /// larger array and the block is taken from inside it (a field's owned cells among its
    /// ghosts), so HDF5 gathers it without a copy here.
    ///
    /// The corresponding C function is `H5Dwrite` with a hyperslab selection.
    public func write<T: HDF5Scalar>(
        _ data: UnsafeBufferPointer<T>, start: [Int], count: [Int], memory: MemoryBlock? = nil
    ) throws(HDF5Error) {
        try transfer(T.hdf5Type, start: start, count: count, elements: data.count, memory: memory) {
            (file, memory, dxpl) in
            H5Dwrite(handle.id, memoryType?.id ?? T.hdf5Type, memory, file, dxpl, data.baseAddress)
        }
    }

    /// Reads the block at `start` with `count` elements per axis into `data` (C order).
    ///
    /// The corresponding C function is `H5Dread` with a hyperslab selection.
    public func read<T: HDF5Scalar>(into data: UnsafeMutableBufferPointer<T>, start: [Int], count: [Int])
        throws(HDF5Error)
    {
        try transfer(T.hdf5Type, start: start, count: count, elements: data.count) { (file, memory, dxpl) in
            H5Dread(handle.id, T.hdf5Type, memory, file, dxpl, data.baseAddress)
        }
    }

    /// Reads the whole dataset, in C order.
    public func readAll<T: HDF5Scalar & Numeric>(_ type: T.Type) throws(HDF5Error) -> [T] {
        let shape = try self.shape
        var values = [T](repeating: 0, count: shape.reduce(1, *))
        try values.withUnsafeMutableBufferPointer { (buffer) throws(HDF5Error) in
            try read(into: buffer, start: shape.map { _ in 0 }, count: shape)
        }
        return values
    }

    /// Writes the whole dataset from `data`, which every rank holds alike: one rank writes,
    /// the others take part in the collective call with an empty selection.
    public func writeAll<T: HDF5Scalar>(_ data: [T], writer: Bool) throws(HDF5Error) {
        let shape = try self.shape
        // A scalar dataset has no axes: an empty count selects its one element, so a rank
        // that does not write marks that with a zero count of its own.
        let count = writer ? shape : (shape.isEmpty ? [0] : shape.map { _ in 0 })
        try data.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
            try write(buffer, start: shape.map { _ in 0 }, count: count)
        }
    }

    private func transfer(
        _ type: hid_t, start: [Int], count: [Int], elements: Int, memory block: MemoryBlock? = nil,
        _ body: (_ file: hid_t, _ memory: hid_t, _ dxpl: hid_t) -> herr_t
    ) throws(HDF5Error) {
        let fileSpace = Dataspace(
            handle: Handle(try checked(H5Dget_space(handle.id), "H5Dget_space", name, in: handle), .dataspace))
        let total = count.reduce(1, *)
        let needed = block.map { $0.shape.reduce(1, *) } ?? total
        guard needed <= elements else {
            throw HDF5Error(
                call: "H5Dwrite", context: "\(name): buffer of \(elements) for block of \(needed)", stack: [])
        }
        // The memory dataspace has the file selection's shape (or the larger array's): with a
        // flat one, HDF5 1.10 maps a chunked dataset's chunks element by element, which made
        // results frames ten times slower than the disk.
        let memorySpace = try Dataspace(shape: block?.shape ?? (count.isEmpty || total == 0 ? [max(total, 1)] : count))
        if total == 0 || count.contains(0) {
            try fileSpace.selectNone()
            try memorySpace.selectNone()
        } else if count.isEmpty {
            try check(H5Sselect_all(fileSpace.id), "H5Sselect_all", name, in: handle)
        } else {
            try fileSpace.selectBlock(start: start, count: count)
            if let block { try memorySpace.selectBlock(start: block.start, count: count) }
        }
        let dxpl = try transferList()
        try check(body(fileSpace.id, memorySpace.id, dxpl.id), "H5Dwrite/H5Dread", name, in: handle)
    }
}

/// Where a block lies in memory when it is part of a larger array: the array's shape and the
/// block's first element in it (for example a field with ghosts: allocated shape, ghost widths).
public struct MemoryBlock: Sendable {
    public let shape: [Int]
    public let start: [Int]

    public init(shape: [Int], start: [Int]) {
        self.shape = shape
        self.start = start
    }
}

/// A short name for an HDF5 type, in numpy's terms where there is one.
func describeType(_ type: hid_t) -> String {
    let size = H5Tget_size(type)
    switch H5Tget_class(type) {
    case H5T_FLOAT: return "float\(size * 8)"
    case H5T_INTEGER: return H5Tget_sign(type) == H5T_SGN_NONE ? "uint\(size * 8)" : "int\(size * 8)"
    case H5T_STRING: return "string"
    case H5T_ENUM: return H5Tget_nmembers(type) == 2 ? "bool" : "enum"
    default: return "other"
    }
}

internal import CHDF5

#if canImport(Glibc)
    import Glibc
#endif

/// A value stored as an HDF5 attribute, in the types h5py and The Well's loader read.
public enum AttributeValue: Equatable, Sendable, CustomStringConvertible {
    case int(Int)
    case ints([Int])
    case double(Double)
    case doubles([Double])
    /// A variable-length UTF-8 string.
    case string(String)
    /// A list of variable-length UTF-8 strings.
    case strings([String])
    /// An h5py boolean.
    case bool(Bool)
    /// A list of h5py booleans.
    case bools([Bool])

    public var description: String {
        switch self {
        case .int(let v): "\(v)"
        case .ints(let v): "\(v)"
        case .double(let v): "\(v)"
        case .doubles(let v): "\(v)"
        case .string(let v): v.contains("\n") ? "<\(v.utf8.count) bytes of text>" : "\"\(v)\""
        case .strings(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .bools(let v): "\(v)"
        }
    }
}

/// The attributes of a group or dataset. In a parallel file every rank must write the same
/// attributes with the same values.
public struct Attributes {
    let owner: Handle
    var objectID: hid_t { owner.id }

    /// How text is stored.
    public enum Strings: Sendable {
        /// Variable-length strings, as h5py writes them: kept in the file's global heap.
        case variableLength
        /// Fixed-length strings, kept in the attribute itself. HDF5 checksums object headers
        /// and dense attribute storage but not the global heap, whose damage HDF 1.10 can loop
        /// on forever while reading: files that must be verified use these.
        case fixedLength
    }

    /// Writes attribute `name`, replacing one already there.
    ///
    /// The corresponding C functions are `H5Acreate2` and `H5Awrite`.
    public func setAttribute(_ name: String, _ value: AttributeValue, strings: Strings = .variableLength)
        throws(HDF5Error)
    {
        if H5Aexists(objectID, name) > 0 { try check(H5Adelete(objectID, name), "H5Adelete", name, in: owner) }
        switch value {
        case .int(let v): try write(name, [Int64(v)], type: Int64.hdf5Type, scalar: true)
        case .ints(let v): try write(name, v.map(Int64.init), type: Int64.hdf5Type, scalar: false)
        case .double(let v): try write(name, [v], type: Double.hdf5Type, scalar: true)
        case .doubles(let v): try write(name, v, type: Double.hdf5Type, scalar: false)
        case .bool(let v):
            let type = try DerivedType.h5pyBool()
            try write(name, [Int8(v ? 1 : 0)], type: type.id, scalar: true)
        case .bools(let v):
            let type = try DerivedType.h5pyBool()
            try write(name, v.map { Int8($0 ? 1 : 0) }, type: type.id, scalar: false)
        case .string(let v):
            try strings == .fixedLength
                ? writeFixedStrings(name, [v], scalar: true) : writeStrings(name, [v], scalar: true)
        case .strings(let v):
            try strings == .fixedLength
                ? writeFixedStrings(name, v, scalar: false) : writeStrings(name, v, scalar: false)
        }
    }

    private func writeFixedStrings(_ name: String, _ values: [String], scalar: Bool) throws(HDF5Error) {
        let size = max(1, values.map(\.utf8.count).max() ?? 0)
        let type = Handle(try checked(H5Tcopy(chdf5_c_s1()), "H5Tcopy"), .datatype)
        try check(H5Tset_size(type.id, size), "H5Tset_size")
        try check(H5Tset_cset(type.id, H5T_CSET_UTF8), "H5Tset_cset")
        try check(H5Tset_strpad(type.id, H5T_STR_NULLPAD), "H5Tset_strpad")
        var bytes = [UInt8](repeating: 0, count: size * values.count)
        for (index, value) in values.enumerated() {
            for (offset, byte) in value.utf8.enumerated() { bytes[index * size + offset] = byte }
        }
        try write(name, bytes, type: type.id, scalar: scalar, count: values.count)
    }

    private func write<T>(_ name: String, _ values: [T], type: hid_t, scalar: Bool, count: Int? = nil)
        throws(HDF5Error)
    {
        let space = scalar ? try Dataspace.scalar() : try Dataspace(shape: [count ?? values.count])
        let attribute = Handle(
            try checked(
                H5Acreate2(objectID, name, type, space.id, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT)), "H5Acreate2", name,
                in: owner),
            .attribute)
        let status = values.withUnsafeBytes { H5Awrite(attribute.id, type, $0.baseAddress) }
        try check(status, "H5Awrite", name, in: owner)
    }

    private func writeStrings(_ name: String, _ values: [String], scalar: Bool) throws(HDF5Error) {
        let type = try DerivedType.utf8String()
        let space = scalar ? try Dataspace.scalar() : try Dataspace(shape: [values.count])
        let attribute = Handle(
            try checked(
                H5Acreate2(objectID, name, type.id, space.id, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT)), "H5Acreate2",
                name, in: owner),
            .attribute)
        let copies = values.map { strdup($0) }
        defer { for copy in copies { free(copy) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        let status = pointers.withUnsafeMutableBytes { H5Awrite(attribute.id, type.id, $0.baseAddress) }
        try check(status, "H5Awrite", name, in: owner)
    }

    /// The names of this object's attributes in creation order.
    ///
    /// The corresponding C function is `H5Aget_name_by_idx`.
    public func attributeNames() throws(HDF5Error) -> [String] {
        var info = H5O_info_t()
        try check(H5Oget_info2(objectID, &info, UInt32(H5O_INFO_NUM_ATTRS)), "H5Oget_info2", in: owner)
        var names: [String] = []
        for index in 0..<info.num_attrs {
            var buffer = [CChar](repeating: 0, count: 1024)
            let length = H5Aget_name_by_idx(
                objectID, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, index, &buffer, 1024, hid_t(H5P_DEFAULT))
            if length < 0 {
                // Objects written without creation-order tracking only index by name.
                H5Eclear2(chdf5_e_default())
                let byName = H5Aget_name_by_idx(
                    objectID, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, 1024, hid_t(H5P_DEFAULT))
                // HDF5 lists an object's attributes all at once; one it cannot decode (a newer
                // HDF5's datatype) hides them all.
                try check(Int32(clamping: byName), "H5Aget_name_by_idx", "attribute \(index)", in: owner)
            }
            names.append(string(fromCString: buffer))
        }
        return names
    }

    /// Reads attribute `name`; nil when there is none or its type is not one Tessera writes.
    ///
    /// The corresponding C function is `H5Aread`.
    public func attribute(_ name: String) throws(HDF5Error) -> AttributeValue? {
        let exists = H5Aexists(objectID, name)
        try check(Int32(exists), "H5Aexists", name, in: owner)  // Damage, not absence.
        guard exists > 0 else { return nil }
        let attribute = Handle(
            try checked(H5Aopen(objectID, name, hid_t(H5P_DEFAULT)), "H5Aopen", name, in: owner), .attribute)
        let type = Handle(try checked(H5Aget_type(attribute.id), "H5Aget_type", name, in: owner), .datatype)
        let space = Dataspace(
            handle: Handle(try checked(H5Aget_space(attribute.id), "H5Aget_space", name, in: owner), .dataspace))
        let shape = space.shape
        let scalar = shape.isEmpty
        let count = try Self.count(of: shape, name)
        switch H5Tget_class(type.id) {
        case H5T_INTEGER:
            var values = [Int64](repeating: 0, count: count)
            try check(H5Aread(attribute.id, Int64.hdf5Type, &values), "H5Aread", name, in: owner)
            return scalar ? .int(Int(values[0])) : .ints(values.map { Int($0) })
        case H5T_FLOAT:
            var values = [Double](repeating: 0, count: count)
            try check(H5Aread(attribute.id, Double.hdf5Type, &values), "H5Aread", name, in: owner)
            return scalar ? .double(values[0]) : .doubles(values)
        case H5T_ENUM:
            var values = [Int8](repeating: 0, count: count)
            try check(H5Aread(attribute.id, type.id, &values), "H5Aread", name, in: owner)
            return scalar ? .bool(values[0] != 0) : .bools(values.map { $0 != 0 })
        case H5T_STRING:
            let strings = try readStrings(attribute.id, type.id, space.id, count: count, name: name)
            return scalar ? .string(strings[0]) : .strings(strings)
        default:
            return nil
        }
    }

    private func readStrings(_ attribute: hid_t, _ type: hid_t, _ space: hid_t, count: Int, name: String)
        throws(HDF5Error) -> [String]
    {
        if H5Tis_variable_str(type) > 0 {
            let memoryType = try DerivedType.utf8String()
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try check(H5Aread(attribute, memoryType.id, &pointers), "H5Aread", name, in: owner)
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            H5Dvlen_reclaim(memoryType.id, space, hid_t(H5P_DEFAULT), &pointers)
            return strings
        }
        let size = H5Tget_size(type)
        var bytes = [UInt8](repeating: 0, count: size * count)
        try check(H5Aread(attribute, type, &bytes), "H5Aread", name, in: owner)
        return (0..<count).map { i in
            let slice = bytes[(i * size)..<((i + 1) * size)].prefix { $0 != 0 }
            return String(decoding: slice, as: UTF8.self)
        }
    }

    /// Attribute `name` as text for a person: any HDF5 type (unsigned, enumerations by their
    /// names, compound and other types by their class, an empty dataspace as such), at most
    /// `values` values and `characters` characters of text, and control characters escaped,
    /// so that nothing in a file reaches the terminal raw.
    public func display(_ name: String, values limit: Int = 8, characters: Int = 200) throws(HDF5Error) -> String {
        let attribute = Handle(
            try checked(H5Aopen(objectID, name, hid_t(H5P_DEFAULT)), "H5Aopen", name, in: owner), .attribute)
        let type = Handle(try checked(H5Aget_type(attribute.id), "H5Aget_type", name, in: owner), .datatype)
        let space = Handle(try checked(H5Aget_space(attribute.id), "H5Aget_space", name, in: owner), .dataspace)
        if H5Sget_simple_extent_type(space.id) == H5S_NULL { return "(empty: no value)" }
        let shape = Dataspace(handle: space).shape
        let count = try Self.count(of: shape, name)
        let scalar = shape.isEmpty
        let shown = min(count, limit)
        func list(_ items: [String]) -> String {
            if scalar { return items.first ?? "" }
            let more = count > shown ? ", … (\(count) values)" : ""
            return "[" + items.joined(separator: ", ") + more + "]"
        }
        func firstValues<T: BitwiseCopyable>(_ memoryType: hid_t, _ zero: T) throws(HDF5Error) -> [T] {
            // Read whole (HDF5 reads an attribute at once), but attributes are bounded by the
            // object header or, dense, by what the file holds.
            var values = [T](repeating: zero, count: count)
            let status = values.withUnsafeMutableBytes { H5Aread(attribute.id, memoryType, $0.baseAddress) }
            try check(status, "H5Aread", name, in: owner)
            return Array(values.prefix(shown))
        }
        switch H5Tget_class(type.id) {
        case H5T_INTEGER:
            if H5Tget_sign(type.id) == H5T_SGN_NONE {
                return list(try firstValues(chdf5_native_uint64(), UInt64(0)).map { "\($0)" })
            }
            return list(try firstValues(Int64.hdf5Type, Int64(0)).map { "\($0)" })
        case H5T_FLOAT:
            return list(try firstValues(Double.hdf5Type, 0.0).map { "\($0)" })
        case H5T_ENUM:
            let size = H5Tget_size(type.id)
            var bytes = [UInt8](repeating: 0, count: size * count)
            try check(H5Aread(attribute.id, type.id, &bytes), "H5Aread", name, in: owner)
            let names = (0..<shown).map { index -> String in
                var buffer = [CChar](repeating: 0, count: 256)
                let found = bytes.withUnsafeBytes {
                    H5Tenum_nameof(type.id, $0.baseAddress! + index * size, &buffer, 256)
                }
                if found < 0 { H5Eclear2(chdf5_e_default()) }
                return found < 0 ? "(not a member)" : Self.printable(string(fromCString: buffer), characters)
            }
            // h5py writes booleans as an enumeration of FALSE and TRUE.
            let boolean = H5Tget_nmembers(type.id) == 2 && Set(names).isSubset(of: ["FALSE", "TRUE"])
            return list(boolean ? names.map { $0.lowercased() } : names)
        case H5T_STRING:
            let strings = try readStrings(attribute.id, type.id, space.id, count: count, name: name)
            return list(strings.prefix(shown).map { "\"" + Self.printable($0, characters) + "\"" })
        default:
            let kind =
                switch H5Tget_class(type.id) {
                case H5T_COMPOUND: "a compound type (for example a complex number)"
                case H5T_ARRAY: "an array type"
                case H5T_VLEN: "a variable-length sequence"
                case H5T_OPAQUE: "an opaque type"
                case H5T_REFERENCE: "a reference"
                case H5T_BITFIELD: "a bit field"
                default: "a type Tessera does not show"
                }
            return "(\(kind) of \(H5Tget_size(type.id)) bytes\(scalar ? "" : ", \(count) values"); not shown)"
        }
    }

    /// The values an attribute of `shape` holds; throws past 2^26 (an attribute that big is
    /// damage, and reading it whole would take its size in memory).
    static func count(of shape: [Int], _ name: String) throws(HDF5Error) -> Int {
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= 1 << 26 else {
                throw HDF5Error(call: "H5Aread", context: name, stack: ["the attribute claims \(shape) values"])
            }
            count = product
        }
        return count
    }

    /// `text` with control characters and backslashes escaped, cut to `limit` characters
    /// with a note of its full length.
    public static func printable(_ text: String, _ limit: Int = 200) -> String {
        var out = ""
        var characters = 0
        for scalar in text.unicodeScalars {
            if characters >= limit {
                return out + "… (\(text.utf8.count) bytes)"
            }
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
            characters += 1
        }
        return out
    }
}

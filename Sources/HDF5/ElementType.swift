internal import CHDF5

/// The kinds of element stored in HDF5.
public enum HDF5Element: Sendable {
    case double, float, int64, int32, int8

    /// HDF5's native type for the kind: the one place they are mapped.
    var nativeType: hid_t {
        switch self {
        case .double: chdf5_native_double()
        case .float: chdf5_native_float()
        case .int64: chdf5_native_int64()
        case .int32: chdf5_native_int32()
        case .int8: chdf5_native_int8()
        }
    }
}

/// Swift element types stored in HDF5.
public protocol HDF5Scalar {
    static var hdf5Element: HDF5Element { get }
}
extension HDF5Scalar {
    static var hdf5Type: hid_t { hdf5Element.nativeType }
}

extension Double: HDF5Scalar { public static var hdf5Element: HDF5Element { .double } }
extension Float: HDF5Scalar { public static var hdf5Element: HDF5Element { .float } }
extension Int64: HDF5Scalar { public static var hdf5Element: HDF5Element { .int64 } }
extension Int32: HDF5Scalar { public static var hdf5Element: HDF5Element { .int32 } }
extension Int8: HDF5Scalar { public static var hdf5Element: HDF5Element { .int8 } }

/// Derived types that h5py and The Well's loader expect.
enum DerivedType {
    /// Variable-length UTF-8 string, as h5py writes `str`.
    static func utf8String() throws(HDF5Error) -> Handle {
        let type = Handle(try checked(H5Tcopy(chdf5_c_s1()), "H5Tcopy"), .datatype)
        try check(H5Tset_size(type.id, chdf5_variable()), "H5Tset_size")
        try check(H5Tset_cset(type.id, H5T_CSET_UTF8), "H5Tset_cset")
        return type
    }

    /// h5py's boolean: an 8-bit integer enum with members FALSE = 0 and TRUE = 1, read back
    /// by h5py as `numpy.bool_`.
    static func h5pyBool() throws(HDF5Error) -> Handle {
        let type = Handle(try checked(H5Tenum_create(chdf5_native_int8()), "H5Tenum_create"), .datatype)
        var no: Int8 = 0
        var yes: Int8 = 1
        try check(H5Tenum_insert(type.id, "FALSE", &no), "H5Tenum_insert")
        try check(H5Tenum_insert(type.id, "TRUE", &yes), "H5Tenum_insert")
        return type
    }
}

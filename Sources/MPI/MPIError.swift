internal import CMPI

/// A failed MPI call: the call's name, MPI's error code and MPI's own text for it.
public struct MPIError: Error, CustomStringConvertible, Sendable {
    /// The MPI function that failed, for example `MPI_Isend`.
    public let call: String
    /// The error code the call returned.
    public let code: Int32
    /// The text `MPI_Error_string` gives for `code`.
    public let message: String

    public var description: String { "\(call) failed: \(message) (MPI error \(code))" }
}

/// The one funnel every MPI call goes through: turns a non-success return code into an
/// ``MPIError`` carrying MPI's message. Communicators use `MPI_ERRORS_RETURN`, so errors
/// arrive here instead of aborting the job.
@inline(__always)
func check(_ code: Int32, _ call: StaticString) throws(MPIError) {
    if code != cmpi_success() {
        throw MPIError(call: "\(call)", code: code, message: errorString(code))
    }
}

/// The corresponding C function is `MPI_Error_string`.
func errorString(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
    var length: Int32 = 0
    guard MPI_Error_string(code, &buffer, &length) == cmpi_success() else {
        return "unknown MPI error"
    }
    return text(buffer, length: length)
}

/// The text of a buffer MPI filled with `length` characters. Some MPI libraries count the
/// terminating NUL in `length`, so the text also ends at the first NUL.
func text(_ buffer: [CChar], length: Int32) -> String {
    let bytes = buffer.prefix(Int(length)).prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

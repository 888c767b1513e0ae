internal import CHDF5

/// A failed HDF5 call: the call's name, what Tessera was doing, and HDF5's error stack text.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    /// The HDF5 function that failed, for example `H5Fcreate`.
    public let call: String
    /// What the call was for, for example the file or object name.
    public let context: String
    /// HDF5's error stack, innermost last, one line per entry.
    public let stack: [String]

    public var description: String {
        var text = "\(call) failed"
        if !context.isEmpty { text += " (\(context))" }
        if let cause = stack.last { text += ": \(cause)" }
        if stack.count > 1 { text += "\n  HDF5 error stack:\n" + stack.map { "    \($0)" }.joined(separator: "\n") }
        return text
    }
}

/// Turns off HDF5's habit of printing its error stack to stderr from every rank; errors are
/// captured into ``HDF5Error`` instead. Idempotent.
func quietErrors() {
    H5Eset_auto2(chdf5_e_default(), nil, nil)
}

/// Collects the current thread's HDF5 error stack as text and clears it.
///
/// The corresponding C function is `H5Ewalk2`.
func captureErrorStack() -> [String] {
    final class Lines { var items: [String] = [] }
    let lines = Lines()
    let walker: H5E_walk2_t = { _, entry, data in
        guard let entry, let data else { return 0 }
        let box = Unmanaged<Lines>.fromOpaque(data).takeUnretainedValue()
        let function = entry.pointee.func_name.map { String(cString: $0) } ?? "?"
        let description = entry.pointee.desc.map { String(cString: $0) } ?? ""
        var detail = ""
        var buffer = [CChar](repeating: 0, count: 256)
        if H5Eget_msg(entry.pointee.min_num, nil, &buffer, 256) > 0 {
            detail = string(fromCString: buffer)
        }
        box.items.append("\(function): \(description)\(detail.isEmpty ? "" : " [\(detail)]")")
        return 0
    }
    H5Ewalk2(chdf5_e_default(), H5E_WALK_UPWARD, walker, Unmanaged.passUnretained(lines).toOpaque())
    H5Eclear2(chdf5_e_default())
    return lines.items.reversed()
}

/// The one funnel for HDF5 calls that return an identifier: negative means failure. With
/// `object` in a collectively opened file, a failure aborts the job (``Handle/abortIfCollective(_:)``).
@inline(__always)
func checked(_ id: hid_t, _ call: StaticString, _ context: @autoclosure () -> String = "", in object: Handle? = nil)
    throws(HDF5Error) -> hid_t
{
    if id < 0 { try fail(call, context(), object) }
    return id
}

/// The one funnel for HDF5 calls that return a status: negative means failure.
@inline(__always)
func check(_ status: herr_t, _ call: StaticString, _ context: @autoclosure () -> String = "", in object: Handle? = nil)
    throws(HDF5Error)
{
    if status < 0 { try fail(call, context(), object) }
}

private func fail(_ call: StaticString, _ context: String, _ object: Handle?) throws(HDF5Error) {
    let error = HDF5Error(call: "\(call)", context: context, stack: captureErrorStack())
    object?.abortIfCollective(error)
    throw error
}

/// The text in a NUL-terminated C buffer.
func string(fromCString buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

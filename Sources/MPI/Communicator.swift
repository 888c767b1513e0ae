package import CMPI

#if canImport(Glibc)
    import Glibc
#endif

/// A reduction operator.
public enum ReductionOp: Sendable {
    case sum, max, min

    var handle: MPI_Op {
        switch self {
        case .sum: cmpi_op_sum()
        case .max: cmpi_op_max()
        case .min: cmpi_op_min()
        }
    }
}

/// The kinds of element that cross MPI.
public enum MPIElement: Sendable {
    case double, float, int64, uint64, int32, uint8

    /// MPI's predefined datatype for the kind: the one place they are mapped.
    var datatype: MPI_Datatype {
        switch self {
        case .double: cmpi_double()
        case .float: cmpi_float()
        case .int64: cmpi_int64()
        case .uint64: cmpi_uint64()
        case .int32: cmpi_int32()
        case .uint8: cmpi_uint8()
        }
    }
}

/// Element types that cross MPI.
public protocol MPIScalar {
    static var mpiElement: MPIElement { get }
}
extension MPIScalar {
    static var mpiDatatype: MPI_Datatype { mpiElement.datatype }
}
extension Double: MPIScalar { public static var mpiElement: MPIElement { .double } }
extension Float: MPIScalar { public static var mpiElement: MPIElement { .float } }
extension Int64: MPIScalar { public static var mpiElement: MPIElement { .int64 } }
/// Sums of unsigned 64-bit values wrap modulo 2^64, as C's unsigned arithmetic does.
extension UInt64: MPIScalar { public static var mpiElement: MPIElement { .uint64 } }
extension Int32: MPIScalar { public static var mpiElement: MPIElement { .int32 } }
extension UInt8: MPIScalar { public static var mpiElement: MPIElement { .uint8 } }

#if TESSERA_MPICH
    /// A handle as a C out-parameter holds it: MPICH's handles are integers.
    package typealias CommSlot = MPI_Comm
    typealias RequestSlot = MPI_Request
    package typealias InfoSlot = MPI_Info
#else
    /// A handle as a C out-parameter holds it: Open MPI's handles are pointers, which Swift sees
    /// as optional there.
    package typealias CommSlot = MPI_Comm?
    typealias RequestSlot = MPI_Request?
    package typealias InfoSlot = MPI_Info?
#endif

/// The communicator in `slot`, if any: the same code for both kinds of slot.
func present(_ slot: CommSlot) -> MPI_Comm? { slot }

/// A group of ranks that talk to each other. Communicators this type creates are freed when
/// the last reference goes; the world communicator is never freed.
public final class Communicator {
    /// The C handle, for the package's libraries that take an `MPI_Comm` (parallel HDF5).
    package let handle: MPI_Comm
    private let owned: Bool

    /// This process's rank in the communicator.
    public let rank: Int
    /// The number of ranks.
    public let size: Int

    init(handle: MPI_Comm, owned: Bool) throws(MPIError) {
        self.handle = handle
        self.owned = owned
        var r: Int32 = 0
        var s: Int32 = 0
        try check(MPI_Comm_rank(handle, &r), "MPI_Comm_rank")
        try check(MPI_Comm_size(handle, &s), "MPI_Comm_size")
        self.rank = Int(r)
        self.size = Int(s)
    }

    deinit {
        if owned && MPIEnvironment.isActive {
            var h: CommSlot = handle
            MPI_Comm_free(&h)
        }
    }

    /// The corresponding C function is `MPI_Barrier`.
    public func barrier() throws(MPIError) {
        try check(MPI_Barrier(handle), "MPI_Barrier")
    }

    /// A barrier that waits asleep: it polls every `interval` (and sleeps between polls)
    /// instead of spinning as MPI's blocking calls do, so that a helper thread waiting for the
    /// other ranks leaves its CPU to the simulation.
    ///
    /// The corresponding C functions are `MPI_Ibarrier` and `MPI_Test`.
    public func barrierAsleep(interval: Duration = .microseconds(200)) throws(MPIError) {
        var request: RequestSlot = cmpi_request_null()
        try check(MPI_Ibarrier(handle, &request), "MPI_Ibarrier")
        try Request(handle: request).waitAsleep(interval: interval)
    }

    /// ``allReduce(_:_:)`` waiting asleep, as ``barrierAsleep(interval:)`` does.
    ///
    /// The corresponding C functions are `MPI_Iallreduce` and `MPI_Test`.
    public func allReduceAsleep<T: MPIScalar>(
        _ values: inout [T], _ op: ReductionOp, interval: Duration = .microseconds(200)
    ) throws(MPIError) {
        var request: RequestSlot = cmpi_request_null()
        let count = Int32(values.count)
        // The buffer must stay put until the request completes: wait inside the closure.
        let code = values.withUnsafeMutableBytes { buffer -> Int32 in
            let started = MPI_Iallreduce(
                cmpi_in_place(), buffer.baseAddress, count, T.mpiDatatype, op.handle, handle, &request)
            guard started == cmpi_success() else { return started }
            do throws(MPIError) { try Request(handle: request).waitAsleep(interval: interval) } catch {
                return error.code
            }
            return cmpi_success()
        }
        try check(code, "MPI_Iallreduce")
    }

    /// Combines `values` element-wise across all ranks; every rank gets the result.
    ///
    /// The corresponding C function is `MPI_Allreduce` with `MPI_IN_PLACE`.
    public func allReduce<T: MPIScalar>(_ values: inout [T], _ op: ReductionOp) throws(MPIError) {
        let count = Int32(values.count)
        let code = values.withUnsafeMutableBytes { buffer in
            MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, count, T.mpiDatatype, op.handle, handle)
        }
        try check(code, "MPI_Allreduce")
    }

    /// Combines one value across all ranks.
    public func allReduce<T: MPIScalar>(_ value: T, _ op: ReductionOp) throws(MPIError) -> T {
        var values = [value]
        try allReduce(&values, op)
        return values[0]
    }

    /// Sends `bytes` from `root` to every rank; on the others, `bytes` is replaced.
    ///
    /// The corresponding C function is `MPI_Bcast` (twice: the length, then the bytes).
    public func broadcast(_ bytes: inout [UInt8], root: Int = 0) throws(MPIError) {
        var count = Int64(bytes.count)
        try check(MPI_Bcast(&count, 1, cmpi_int64(), Int32(root), handle), "MPI_Bcast")
        if rank != root { bytes = [UInt8](repeating: 0, count: Int(count)) }
        let code = bytes.withUnsafeMutableBytes { buffer in
            MPI_Bcast(buffer.baseAddress, Int32(count), cmpi_uint8(), Int32(root), handle)
        }
        try check(code, "MPI_Bcast")
    }

    /// Sends a string from `root` to every rank and returns it on all of them.
    public func broadcast(_ text: String, root: Int = 0) throws(MPIError) -> String {
        var bytes = Array(text.utf8)
        try broadcast(&bytes, root: root)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Collects one string from every rank, in rank order, on every rank.
    ///
    /// The corresponding C functions are `MPI_Allgather` (the lengths) and `MPI_Allgatherv`.
    public func allGather(_ text: String) throws(MPIError) -> [String] {
        try allGather(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Collects an array of any length from every rank, in rank order, on every rank.
    ///
    /// The corresponding C functions are `MPI_Allgather` (the lengths) and `MPI_Allgatherv`.
    public func allGather<T: MPIScalar>(_ values: [T]) throws(MPIError) -> [[T]] {
        var lengths = [Int32](repeating: 0, count: size)
        var length = Int32(values.count)
        try check(MPI_Allgather(&length, 1, cmpi_int32(), &lengths, 1, cmpi_int32(), handle), "MPI_Allgather")
        var offsets = [Int32](repeating: 0, count: size)
        for index in lengths.indices.dropFirst() { offsets[index] = offsets[index - 1] + lengths[index - 1] }
        let total = Int(lengths.reduce(0, +))
        var code: Int32 = 0
        let gathered = [T](unsafeUninitializedCapacity: Swift.max(total, 1)) { receive, initialized in
            code = values.withUnsafeBytes { send in
                MPI_Allgatherv(
                    send.baseAddress, length, T.mpiDatatype, receive.baseAddress, lengths, offsets, T.mpiDatatype,
                    handle)
            }
            initialized = total
        }
        try check(code, "MPI_Allgatherv")
        return lengths.indices.map { index in
            let start = Int(offsets[index])
            return Array(gathered[start..<start + Int(lengths[index])])
        }
    }

    /// Starts sending `count` elements at `buffer` to `destination`. The buffer must stay
    /// alive and unchanged until the returned request completes.
    ///
    /// The corresponding C function is `MPI_Isend`.
    public func isend<T: MPIScalar>(
        _ buffer: UnsafePointer<T>, count: Int, to destination: Int, tag: Int
    ) throws(MPIError) -> Request {
        var request: RequestSlot = cmpi_request_null()
        try check(
            MPI_Isend(buffer, Int32(count), T.mpiDatatype, Int32(destination), Int32(tag), handle, &request),
            "MPI_Isend")
        return Request(handle: request)
    }

    /// Starts receiving `count` elements into `buffer` from `source`.
    ///
    /// The corresponding C function is `MPI_Irecv`.
    public func irecv<T: MPIScalar>(
        _ buffer: UnsafeMutablePointer<T>, count: Int, from source: Int, tag: Int
    ) throws(MPIError) -> Request {
        var request: RequestSlot = cmpi_request_null()
        try check(
            MPI_Irecv(buffer, Int32(count), T.mpiDatatype, Int32(source), Int32(tag), handle, &request),
            "MPI_Irecv")
        return Request(handle: request)
    }

    /// The source of a message with `tag` that has arrived from any rank and waits to be
    /// received, or nil when none has; returns at once.
    ///
    /// The corresponding C function is `MPI_Iprobe` with `MPI_ANY_SOURCE`.
    public func arrived(tag: Int) throws(MPIError) -> Int? {
        var flag: Int32 = 0
        var status = MPI_Status()
        try check(MPI_Iprobe(cmpi_any_source(), Int32(tag), handle, &flag, &status), "MPI_Iprobe")
        return flag != 0 ? Int(cmpi_status_source(&status)) : nil
    }

    /// Receives `count` elements from `source` into `buffer`, waiting until they arrive.
    ///
    /// The corresponding C function is `MPI_Recv`.
    public func receive<T: MPIScalar>(
        _ buffer: UnsafeMutablePointer<T>, count: Int, from source: Int, tag: Int
    ) throws(MPIError) {
        try check(
            MPI_Recv(buffer, Int32(count), T.mpiDatatype, Int32(source), Int32(tag), handle, cmpi_status_ignore()),
            "MPI_Recv")
    }

    /// The ranks of this communicator that share this rank's node (its shared memory), ranked
    /// as here. Collective.
    ///
    /// The corresponding C function is `MPI_Comm_split_type` with `MPI_COMM_TYPE_SHARED`.
    public func node() throws(MPIError) -> Communicator {
        var slot: CommSlot = cmpi_comm_null()
        try check(
            MPI_Comm_split_type(handle, cmpi_comm_type_shared(), Int32(rank), cmpi_info_null(), &slot),
            "MPI_Comm_split_type")
        guard let newComm = present(slot), newComm != cmpi_comm_null() else {
            throw MPIError(call: "MPI_Comm_split_type", code: -1, message: "no communicator")
        }
        return try Communicator(handle: newComm, owned: true)
    }

    /// A new communicator with the same ranks, whose messages and collective calls never mix
    /// with this one's: for work on another thread. Collective.
    ///
    /// The corresponding C function is `MPI_Comm_dup`.
    public func duplicate() throws(MPIError) -> Communicator {
        var slot: CommSlot = cmpi_comm_null()
        try check(MPI_Comm_dup(handle, &slot), "MPI_Comm_dup")
        guard let newComm = present(slot), newComm != cmpi_comm_null() else {
            throw MPIError(call: "MPI_Comm_dup", code: -1, message: "no communicator")
        }
        // The duplicate inherits the error handler (MPI_ERRORS_RETURN).
        return try Communicator(handle: newComm, owned: true)
    }

    /// Splits the ranks into groups: those that pass the same `color` form one new
    /// communicator, ranked in the order of `key` (then of their rank here). Collective.
    ///
    /// The corresponding C function is `MPI_Comm_split`.
    public func split(color: Int, key: Int) throws(MPIError) -> Communicator {
        var slot: CommSlot = cmpi_comm_null()
        try check(MPI_Comm_split(handle, Int32(color), Int32(key), &slot), "MPI_Comm_split")
        guard let newComm = present(slot), newComm != cmpi_comm_null() else {
            throw MPIError(call: "MPI_Comm_split", code: -1, message: "no communicator for color \(color)")
        }
        return try Communicator(handle: newComm, owned: true)
    }

    /// A communicator with a Cartesian topology of `dims` ranks per axis, periodic where
    /// `periodic` says; ranks keep their numbers (no reordering), so that the process grid
    /// and the decomposition agree whatever the launcher did.
    ///
    /// The corresponding C function is `MPI_Cart_create`.
    public func cartesian(dims: [Int], periodic: [Bool]) throws(MPIError) -> CartesianCommunicator {
        var d = dims.map { Int32($0) }
        var p = periodic.map { Int32($0 ? 1 : 0) }
        var slot: CommSlot = cmpi_comm_null()
        try check(MPI_Cart_create(handle, Int32(d.count), &d, &p, 0, &slot), "MPI_Cart_create")
        guard let newComm = present(slot), newComm != cmpi_comm_null() else {
            throw MPIError(
                call: "MPI_Cart_create", code: -1,
                message: "the process grid \(dims) needs \(dims.reduce(1, *)) ranks, but there are \(size)")
        }
        return try CartesianCommunicator(handle: newComm, dims: dims)
    }
}

/// A communicator whose ranks form a Cartesian process grid.
public final class CartesianCommunicator {
    /// The communicator itself.
    public let communicator: Communicator
    /// Ranks per axis.
    public let dims: [Int]

    init(handle: MPI_Comm, dims: [Int]) throws(MPIError) {
        self.communicator = try Communicator(handle: handle, owned: true)
        self.dims = dims
    }

    /// The grid coordinates of `rank`.
    ///
    /// The corresponding C function is `MPI_Cart_coords`.
    public func coordinates(of rank: Int) throws(MPIError) -> [Int] {
        var coords = [Int32](repeating: 0, count: dims.count)
        try check(
            MPI_Cart_coords(communicator.handle, Int32(rank), Int32(dims.count), &coords), "MPI_Cart_coords")
        return coords.map { Int($0) }
    }

    /// The rank at grid coordinates `coords` (wrapped on periodic axes).
    ///
    /// The corresponding C function is `MPI_Cart_rank`.
    public func rank(at coords: [Int]) throws(MPIError) -> Int {
        var c = coords.map { Int32($0) }
        var r: Int32 = 0
        try check(MPI_Cart_rank(communicator.handle, &c, &r), "MPI_Cart_rank")
        return Int(r)
    }
}

/// An outstanding nonblocking operation.
public struct Request {
    var handle: RequestSlot

    /// Waits for this request, testing it every `interval` and sleeping in between.
    ///
    /// The corresponding C function is `MPI_Test`.
    func waitAsleep(interval: Duration) throws(MPIError) {
        var slot = handle
        var done: Int32 = 0
        let pause = useconds_t(
            interval.components.attoseconds / 1_000_000_000_000 + interval.components.seconds * 1_000_000)
        while true {
            try check(MPI_Test(&slot, &done, cmpi_status_ignore()), "MPI_Test")
            if done != 0 { return }
            usleep(pause)
        }
    }

    /// Whether this request has completed (then it is null); returns at once.
    ///
    /// The corresponding C function is `MPI_Test`.
    public mutating func test() throws(MPIError) -> Bool {
        var done: Int32 = 0
        try check(MPI_Test(&handle, &done, cmpi_status_ignore()), "MPI_Test")
        return done != 0
    }

    /// Lets the MPI library move every request in `requests` on (a rendezvous's data, for
    /// example) and says whether all have completed; they stay to be waited for either way.
    ///
    /// The corresponding C function is `MPI_Testall`.
    public static func testAll(_ requests: inout [Request]) throws(MPIError) -> Bool {
        if requests.isEmpty { return true }
        var handles = requests.map(\.handle)
        var done: Int32 = 0
        let code = MPI_Testall(Int32(handles.count), &handles, &done, cmpi_statuses_ignore())
        for index in requests.indices { requests[index].handle = handles[index] }
        try check(code, "MPI_Testall")
        return done != 0
    }

    /// Waits for every request in `requests` and resets them to null.
    ///
    /// The corresponding C function is `MPI_Waitall`.
    public static func waitAll(_ requests: inout [Request]) throws(MPIError) {
        if requests.isEmpty { return }
        var handles = requests.map(\.handle)
        let code = MPI_Waitall(Int32(handles.count), &handles, cmpi_statuses_ignore())
        requests.removeAll(keepingCapacity: true)
        try check(code, "MPI_Waitall")
    }
}

/// Key-value hints for MPI-IO (an `MPI_Info`), such as `striping_factor` or `cb_nodes`: what
/// the MPI library should know about how a file is used. Freed with the last reference.
public final class Hints {
    /// The C handle, for the package's libraries that take an `MPI_Info` (parallel HDF5).
    package let handle: MPI_Info

    /// Hints holding `pairs`; the null info when there are none.
    ///
    /// The corresponding C functions are `MPI_Info_create` and `MPI_Info_set`.
    public init(_ pairs: [String: String]) throws(MPIError) {
        guard !pairs.isEmpty else {
            handle = cmpi_info_null()
            return
        }
        var slot: InfoSlot = cmpi_info_null()
        try check(MPI_Info_create(&slot), "MPI_Info_create")
        guard let info = presentInfo(slot) else {
            throw MPIError(call: "MPI_Info_create", code: -1, message: "no info object")
        }
        handle = info
        for key in pairs.keys.sorted() {
            try check(MPI_Info_set(info, key, pairs[key]!), "MPI_Info_set")
        }
    }

    deinit {
        if handle != cmpi_info_null() && MPIEnvironment.isActive {
            var slot: InfoSlot = handle
            MPI_Info_free(&slot)
        }
    }
}

extension Hints {
    /// The hints of an `MPI_Info` that a library handed out as a copy (HDF5's
    /// `H5Pget_fapl_mpio`), with the copy and its communicator's copy freed.
    ///
    /// The corresponding C functions are `MPI_Info_get_nkeys`, `MPI_Info_get_nthkey` and
    /// `MPI_Info_get`.
    package static func takePairs(info: inout InfoSlot, communicator: inout CommSlot) -> [String: String] {
        defer {
            if presentInfo(info) != nil && presentInfo(info) != cmpi_info_null() { MPI_Info_free(&info) }
            if present(communicator) != nil && present(communicator) != cmpi_comm_null() {
                MPI_Comm_free(&communicator)
            }
        }
        guard let handle = presentInfo(info), handle != cmpi_info_null() else { return [:] }
        var count: Int32 = 0
        MPI_Info_get_nkeys(handle, &count)
        var pairs: [String: String] = [:]
        for index in 0..<count {
            var key = [CChar](repeating: 0, count: 256)
            MPI_Info_get_nthkey(handle, index, &key)
            var value = [CChar](repeating: 0, count: 1024)
            var found: Int32 = 0
            MPI_Info_get(handle, key, 1023, &value, &found)
            if found != 0 { pairs[text(key, length: Int32(key.count))] = text(value, length: Int32(value.count)) }
        }
        return pairs
    }
}

/// The info object in `slot`, if any.
private func presentInfo(_ slot: InfoSlot) -> MPI_Info? { slot }

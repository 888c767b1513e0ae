/// One message of a halo exchange: the cells this rank sends toward one neighbour and the
/// ghost cells it receives from the same direction.
public struct HaloMessage: Sendable, Equatable {
    /// The direction of the neighbour: -1, 0 or +1 per axis, not all zero. Faces have one
    /// non-zero entry, edges two, corners three.
    public let direction: [Int]
    /// The neighbour's rank (may be this rank itself on a periodic axis with one rank).
    public let neighbour: Int
    /// Owned cells that the neighbour needs as ghosts, in local coordinates.
    public let send: Box
    /// Ghost cells filled from the neighbour, in local coordinates.
    public let receive: Box
    /// The tag this rank sends with: its direction, so that two messages between the same
    /// pair of ranks (a periodic axis with two ranks) never mix.
    public let sendTag: Int
    /// The tag the neighbour sends with (the opposite direction).
    public let receiveTag: Int
}

/// Which ghost cells a rank fills from neighbours, and which lie beyond the physical
/// boundary and are filled by boundary conditions instead.
///
/// The plan is pure: it is built from the decomposition alone and tested without MPI.
public struct HaloPlan: Sendable {
    /// The rank the plan is for.
    public let rank: Int
    public let layout: LocalLayout
    public let messages: [HaloMessage]
    /// The physical boundaries this block touches: (axis, side) with side -1 (low) or +1 (high).
    public let physicalBoundaries: [(axis: Int, side: Int)]

    public init(decomposition: Decomposition, rank: Int, ghost: [Int]) throws(DecompositionError) {
        let owned = decomposition.ownedBox(of: rank)
        let layout = LocalLayout(owned: owned, ghost: ghost)
        for axis in ghost.indices where ghost[axis] > layout.extent[axis] {
            throw DecompositionError(
                "rank \(rank) owns \(layout.extent[axis]) cells on axis \(axis), fewer than the stencil's \(ghost[axis]) ghost cells; use fewer ranks or a larger grid"
            )
        }
        self.rank = rank
        self.layout = layout
        let coords = decomposition.coordinates(of: rank)
        let dimensions = ghost.count
        var messages: [HaloMessage] = []
        for code in 0..<Self.directionCount(dimensions: dimensions) {
            let direction = Self.direction(code, dimensions: dimensions)
            // Only axes that have ghost cells take part; a direction along a ghost-free axis
            // exchanges nothing.
            guard direction.contains(where: { $0 != 0 }),
                direction.indices.allSatisfy({ direction[$0] == 0 || ghost[$0] > 0 })
            else { continue }
            guard let neighbour = decomposition.rank(at: zip(coords, direction).map(+)) else { continue }
            var send = Box(extent: layout.extent)
            var receive = send
            for axis in direction.indices {
                let n = layout.extent[axis]
                let g = ghost[axis]
                switch direction[axis] {
                case -1:
                    send.lower[axis] = 0
                    send.upper[axis] = g
                    receive.lower[axis] = -g
                    receive.upper[axis] = 0
                case 1:
                    send.lower[axis] = n - g
                    send.upper[axis] = n
                    receive.lower[axis] = n
                    receive.upper[axis] = n + g
                default: break
                }
            }
            messages.append(
                HaloMessage(
                    direction: direction, neighbour: neighbour, send: send, receive: receive,
                    sendTag: code, receiveTag: Self.code(of: direction.map { -$0 })))
        }
        self.messages = messages
        var boundaries: [(Int, Int)] = []
        for axis in ghost.indices where !decomposition.periodic[axis] {
            if coords[axis] == 0 { boundaries.append((axis, -1)) }
            if coords[axis] == decomposition.dims[axis] - 1 { boundaries.append((axis, 1)) }
        }
        self.physicalBoundaries = boundaries
    }

    /// Whether a message comes from another rank (not this rank itself across a periodic axis).
    public func isRemote(_ message: HaloMessage) -> Bool { message.neighbour != rank }

    /// Per axis, whether the ghosts beyond the block's low and high faces come from another
    /// rank. Those are the faces whose ghosts arrive late; ghosts from this rank itself or
    /// from a boundary condition can be filled at once.
    public var remoteFaces: [(low: Bool, high: Bool)] {
        (0..<layout.dimensions).map { axis in
            let faces = messages.filter { message in
                message.direction.indices.allSatisfy { ($0 == axis) == (message.direction[$0] != 0) }
            }
            return (
                faces.contains { $0.direction[axis] < 0 && isRemote($0) },
                faces.contains { $0.direction[axis] > 0 && isRemote($0) }
            )
        }
    }

    /// The number of direction codes for `dimensions` axes (3^dimensions, including the zero
    /// direction).
    static func directionCount(dimensions: Int) -> Int { (0..<dimensions).reduce(1) { r, _ in r * 3 } }

    /// The direction with base-3 code `code` (digit 0, 1, 2 meaning -1, 0, +1; first axis first).
    static func direction(_ code: Int, dimensions: Int) -> [Int] {
        var rest = code
        var direction = [Int](repeating: 0, count: dimensions)
        for axis in (0..<dimensions).reversed() {
            direction[axis] = rest % 3 - 1
            rest /= 3
        }
        return direction
    }

    /// The base-3 code of `direction`.
    static func code(of direction: [Int]) -> Int {
        direction.reduce(0) { $0 * 3 + ($1 + 1) }
    }
}

import Foundation
import Settings
import TestSupport
import Testing

@testable import Grid
@testable import IO

@Suite(.serialized) struct CheckpointTests {
    /// A restart reads its block slab by slab; any slab size, and a block that does not start
    /// at the origin, must give back exactly what was written and the matching checksum.
    @Test func checkpointsReadBackExactlyInSlabsOfAnySize() throws {
        let folder = temporaryPath("checkpoints")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let shape = [9, 5, 6]
        let value = { (p: [Int]) in sin(Double((p[0] * shape[1] + p[1]) * shape[2] + p[2])) * 1e3 }
        let written = ["u", "v"].map {
            Field(name: $0, layout: LocalLayout(owned: Box(extent: shape), ghost: [1, 1, 1]))
        }
        for (index, field) in written.enumerated() {
            Box(extent: shape).forEachPoint { field[$0] = value($0) + Double(index) }
        }
        let physics = PhysicsKey(
            model: "heat", parameters: ["diffusivity": .double(0.1 + 0.2), "modes": .array([.int(1), .int(2)])],
            shape: shape, extent: [1, 2.5, 1e-7], periodic: [true, false, true],
            boundaries: [.periodic, .dirichlet(0.1), .periodic])
        let info = CheckpointInfo(
            step: 7, time: 0.5, dt: 0.1, frames: 2, outputEvery: 5, model: "heat", physics: physics, configText: "c",
            version: "v",
            ranks: 1, processGrid: [1, 1, 1], fields: ["u", "v"])
        let path = try usingMPI { world in
            try Checkpoint.write(info, state: written, shape: shape, directory: folder, communicator: world, keep: 1)
                .path
        }

        let plane = shape[1] * shape[2] * MemoryLayout<Double>.stride
        let decomposition = try Decomposition(shape: shape, dims: [2, 1, 2], periodic: [false, false, false])
        for block in [Box(extent: shape), decomposition.ownedBox(of: 3)] {
            for slabBytes in [1, 2 * plane, 3 * plane - 1, 1 << 20] {
                let layout = LocalLayout(owned: block, ghost: [1, 2, 1])
                let state = ["u", "v"].map { Field(name: $0, layout: layout) }
                for field in state { field.storage.update(repeating: .nan) }
                let scratch = Field(name: "scratch", layout: layout)
                let read = try usingMPI { _ in
                    try Checkpoint.read(path, into: state, scratch: scratch, gridShape: shape, slabBytes: slabBytes)
                }
                // Every bit of the physics, read back from the file, compares equal.
                #expect(read.info == info)
                for (index, field) in state.enumerated() {
                    var exact = true
                    layout.whole.forEachPoint { local in
                        let global = zip(local, block.lower).map(+)
                        let inside = layout.interior.contains(local)
                        let got = field[local]
                        if inside ? got != value(global) + Double(index) : !got.isNaN { exact = false }
                    }
                    #expect(exact, "field \(field.name), block \(block), slabs of \(slabBytes) bytes")
                }
                if block == Box(extent: shape) {
                    #expect(read.sums.allSatisfy { $0.partial == $0.stored }, "slabs of \(slabBytes) bytes")
                } else {
                    let whole = written.map { StateChecksum.partial($0, shape: shape) }
                    #expect(read.sums.map(\.stored) == whole)
                    #expect(read.sums.map(\.partial) == state.map { StateChecksum.partial($0, shape: shape) })
                }
            }
        }
        // A checkpoint of another grid is refused by name, whichever block this rank reads.
        let layout = LocalLayout(owned: Box(extent: shape), ghost: [1, 1, 1])
        let state = ["u", "v"].map { Field(name: $0, layout: layout) }
        let other = [shape[0], shape[1], shape[2] + 1]
        #expect {
            try usingMPI { _ in
                try Checkpoint.read(
                    path, into: state, scratch: Field(name: "scratch", layout: layout), gridShape: other)
            }
        } throws: { "\($0)".contains("is a grid of \(shape) cells, this run's grid is \(other)") }
    }

    /// Every value a restart takes from a checkpoint is covered by its metadata checksum.
    @Test func metadataChecksumCoversEveryValue() {
        let physics = PhysicsKey(
            model: "heat", parameters: ["diffusivity": .double(0.3)], shape: [4, 4], extent: [1, 1],
            periodic: [true, true], boundaries: [.periodic, .periodic])
        func info(step: Int = 20, time: Double = 1, dt: Double = 0.05, frames: Int = 5, every: Int = 5)
            -> CheckpointInfo
        {
            CheckpointInfo(
                step: step, time: time, dt: dt, frames: frames, outputEvery: every, model: "heat", physics: physics,
                configText: "c", version: "v", ranks: 2, processGrid: [2, 1], fields: ["u"])
        }
        let base = MetadataChecksum.of(info(), physicsText: "p", fieldSums: [7])
        #expect(MetadataChecksum.of(info(), physicsText: "p", fieldSums: [7]) == base)
        let changed = [
            MetadataChecksum.of(info(step: 30), physicsText: "p", fieldSums: [7]),
            MetadataChecksum.of(info(time: 1.0.nextUp), physicsText: "p", fieldSums: [7]),
            MetadataChecksum.of(info(dt: 0.05.nextDown), physicsText: "p", fieldSums: [7]),
            MetadataChecksum.of(info(frames: 4), physicsText: "p", fieldSums: [7]),
            MetadataChecksum.of(info(every: 4), physicsText: "p", fieldSums: [7]),
            MetadataChecksum.of(info(), physicsText: "p", fieldSums: [8]),
            MetadataChecksum.of(info(), physicsText: "p", fieldSums: [7, 0]),
            MetadataChecksum.of(info(), physicsText: "q", fieldSums: [7]),
        ]
        #expect(changed.allSatisfy { $0 != base })
        #expect(Set(changed).count == changed.count)
    }

    @Test func checkpointNamesGiveTheirStep() {
        #expect(Checkpoint.step(named: Checkpoint.fileName(step: 20)) == 20)
        #expect(Checkpoint.step(named: "checkpoint-0000000020.hdf5") == 20)
        for name in ["checkpoint-.hdf5", "checkpoint--5.hdf5", "checkpoint-+5.hdf5", "checkpoint-٣.hdf5", "x.hdf5"] {
            #expect(Checkpoint.step(named: name) == nil, "\(name)")
        }
    }
}

import Engine
import Settings

#if canImport(Glibc)
    import Glibc
#endif

/// Building blocks for models' initial states, the same on every rank: each is a function of
/// a cell centre (and of a seed), never of the decomposition.
public enum InitialCondition {
    /// The wave numbers of a model's `modes` parameter (one mode number `m` per axis): `2πm/L`,
    /// or, with `halfOnWalls`, `πm/L` on the axes that do not wrap, so that a sine vanishes on
    /// both walls. The list must cover every axis of the grid.
    public static func waveNumbers(
        _ parameters: Parameters, geometry: Geometry, halfOnWalls: Bool = false
    ) throws(ConfigError) -> [Double] {
        let d = geometry.dimensions
        let modes = parameters.integers("modes")
        guard modes.count >= d else {
            throw ConfigError("model.modes", "needs one mode number per axis (\(d)), got \(modes)")
        }
        return (0..<d).map { a in
            Double(modes[a]) * (geometry.periodic[a] || !halfOnWalls ? 2 : 1) * Double.pi / geometry.extent[a]
        }
    }

    /// `Πₐ sin(kₐ xₐ)`.
    public static func sines(at point: [Double], waveNumbers k: [Double]) -> Double {
        var product = 1.0
        for a in point.indices { product *= sin(k[a] * point[a]) }
        return product
    }

    /// `exp(−r² / 2w²)`, with `r` the distance to `centre` measured to the nearest periodic image
    /// on the axes that wrap (each of length `extent[a]`).
    public static func gaussian(
        at point: [Double], centre: [Double], width: Double, extent: [Double], periodic: [Bool]
    ) -> Double {
        var r2 = 0.0
        for a in point.indices {
            var dx = point[a] - centre[a]
            if periodic[a] {
                dx = dx.truncatingRemainder(dividingBy: extent[a])
                if dx > extent[a] / 2 { dx -= extent[a] } else if dx < -extent[a] / 2 { dx += extent[a] }
            }
            r2 += dx * dx
        }
        return exp(-r2 / (2 * width * width))
    }
}

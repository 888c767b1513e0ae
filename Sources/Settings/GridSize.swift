/// How many cells a grid may have: 2^50, a petabyte of cells in float64. Sizes, offsets and
/// byte counts computed from a shape within it cannot wrap; the input and damaged files are
/// checked against it before anything is allocated.
public enum GridSize {
    public static let maximumCells = 1 << 50

    /// The number of cells of `shape`, or nil when it exceeds ``maximumCells`` (or Int).
    public static func cells(_ shape: [Int]) -> Int? {
        var cells = 1
        for n in shape {
            let (product, overflow) = cells.multipliedReportingOverflow(by: n)
            guard !overflow, product <= maximumCells else { return nil }
            cells = product
        }
        return cells
    }
}

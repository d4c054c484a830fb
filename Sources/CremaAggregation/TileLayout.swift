/// How an aggregate's windows map onto tile series: one series per distinct hop, each
/// retaining what its longest window needs (DESIGN.md, "Windows: the contract").
struct TileLayout: Sendable {
    /// The windows, one feature each, in spec order.
    let windows: [Window]
    /// The hop of each series, in order of first appearance among the windows.
    let hops: [Int64]
    /// The longest window length of each series.
    let longestWindows: [Int64]
    /// The series each window reads, parallel to `windows`.
    let seriesOfWindow: [Int]

    /// Groups the windows by hop.
    ///
    /// - Complexity: O(windows²).
    init(windows: [Window]) {
        var hops: [Int64] = []
        var longest: [Int64] = []
        var seriesOfWindow: [Int] = []
        for window in windows {
            if let series = hops.firstIndex(of: window.hop) {
                longest[series] = Swift.max(longest[series], window.length)
                seriesOfWindow.append(series)
            } else {
                hops.append(window.hop)
                longest.append(window.length)
                seriesOfWindow.append(hops.count - 1)
            }
        }
        self.windows = windows
        self.hops = hops
        self.longestWindows = longest
        self.seriesOfWindow = seriesOfWindow
    }

    /// The lowest tile index series `series` keeps at server time `now`:
    /// `floor((now − W_max) / H)`, the first tile its longest window reads at `now`.
    @inline(__always)
    func retainedTile(series: Int, now: Int64) -> Int64 {
        floorDivide(now &- longestWindows[series], hops[series])
    }
}

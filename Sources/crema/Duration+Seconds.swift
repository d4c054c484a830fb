extension Duration {
    /// The duration in seconds, for figures.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

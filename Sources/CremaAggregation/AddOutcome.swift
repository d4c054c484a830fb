/// What `Aggregator.add` did with an event.
public enum AddOutcome: Sendable, Equatable {
    /// Stored in at least one window tile, or in the lifetime state.
    case kept
    /// Too old for every window: its tiles are no longer kept.
    case late
    /// Not aggregated: its input is null (or there was nothing to do).
    case skipped
}

/// An error of the aggregation layer: a code to branch on and a message a user can act on.
public struct AggregationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name.
        public let name: String

        /// An operation, field type and window combination no aggregator exists for.
        public static let unsupportedAggregate = Code(name: "unsupported_aggregate")
        /// Encoded state bytes that end early or hold an impossible value.
        public static let corruptState = Code(name: "corrupt_state")
        /// Encoded state written in a format version this build cannot read.
        public static let unsupportedVersion = Code(name: "unsupported_version")

        /// The code's name.
        public var description: String { name }
    }

    /// What went wrong.
    public let code: Code
    /// A message naming what was wrong.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The code and the message.
    public var description: String { "\(code): \(message)" }
}

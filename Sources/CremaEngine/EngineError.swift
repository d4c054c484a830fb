/// An error of the engine: a code to branch on and a message a user can act on.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    /// What kind of error this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// A request names an entity, feature or group the spec does not have, or has a malformed id.
        public static let badRequest = Code(name: "bad request")
        /// Storage failed; the engine stops accepting events.
        public static let storage = Code(name: "storage")
        /// Stored data could not be decoded.
        public static let corruption = Code(name: "corruption")
        /// The engine is shutting down or has failed.
        public static let unavailable = Code(name: "unavailable")
        /// The code's name.
        public var description: String { name }
    }

    /// What kind of error this is.
    public let code: Code
    /// What went wrong, for a person.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// One input of an aggregate: its index in the decoded event's fields, its type and name.
public struct AggregateInput: Sendable, Hashable {
    /// The field's index in the decoded event.
    public let index: Int
    /// The field's type.
    public let type: FieldType
    /// The field's name (sequence objects use it as a member name).
    public let name: String

    /// Creates an input.
    public init(index: Int, type: FieldType, name: String) {
        self.index = index
        self.type = type
        self.name = name
    }
}

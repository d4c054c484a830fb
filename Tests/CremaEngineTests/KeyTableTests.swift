@testable import CremaEngine
import Testing

@Suite("KeyTable")
struct KeyTableTests {
    /// Names of every length from 1 to 40 bytes, each a prefix of the next.
    private let names = (1...40).map { length in String((0..<length).map { Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8($0 % 26))) }) }

    private func value(_ table: KeyTable, _ key: String) -> Int? {
        Array(key.utf8).withUnsafeBytes { table.value(for: $0) }
    }

    @Test func findsEveryNameOfEveryLength() {
        let table = KeyTable(names.enumerated().map { ($0.element, $0.offset) })
        for (index, name) in names.enumerated() {
            #expect(value(table, name) == index, "\(name)")
        }
        #expect(value(table, "") == nil)
    }

    @Test func missesKeysThatDifferInOneByteOrInLength() {
        let table = KeyTable(names.enumerated().map { ($0.element, $0.offset) })
        for name in names {
            var bytes = Array(name.utf8)
            for position in bytes.indices {
                let original = bytes[position]
                bytes[position] = UInt8(ascii: "Z")
                #expect(bytes.withUnsafeBytes { table.value(for: $0) } == nil, "\(name) at \(position)")
                bytes[position] = original
            }
            #expect(value(table, name + "Z") == nil)
            #expect(value(table, "Z" + name) == nil)
        }
    }

    @Test func anEmptyNameIsAKeyLikeAnyOther() {
        let table = KeyTable([("", 7), ("seq", 1)])
        #expect(value(table, "") == 7)
        #expect(value(table, "seq") == 1)
        #expect(value(table, "se") == nil)
    }
}

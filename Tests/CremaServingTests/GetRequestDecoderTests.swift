import CremaEngine
import GRPCCore
import NIOCore
import SwiftProtobuf
import Testing

@testable import CremaServing

@Suite("GetRequestDecoder")
struct GetRequestDecoderTests {
    /// What swift-protobuf decodes from `bytes`, split as the decoder splits it: the message
    /// without its text ids, and the text ids.
    private func expected(_ bytes: [UInt8]) throws -> (Crema_V1_GetRequest, [String]) {
        var message = try Crema_V1_GetRequest(serializedBytes: bytes)
        let texts = message.textIds
        message.textIds = []
        return (message, texts)
    }

    private func decode(_ bytes: [UInt8]) throws(RPCError) -> (request: Crema_V1_GetRequest, textIDs: PackedTexts) {
        try GetRequestDecoder.decode(ByteBuffer(bytes: bytes))
    }

    @Test("random requests, text ids among the other fields in any order, decode as swift-protobuf decodes them")
    func agreesWithSwiftProtobuf() throws {
        var random = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["v", "7", "é", "中", "🙂", " "]
        func text() -> String {
            let length = Int.random(in: 0...3, using: &random) == 0 ? Int.random(in: 120...300, using: &random) : Int.random(in: 0...10, using: &random)
            return String((0..<length).map { _ in alphabet.randomElement(using: &random)! })
        }
        for _ in 0..<200 {
            // Protobuf concatenation merges: repeated fields append, singular ones take the last.
            var parts: [Crema_V1_GetRequest] = []
            for _ in 0..<Int.random(in: 1...5, using: &random) {
                parts.append(.with { part in
                    if Bool.random(using: &random) { part.entity = text() }
                    if Bool.random(using: &random) { part.features = (0..<Int.random(in: 1...3, using: &random)).map { _ in text() } }
                    if Bool.random(using: &random) { part.textIds = (0..<Int.random(in: 1...40, using: &random)).map { _ in text() } }
                    if Bool.random(using: &random) { part.at = Int64.random(in: .min ... .max, using: &random) }
                    if Bool.random(using: &random) {
                        part.broadcast = .with { broadcast in
                            broadcast.entity = text()
                            broadcast.id = .with { $0.text = text() }
                            broadcast.features = [text()]
                        }
                    }
                    if Bool.random(using: &random) { part.ids = [.with { $0.number = Int64.random(in: -9...9, using: &random) }] }
                })
            }
            let bytes = try parts.flatMap { try $0.serializedBytes() as [UInt8] }
            let (message, texts) = try expected(bytes)
            let decoded = try decode(bytes)
            #expect(decoded.request == message)
            #expect(Array(decoded.textIDs) == texts)
        }
    }

    @Test("a text id that is not UTF-8 is named by its index")
    func invalidUTF8() throws {
        var bytes: [UInt8] = try Crema_V1_GetRequest.with { $0.entity = "video"; $0.textIds = ["v1", "v2"] }.serializedBytes()
        bytes += [0x32, 2, 0xC3, 0x28]  // field 6, length 2: an invalid two-byte sequence
        let error = #expect(throws: RPCError.self) { try decode(bytes) }
        #expect(error?.code == .internalError)
        #expect(error?.message == "cannot decode the GetRequest: text_ids[2] is not valid UTF-8")
    }

    @Test("malformed messages are errors, not crashes", arguments: [
        ([0x32, 5, 0x61], "overruns the message"),  // text id longer than what is left
        ([0x32], "malformed varint"),  // key without its length
        ([0x30, 0xFF], "malformed varint"),  // varint cut short
        ([0x33, 0x00], "wire type 3"),  // groups are not protobuf 3
        ([0x29, 1, 2, 3], "truncated"),  // fixed64 cut short
    ] as [([UInt8], String)])
    func malformed(bytes: [UInt8], cause: String) {
        let error = #expect(throws: RPCError.self) { try decode(bytes) }
        #expect(error?.code == .internalError)
        #expect(error?.message.contains(cause) == true, "\(error?.message ?? "")")
    }

    @Test("a request without text ids is decoded whole")
    func withoutTextIDs() throws {
        let message = Crema_V1_GetRequest.with { $0.entity = "video"; $0.numberIds = [1, 2, 3]; $0.features = ["a.b"] }
        let decoded = try decode(try message.serializedBytes())
        #expect(decoded.request == message)
        #expect(decoded.textIDs.isEmpty)
    }
}

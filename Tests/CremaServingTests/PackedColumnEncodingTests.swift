import CremaAggregation
import Testing

@testable import CremaEngine
@testable import CremaServing

/// Scalar columns are written from their payloads; the output must be what writing their values
/// one by one gives (for gRPC, byte for byte what swift-protobuf writes).
@Suite("Packed scalar columns encode like their values")
struct PackedColumnEncodingTests {
    /// A column of `count` rows of `kind`, about a third null (none when `nulls` is false).
    private func column(_ kind: ScalarKind, count: Int, nulls: Bool, seed: UInt64) -> ScalarColumn {
        var random = SplitMix64(seed: seed)
        var payloads: [UInt64] = []
        var isPresent: [Bool] = []
        for _ in 0..<count {
            let present = !nulls || random.next() % 3 != 0
            let bits = random.next()
            let payload: UInt64 = switch kind {
            case .int: bits
            case .float: (Double(Int64(bitPattern: bits) % 1_000_000) / 7).bitPattern
            case .bool: bits & 1
            }
            payloads.append(present ? payload : 0)
            isPresent.append(present)
        }
        return ScalarColumn(kind: kind, payloads: payloads, isPresent: isPresent, nullCount: isPresent.filter { !$0 }.count)
    }

    private static let layouts: [(ScalarKind, ColumnLayout)] = [(.int, .int64), (.float, .float64), (.bool, .bool)]

    @Test("gRPC responses: packed columns (values, validity bitmap, length) give swift-protobuf's bytes", arguments: [0, 1, 7, 8, 9, 63, 64, 65, 1_000])
    func grpcColumns(count: Int) throws {
        for (index, (kind, layout)) in Self.layouts.enumerated() {
            for nulls in [false, true] {
                let scalars = column(kind, count: count, nulls: nulls, seed: UInt64(count * 10 + index))
                let values = FeatureColumn.scalars(scalars).values
                // A boxed column and a broadcast around the packed one, and echoed ids.
                var writer = GetResponseWriter()
                let ids = [Crema_V1_EntityId.with { $0.text = "v1" }, .with { $0.number = 7 }]
                try writer.setIDs(ids)
                try writer.appendColumn(name: "f", layout: layout, column: .scalars(scalars))
                try writer.appendColumn(name: "g", layout: .string, column: .boxed(Array(repeating: .string("é"), count: count)))
                try writer.appendBroadcast(name: "b", layout: layout, column: .scalars(scalars))
                let expected = try Crema_V1_GetResponse.with { response in
                    response.ids = ids
                    response.columns = [
                        try ColumnEncoder.encode(name: "f", layout: layout, values: values),
                        try ColumnEncoder.encode(name: "g", layout: .string, values: Array(repeating: .string("é"), count: count)),
                    ]
                    response.broadcast = [try ColumnEncoder.encode(name: "b", layout: layout, values: values)]
                }.serializedBytes() as [UInt8]
                var message = writer.message()
                #expect(message.readInteger(as: UInt8.self) == 0, "not compressed")
                #expect(message.readInteger(as: UInt32.self) == UInt32(expected.count))
                #expect(message.readBytes(length: message.readableBytes) == expected, "\(kind), \(count) rows, nulls: \(nulls)")
            }
        }
    }

    @Test("JSON arrays", arguments: [0, 1, 65])
    func jsonColumns(count: Int) {
        for (index, (kind, _)) in Self.layouts.enumerated() {
            let scalars = column(kind, count: count, nulls: true, seed: UInt64(count * 10 + index))
            var packed = JSONWriter()
            packed.column(.scalars(scalars))
            var oneByOne = JSONWriter()
            oneByOne.column(.boxed(FeatureColumn.scalars(scalars).values))
            #expect(packed.bytes == oneByOne.bytes, "\(kind), \(count) rows")
        }
    }
}

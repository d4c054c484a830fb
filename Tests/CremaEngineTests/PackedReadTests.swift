import CremaAggregation
import CremaEngine
import CremaStorage
import Testing

/// Reads of packed ids (`EntityIDs.texts` / `.numbers`) and the columns reads return.
@Suite("Packed ids and scalar columns")
struct PackedReadTests {
    private static let spec = """
        events:
          order:
            time: ts
            fields: { shop_id: int, country: string, category: string, amount: int, price: float, paid: bool, note: string }
        entities:
          shop: { key: shop_id }
          cohort: { key: [country, category] }
        features:
          shop_stats:
            entity: shop
            from: order
            aggregates:
              orders: { op: count, windows: [1d] }
              amount: { op: sum, field: amount, windows: [1d] }
              price:  { op: mean, field: price, windows: [1d] }
              paid:   { op: last, field: paid }
              note:   { op: last, field: note }
          cohort_stats:
            entity: cohort
            from: order
            aggregates:
              orders: { op: count, windows: [1d] }
        """

    private static let features = [
        "shop_stats.orders_1d", "shop_stats.amount_1d", "shop_stats.price_1d", "shop_stats.paid", "shop_stats.note",
    ]

    private func harnessWithOrders() async throws -> EngineHarness {
        let harness = try EngineHarness(spec: Self.spec)
        let now = harness.clock.now
        try await harness.send([
            #"{"type": "order", "ts": \#(now - 5_000), "shop_id": 1, "country": "US", "category": "toys", "amount": 3, "price": 2.5, "paid": true, "note": "a"}"#,
            #"{"type": "order", "ts": \#(now - 4_000), "shop_id": 1, "country": "US", "category": "toys", "amount": 4, "price": 3.5, "paid": false, "note": "b"}"#,
            #"{"type": "order", "ts": \#(now - 3_000), "shop_id": 2, "country": "FR", "category": "food", "amount": 9, "price": 1.0, "paid": true, "note": "c"}"#,
        ])
        return harness
    }

    @Test("ids as texts, as numbers and as key parts read the same values; never-seen ids are null")
    func packedIdsReadLikeKeyParts() async throws {
        let harness = try await harnessWithOrders()
        let engine = harness.engine!
        let references = try engine.resolve(features: Self.features, of: "shop")
        let parts = try engine.read(ids: .parts([[.int(2)], [.int(1)], [.int(7)], [.string("1")]]), features: references)
        let texts = try engine.read(ids: .texts(["2", "1", "7", "1"]), features: references)
        let numbers = try engine.read(ids: .numbers([2, 1, 7, 1]), features: references)
        #expect(texts.map(\.values) == parts.map(\.values))
        #expect(numbers.map(\.values) == parts.map(\.values))
        #expect(parts.map(\.values) == [
            [.int(1), .int(2), .null, .int(2)],
            [.int(9), .int(7), .null, .int(7)],
            [.float(1.0), .float(3.0), .null, .float(3.0)],
            [.bool(true), .bool(false), .null, .bool(false)],
            [.string("c"), .string("b"), .null, .string("b")],
        ])
    }

    @Test("numbers, floats and Booleans come back packed, with the nulls counted; strings boxed")
    func scalarColumns() async throws {
        let harness = try await harnessWithOrders()
        let engine = harness.engine!
        let references = try engine.resolve(features: Self.features, of: "shop")
        // Twice: the first read computes the values from the rows, the second copies them from the cache.
        for _ in 0..<2 {
            let columns = try engine.read(ids: .numbers([1, 8, 2]), features: references)
            let kinds: [ScalarKind?] = columns.map {
                guard case .scalars(let column) = $0 else { return nil }
                #expect(column.nullCount == 1)
                #expect(column.isPresent == [true, false, true])
                #expect(column.payloads[1] == 0, "a null row's payload is zero")
                return column.kind
            }
            #expect(kinds == [.int, .int, .float, .bool, nil])
            #expect(columns[0].count == 3)
        }
    }

    @Test(
        "a packed id of the wrong shape is named",
        arguments: [
            (EntityIDs.texts(["1", "x"]), "shop", #"ids[1]: key shop_id of entity "shop" is an int, got "x""#),
            (EntityIDs.texts(["US"]), "cohort", #"ids[0]: entity "cohort" has a key of 2 parts, got 1"#),
            (EntityIDs.numbers([4, 5]), "cohort", #"ids[0]: entity "cohort" has a key of 2 parts, got 1"#),
        ]
    )
    func wrongShapes(ids: EntityIDs, entity: String, message: String) async throws {
        let harness = try await harnessWithOrders()
        let engine = harness.engine!
        let features = entity == "shop" ? Self.features : ["cohort_stats.orders_1d"]
        let references = try engine.resolve(features: features, of: entity)
        let error = #expect(throws: EngineError.self) { try engine.read(ids: ids, features: references) }
        #expect(error?.message == message)
        let validation = #expect(throws: EngineError.self) { try engine.validate(ids: ids, of: entity) }
        #expect(validation?.message == message)
    }
}

import Testing

@testable import CremaSpec

/// Group and aggregate ids survive edits elsewhere and change when their definition changes.
@Suite struct StableIDTests {
    static let original = specWithAggregates(
        "views: { op: count, windows: [1d] }",
        "total: { op: sum, field: watch_ms, windows: [1d, 7d] }"
    )

    @Test func fnv1aMatchesReferenceValues() {
        #expect(StableID.fnv1a32("") == 0x811C_9DC5)
        #expect(StableID.fnv1a32("a") == 0xE40C_292C)
        #expect(StableID.fnv1a64("") == 0xCBF2_9CE4_8422_2325)
        #expect(StableID.fnv1a64("a") == 0xAF63_DC4C_8601_EC8C)
    }

    @Test func editsElsewhereKeepIDs() throws {
        let before = try #require(try compiledSpec(Self.original))
        // Another field in the event, an edited sibling aggregate, a new group.
        let edited = Self.original
            .replacingOccurrences(of: "      embedding: vector[4]", with: "      embedding: vector[4]\n      extra: int")
            .replacingOccurrences(of: "windows: [1d, 7d]", with: "windows: [1d, 30d]")
            + "  other:\n    entity: user\n    from: view\n    aggregates:\n      n: { op: count }\n"
        let after = try #require(try compiledSpec(edited))
        #expect(after.groups[0].id == before.groups[0].id)
        #expect(after.groups[0].aggregates[0].id == before.groups[0].aggregates[0].id)
        #expect(after.groups[0].aggregates[1].id != before.groups[0].aggregates[1].id)
        #expect(after.groups[1].id != after.groups[0].id)
    }

    @Test func anyChangeToAnAggregateMakesANewID() throws {
        let before = try #require(try compiledSpec(Self.original)).groups[0].aggregates[0].id
        let variants = [
            "views: { op: count, windows: [1d], hop: 2h }",
            "views: { op: count, windows: [1d, 7d] }",
            "views: { op: count, field: score, windows: [1d] }",
            "views: { op: count, where: liked, windows: [1d] }",
            "views: { op: count }",
        ]
        for variant in variants {
            let yaml = Self.original.replacingOccurrences(of: "views: { op: count, windows: [1d] }", with: variant)
            let id = try #require(try compiledSpec(yaml)).groups[0].aggregates[0].id
            #expect(id != before, "\(variant)")
        }
        let groupWhere = Self.original.replacingOccurrences(of: "    aggregates:", with: "    where: liked\n    aggregates:")
        let spec = try #require(try compiledSpec(groupWhere))
        #expect(spec.groups[0].aggregates[0].id != before, "a group where is part of the aggregate's definition")
        let original = try #require(try compiledSpec(Self.original))
        #expect(spec.groups[0].id == original.groups[0].id, "the group id depends on its name and key only")
    }

    @Test func groupIDDependsOnNameAndKey() throws {
        let original = try #require(try compiledSpec(Self.original)).groups[0].id
        let renamed = try #require(try compiledSpec(Self.original.replacingOccurrences(of: "  stats:", with: "  video_stats:"))).groups[0].id
        let rekeyed = try #require(try compiledSpec(Self.original.replacingOccurrences(of: "entity: video", with: "entity: user"))).groups[0].id
        #expect(renamed != original)
        #expect(rekeyed != original)
    }
}

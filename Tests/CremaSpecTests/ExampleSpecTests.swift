import CremaAggregation
import Foundation
import Testing

@testable import CremaSpec

/// The example spec in specs/ compiles and uses every op.
@Suite struct ExampleSpecTests {
    /// The repository's specs/ directory.
    static let specsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("specs").path

    @Test func exampleSpecCompiles() throws {
        let spec = try SpecCompiler.compile(paths: [Self.specsDirectory]).get()
        #expect(spec.summary == "5 groups, 29 features")
        #expect(spec.events.map(\.name) == ["view", "like", "share", "follow"])
        #expect(spec.event(named: "follow")?.timeField == nil)
        #expect(spec.event(named: "view")?.timeField == "ts")
        #expect(spec.entity(named: "country_category")?.isComposite == true)
        let operations = Set(spec.groups.flatMap(\.aggregates).map(\.operation.name))
        #expect(operations.count == 16)
        let likes = try #require(spec.feature(named: "video_engagement.likes_1h"))
        #expect(likes.aggregate.windows.map(\.hop) == [30 * CremaAggregation.Milliseconds.minute, 30 * CremaAggregation.Milliseconds.minute])
        let embedding = try #require(spec.feature(named: "video_stats.embedding"))
        #expect(embedding.aggregate.fieldTypes == [.vector(dimension: 8)])
        #expect(spec.group(named: "video_stats")?.ttl == 30 * CremaAggregation.Milliseconds.day)
    }
}

/// A directory is one spec: names are global across its files.
@Suite struct MultiFileSpecTests {
    static let events = """
    events:
      view:
        fields: { user_id: string, video_id: string }
    """
    static let entities = """
    entities:
      user: { key: user_id }
    """
    static let features = """
    features:
      history:
        entity: user
        from: view
        aggregates:
          recent: { op: last_n, field: video_id, n: 10 }
    """

    @Test func declarationsSpreadAcrossFiles() throws {
        let spec = try compileFiles([("a_events.yaml", Self.events), ("b_entities.yml", Self.entities), ("c_features.yaml", Self.features), ("notes.txt", "not yaml: [")]).get()
        #expect(spec.summary == "1 group, 1 feature")
        #expect(spec.groups[0].keyFieldIndices == [0])
    }

    @Test func duplicatesAcrossFilesNameBothPlaces() throws {
        let again = "events:\n  click:\n    fields: { user_id: string }\n  view:\n    fields: { user_id: string }\n"
        let result = try compileFiles([("a.yaml", Self.events), ("b.yaml", Self.entities + "\n" + Self.features), ("c.yaml", again)])
        guard case .failure(let errors) = result else {
            Issue.record("expected a duplicate error")
            return
        }
        #expect(errors.errors.count == 1)
        let error = try #require(errors.errors.first)
        #expect(error.file.hasSuffix("/c.yaml"))
        #expect(error.line == 4 && error.column == 3 && error.path == "events.view")
        #expect(error.message.contains("duplicate event `view`, first declared at "))
        #expect(error.message.contains("/a.yaml:2"))
    }

    @Test func filesGivenOneByOneFormOneSpec() throws {
        let directory = try TemporaryDirectory()
        let first = try directory.write("events.yaml", Self.events)
        let second = try directory.write("rest.yaml", Self.entities + "\n" + Self.features)
        let spec = try SpecCompiler.compile(paths: [first, second]).get()
        #expect(spec.groups.map(\.name) == ["history"])
    }

    @Test func missingPathsAndEmptyDirectoriesAreErrors() throws {
        let directory = try TemporaryDirectory()
        guard case .failure(let errors) = SpecCompiler.compile(paths: [directory.path, directory.path + "/missing.yaml"]) else {
            Issue.record("expected errors")
            return
        }
        #expect(errors.errors.count == 2)
        #expect(errors.errors.contains { $0.message.contains("no .yaml or .yml files") })
        #expect(errors.errors.contains { $0.message.contains("no such file") })
    }

    @Test func inMemorySourcesCompile() throws {
        let spec = try SpecCompiler.compile(sources: [("events.yaml", Self.events), ("rest.yaml", Self.entities + "\n" + Self.features)]).get()
        #expect(spec.feature(named: "history.recent")?.featureIndex == 0)
    }
}

import CJemalloc

/// The memory allocator of the crema binary: jemalloc, linked in ahead of glibc's malloc. Applying
/// events allocates and frees many small buffers on several threads; with glibc's allocator
/// `crema bench ingest` (3M view events over the socket) spent ~12 % of its CPU in malloc and
/// free and acknowledged 145,000–157,000 events/s, with jemalloc 196,000 (2026-11-26).
enum Allocator {
    /// The allocator's name and version, as `mallctl("version")` reports it: "jemalloc 5.3.0-…".
    static var description: String {
        var version: UnsafePointer<CChar>?
        var size = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &version, &size, nil, 0) == 0, let version else { return "jemalloc (version unknown)" }
        return "jemalloc \(String(cString: version))"
    }
}

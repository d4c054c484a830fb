extension Array where Element: AnyObject {
    /// Calls `body` with the elements unretained: using one through `_withUnsafeGuaranteedRef`
    /// costs no atomic reference counting (an atomic write on x86, a few dozen cycles per call
    /// on the hot path). Valid while the array is neither changed nor released.
    @inline(__always)
    func withUnretainedElements<Result>(_ body: (UnsafeBufferPointer<Unmanaged<Element>>) -> Result) -> Result {
        withUnsafeBufferPointer { elements in
            elements.withMemoryRebound(to: Unmanaged<Element>.self) { body($0) }
        }
    }
}

/// One result slot per iteration of a `DispatchQueue.concurrentPerform`: each iteration sets
/// its own slot, so no two write the same memory; read `values` once every iteration is done.
final class ConcurrentResults<Value>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<Value?>

    /// `count` empty slots.
    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    deinit {
        _ = slots.deinitialize()
        slots.deallocate()
    }

    /// Sets slot `index`; only the iteration that owns it may call this.
    func set(_ index: Int, _ value: Value) { slots[index] = value }

    /// Every slot's value, in order.
    /// - Precondition: every slot is set.
    var values: [Value] { slots.map { $0! } }
}

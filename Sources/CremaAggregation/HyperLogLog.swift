/// A HyperLogLog sketch with precision 14 (16,384 registers, ≈ 0.8% standard error) over
/// 64-bit hashes, estimated with Ertl's improved raw estimator ("New cardinality estimation
/// algorithms for HyperLogLog sketches", 2017), which needs neither bias tables nor a switch
/// to linear counting.
///
/// Small sets stay sparse: a sorted list of (register, rank) pairs, converted to the dense
/// register array once it holds more than `sparseLimit` registers.
struct HyperLogLog: Sendable, Equatable {
    /// Bits of the hash that pick a register.
    static let precision = 14
    /// The number of registers, 2^precision.
    static let registerCount = 1 << precision
    /// The largest rank a register holds: 64 − precision + 1.
    static let maximumRank = 64 - precision + 1
    /// Sparse entries kept before the sketch turns dense.
    static let sparseLimit = 2_048

    /// While sparse: `register << 8 | rank`, sorted by register, ranks ≥ 1.
    private(set) var sparse: [UInt32] = []
    /// Once dense: one rank per register; empty while sparse.
    private(set) var dense: [UInt8] = []

    /// Creates an empty sketch.
    init() {}

    /// Prefetches the start of the sparse list of the sketch at `address` (a dense sketch's
    /// register depends on the hash: nothing to prefetch ahead).
    @inline(__always)
    static func prefetch(sketchAt address: UnsafeRawPointer) {
        Prefetch.collection(at: address + MemoryLayout<Self>.offset(of: \Self.sparse)!, lines: 2)
    }

    /// Whether no value was added.
    var isEmpty: Bool { sparse.isEmpty && dense.isEmpty }

    /// Adds a value by its 64-bit hash.
    ///
    /// - Complexity: O(1) dense; O(sparseLimit) sparse.
    mutating func insert(hash: UInt64) {
        let register = Int(hash >> UInt64(64 - Self.precision))
        let rest = hash << UInt64(Self.precision)
        let rank = UInt8(Swift.min(rest.leadingZeroBitCount + 1, Self.maximumRank))
        raise(register: register, to: rank)
    }

    /// Raises one register to at least `rank`.
    ///
    /// - Complexity: O(1) dense; O(sparseLimit) sparse.
    private mutating func raise(register: Int, to rank: UInt8) {
        if !dense.isEmpty {
            if dense[register] < rank { dense[register] = rank }
            return
        }
        let key = UInt32(register) << 8
        var low = 0
        var high = sparse.count
        while low < high {
            let middle = (low + high) / 2
            if sparse[middle] & ~0xFF < key { low = middle + 1 } else { high = middle }
        }
        if low < sparse.count && sparse[low] & ~0xFF == key {
            if UInt8(truncatingIfNeeded: sparse[low]) < rank { sparse[low] = key | UInt32(rank) }
            return
        }
        sparse.insert(key | UInt32(rank), at: low, growingFrom: 16)
        if sparse.count > Self.sparseLimit { densify() }
    }

    /// Converts to the dense register array.
    ///
    /// - Complexity: O(registerCount).
    private mutating func densify() {
        dense = registers()
        sparse = []
    }

    /// Every register's rank, dense.
    ///
    /// - Complexity: O(registerCount).
    func registers() -> [UInt8] {
        if !dense.isEmpty { return dense }
        var registers = [UInt8](repeating: 0, count: Self.registerCount)
        for entry in sparse { registers[Int(entry >> 8)] = UInt8(truncatingIfNeeded: entry) }
        return registers
    }

    /// Merges another sketch: the register-wise maximum.
    ///
    /// - Complexity: O(registerCount) when either is dense, else O(sparse sizes).
    mutating func merge(_ other: HyperLogLog) {
        if other.isEmpty { return }
        if isEmpty {
            self = other
            return
        }
        if dense.isEmpty && other.dense.isEmpty {
            for entry in other.sparse { raise(register: Int(entry >> 8), to: UInt8(truncatingIfNeeded: entry)) }
            return
        }
        if dense.isEmpty { densify() }
        if other.dense.isEmpty {
            for entry in other.sparse {
                let register = Int(entry >> 8)
                dense[register] = Swift.max(dense[register], UInt8(truncatingIfNeeded: entry))
            }
        } else {
            for register in 0..<Self.registerCount where dense[register] < other.dense[register] {
                dense[register] = other.dense[register]
            }
        }
    }

    /// The estimated number of distinct values.
    ///
    /// - Complexity: O(registerCount) dense, O(sparse size) sparse.
    func estimate() -> Int64 {
        let registerCount = Double(Self.registerCount)
        var histogram = [Double](repeating: 0, count: Self.maximumRank + 1)
        if dense.isEmpty {
            histogram[0] = registerCount - Double(sparse.count)
            for entry in sparse { histogram[Int(entry & 0xFF)] += 1 }
        } else {
            for rank in dense { histogram[Int(rank)] += 1 }
        }
        if histogram[0] == registerCount { return 0 }
        let q = Self.maximumRank - 1
        var z = registerCount * Self.tau(1 - histogram[q + 1] / registerCount)
        for rank in stride(from: q, through: 1, by: -1) { z = 0.5 * (z + histogram[rank]) }
        z += registerCount * Self.sigma(histogram[0] / registerCount)
        let alpha = 0.721_347_520_444_481_7  // 1 / (2 ln 2)
        return Int64((alpha * registerCount * registerCount / z).rounded())
    }

    /// Ertl's σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k−1).
    private static func sigma(_ value: Double) -> Double {
        if value == 1 { return .infinity }
        var x = value
        var y = 1.0
        var z = value
        while true {
            x *= x
            let previous = z
            z += x * y
            y += y
            if z == previous { return z }
        }
    }

    /// Ertl's τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))² 2^−k) / 3.
    private static func tau(_ value: Double) -> Double {
        if value == 0 || value == 1 { return 0 }
        var x = value
        var y = 1.0
        var z = 1 - value
        while true {
            x = x.squareRoot()
            let previous = z
            y *= 0.5
            z -= (1 - x) * (1 - x) * y
            if z == previous { return z / 3 }
        }
    }

    /// Equal when every register is equal, whether sparse or dense.
    ///
    /// - Complexity: O(registerCount) when the representations differ.
    static func == (lhs: HyperLogLog, rhs: HyperLogLog) -> Bool {
        if lhs.dense.isEmpty && rhs.dense.isEmpty { return lhs.sparse == rhs.sparse }
        return lhs.registers() == rhs.registers()
    }

    /// A tag byte, then for sparse (0) a varint count and per entry a varint register delta
    /// and a rank byte; for dense (1) the ranks packed 6 bits each, four registers in three bytes.
    ///
    /// - Complexity: O(registerCount) dense, O(sparse size) sparse.
    func encode(into bytes: inout [UInt8]) {
        if dense.isEmpty {
            bytes.append(0)
            bytes.appendVarint(UInt64(sparse.count))
            var previous: UInt32 = 0
            for entry in sparse {
                bytes.appendVarint(UInt64((entry >> 8) - previous))
                bytes.append(UInt8(truncatingIfNeeded: entry))
                previous = entry >> 8
            }
            return
        }
        bytes.append(1)
        bytes.reserveCapacity(bytes.count + Self.registerCount * 3 / 4)
        for start in stride(from: 0, to: Self.registerCount, by: 4) {
            let packed = UInt32(dense[start]) | UInt32(dense[start + 1]) << 6
                | UInt32(dense[start + 2]) << 12 | UInt32(dense[start + 3]) << 18
            bytes.append(UInt8(truncatingIfNeeded: packed))
            bytes.append(UInt8(truncatingIfNeeded: packed >> 8))
            bytes.append(UInt8(truncatingIfNeeded: packed >> 16))
        }
    }

    /// Reads what `encode(into:)` wrote.
    ///
    /// - Complexity: O(registerCount) dense, O(sparse size) sparse.
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> HyperLogLog {
        var sketch = HyperLogLog()
        switch try reader.readByte() {
        case 0:
            let count = try reader.readCount(minimumBytesPerElement: 2)
            sketch.sparse.reserveCapacity(count)
            var register: UInt64 = 0
            for position in 0..<count {
                let delta = try reader.readVarint()
                let rank = try reader.readByte()
                guard position == 0 || delta > 0, delta < UInt64(registerCount), rank >= 1,
                      Int(rank) <= maximumRank, register + delta < UInt64(registerCount) else {
                    throw AggregationError(.corruptState, "bad sparse HyperLogLog entry")
                }
                register += delta
                sketch.sparse.append(UInt32(register) << 8 | UInt32(rank))
            }
        case 1:
            guard reader.remaining >= registerCount * 3 / 4 else {
                throw AggregationError(.corruptState, "dense HyperLogLog registers end early")
            }
            sketch.dense.reserveCapacity(registerCount)
            for _ in 0..<(registerCount / 4) {
                let packed = UInt32(try reader.readByte()) | UInt32(try reader.readByte()) << 8
                    | UInt32(try reader.readByte()) << 16
                for shift in stride(from: 0, to: 24, by: 6) {
                    let rank = UInt8(truncatingIfNeeded: packed >> UInt32(shift)) & 0x3F
                    guard Int(rank) <= maximumRank else {
                        throw AggregationError(.corruptState, "HyperLogLog rank \(rank) out of range")
                    }
                    sketch.dense.append(rank)
                }
            }
        case let tag:
            throw AggregationError(.corruptState, "unknown HyperLogLog tag \(tag)")
        }
        return sketch
    }
}

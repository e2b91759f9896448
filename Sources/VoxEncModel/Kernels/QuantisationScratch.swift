// Preallocated buffers of the int8 GEMMs, part of a workspace: nothing is allocated per product.

/// u8 activations [rows, k], int32 accumulators [rows, n], one scale and zero point per row, for products up to the capacities.
public final class QuantisationScratch: @unchecked Sendable {  // one caller at a time (its workspace's owner)
    public let rowCapacity: Int
    /// Widest input (k) and output (n) it holds.
    public let inputCapacity: Int
    public let outputCapacity: Int
    let activations: UnsafeMutablePointer<UInt8>
    let accumulators: UnsafeMutablePointer<Int32>
    let rowScales: UnsafeMutablePointer<Float>
    let rowZeroPoints: UnsafeMutablePointer<Int32>

    public init(rows: Int, inputWidth: Int, outputWidth: Int) {
        rowCapacity = rows
        inputCapacity = inputWidth
        outputCapacity = outputWidth
        // 64-byte aligned: one cache line, one AVX-512 register.
        activations = UnsafeMutableRawPointer.allocate(byteCount: rows * inputWidth, alignment: 64)
            .initializeMemory(as: UInt8.self, repeating: 0, count: rows * inputWidth)
        accumulators = UnsafeMutableRawPointer.allocate(byteCount: 4 * rows * outputWidth, alignment: 64)
            .initializeMemory(as: Int32.self, repeating: 0, count: rows * outputWidth)
        rowScales = .allocate(capacity: rows)
        rowScales.initialize(repeating: 0, count: rows)
        rowZeroPoints = .allocate(capacity: rows)
        rowZeroPoints.initialize(repeating: 0, count: rows)
    }

    deinit {
        activations.deallocate()
        accumulators.deallocate()
        rowScales.deallocate()
        rowZeroPoints.deallocate()
    }

    /// Whether a product of `rows` × k = `inputWidth` → n = `outputWidth` fits.
    public func fits(rows: Int, inputWidth: Int, outputWidth: Int) -> Bool {
        rows <= rowCapacity && rows * inputWidth <= rowCapacity * inputCapacity
            && rows * outputWidth <= rowCapacity * outputCapacity
    }

    public var byteCount: Int { Self.byteCount(rows: rowCapacity, inputWidth: inputCapacity, outputWidth: outputCapacity) }

    public static func byteCount(rows: Int, inputWidth: Int, outputWidth: Int) -> Int {
        rows * inputWidth + 4 * rows * outputWidth + 8 * rows
    }
}

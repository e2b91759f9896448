// libFuzzer target: the safetensors reader (`SafeTensors(contentsOf:)`: 8-byte length, JSON header, validation) on
// arbitrary bytes, then every tensor it accepted: the raw bytes touched end to end, the loadable ones converted.
// Thrown `ModelError`s are fine; a crash, an ASan report, a hang or a broken invariant is a finding.

import VoxEncModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.write(data, size, suffix: "safetensors")
    let file: SafeTensors
    do { file = try SafeTensors(contentsOf: path) } catch { return 0 }

    for name in file.tensorNames {
        guard let info = file.info(name) else { FuzzInput.violated("\(name) is listed but has no info") }
        let bits = info.elementCount.multipliedReportingOverflow(by: info.dtype.bitCount)
        guard !bits.overflow, bits.partialValue == 8 * info.dataOffsets.count,
              info.dataOffsets.lowerBound >= 0, info.dataOffsets.upperBound <= size else {
            FuzzInput.violated("\(name): \(info) does not fit its bytes in a \(size)-byte file")
        }
        do {
            // Every byte of the range must be inside the mapping.
            let checksum = try file.withRawBytes(name) { raw in raw.reduce(0 as UInt8) { $0 &+ $1 } }
            _ = checksum
            if info.dtype.isLoadable {
                let values = try file.floats(name)
                guard values.count == info.elementCount else {
                    FuzzInput.violated("\(name): \(values.count) floats for \(info.elementCount) elements")
                }
            } else {
                do {
                    _ = try file.floats(name)
                    FuzzInput.violated("\(name): \(info.dtype) converted to floats")
                } catch .unsupportedDType {
                } catch {
                    FuzzInput.violated("\(name): \(info.dtype) gave \(error), expected unsupportedDType")
                }
            }
        } catch {
            FuzzInput.violated("\(name): accepted in the header, then \(error)")
        }
    }
    return 0
}

// libFuzzer target: the CTranslate2 model.bin reader (`CTranslate2Model(contentsOf:)`: version, spec, variables,
// aliases) on arbitrary bytes, then every name it accepted: resolved, its bytes touched, converted (`floats`, which
// dequantizes int8/int16 through their scales) and read as an integer attribute. Thrown `ModelError`s are fine; a
// crash, an ASan report, a hang or a broken invariant is a finding.

import VoxEncModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.write(data, size, suffix: "bin")
    let model: CTranslate2Model
    do { model = try CTranslate2Model(contentsOf: path) } catch { return 0 }

    for (alias, target) in model.aliases where !model.variableNames.contains(target) {
        FuzzInput.violated("alias \(alias) → \(target), which is not a stored variable")
    }
    for name in model.allNames {
        guard let variable = model.variable(name) else { FuzzInput.violated("\(name) is listed but does not resolve") }
        let bytes = variable.elementCount.multipliedReportingOverflow(by: variable.dtype.byteCount)
        guard !bytes.overflow, bytes.partialValue == variable.byteRange.count,
              variable.byteRange.lowerBound >= 0, variable.byteRange.upperBound <= size else {
            FuzzInput.violated("\(name): \(variable) does not fit its bytes in a \(size)-byte file")
        }
        _ = model.scaleName(of: name)
        do {
            let checksum = try model.withRawBytes(name) { raw in raw.reduce(0 as UInt8) { $0 &+ $1 } }
            _ = checksum
        } catch {
            FuzzInput.violated("\(name): resolves, then withRawBytes threw \(error)")
        }
        if variable.dtype.isLoadable {
            do {
                let values = try model.floats(name)
                guard values.count == variable.elementCount else {
                    FuzzInput.violated("\(name): \(values.count) floats for \(variable.elementCount) elements")
                }
            } catch {}  // e.g. a quantized variable without a usable scale
        }
        do { _ = try model.integer(name) } catch {}
    }
    return 0
}

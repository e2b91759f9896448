// libFuzzer target: the .npy reader on in-memory bytes (`NumpyArray(data:)`), and for every input it accepts the
// writer round trip: `encoded()` must parse again to the same shape and bit-identical float32 values (NaN payloads
// included). Thrown `NumpyFormatError`s from the first parse are fine; a crash, an ASan report, a hang, a failed
// re-parse or a changed value is a finding.

import Foundation
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Data(bytes: data, count: size)
    let array: NumpyArray
    do { array = try NumpyArray(data: input) } catch { return 0 }

    guard array.shape.allSatisfy({ $0 >= 0 }), array.shape.reduce(1, { $0 * $1 }) == array.values.count else {
        FuzzInput.violated("shape \(array.shape) with \(array.values.count) values")
    }
    let encoded = array.encoded()
    let headerLength = encoded.count - 4 * array.values.count
    guard headerLength > 10, headerLength % 64 == 0 else {
        FuzzInput.violated("encoded header of \(headerLength) bytes for shape \(array.shape) (numpy pads to 64)")
    }
    let again: NumpyArray
    do { again = try NumpyArray(data: encoded) } catch {
        FuzzInput.violated("shape \(array.shape): the encoded array does not parse again: \(error)")
    }
    guard again.shape == array.shape else {
        FuzzInput.violated("round trip changed the shape \(array.shape) → \(again.shape)")
    }
    guard again.values.count == array.values.count,
          zip(again.values, array.values).allSatisfy({ $0.bitPattern == $1.bitPattern }) else {
        FuzzInput.violated("round trip changed the values of a \(array.shape) array")
    }
    return 0
}

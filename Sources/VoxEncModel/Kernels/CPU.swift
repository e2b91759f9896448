// What this CPU offers (CPUID through CVoxEncKernels) and its nominal float32 FMA peak. The GEMM routing
// (GEMMRouting.swift) and `voxenc info` / `voxenc bench` read it; nothing here depends on a library's CPU tables.

import CVoxEncKernels
import Foundation

public struct CPU: Sendable, Equatable {
    /// The widest vector instructions the CPU and OS offer, in order.
    public enum VectorLevel: Int, Sendable, Comparable, CustomStringConvertible {
        case sse = 0, avx, avx2, avx512
        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
        public var description: String { ["sse", "avx", "avx2", "avx512"][rawValue] }
    }

    public let vendor: String
    /// The brand string ("AMD EPYC 9B14", "Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz"; VMs may shorten it).
    public let brand: String
    public let family: Int
    public let model: Int
    /// Feature names as Linux's /proc/cpuinfo spells them ("avx2", "fma", "avx512f", "avx512_bf16", "amx_int8", …).
    public let features: [String]
    /// Cores this process may use.
    public let cores: Int
    /// The clock the kernel reports (MHz; in a VM usually the nominal clock, not the boost), nil when unreadable.
    public let clockMHz: Double?

    /// This machine, read once.
    public static let current = CPU()

    init() {
        var info = voxenc_cpu()
        voxenc_cpu_detect(&info)
        vendor = withUnsafeBytes(of: info.vendor) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        brand = withUnsafeBytes(of: info.brand) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            .trimmingCharacters(in: .whitespaces)
        family = Int(info.family)
        model = Int(info.model)
        let flags: [(String, Int32)] = [
            ("sse3", info.sse3), ("avx", info.avx), ("fma", info.fma), ("avx2", info.avx2),
            ("avx512f", info.avx512f), ("avx512dq", info.avx512dq), ("avx512bw", info.avx512bw),
            ("avx512vl", info.avx512vl), ("avx512_vnni", info.avx512_vnni), ("avx512_bf16", info.avx512_bf16),
            ("avx_vnni", info.avx_vnni), ("amx_tile", info.amx_tile), ("amx_bf16", info.amx_bf16),
            ("amx_int8", info.amx_int8),
        ]
        features = flags.filter { $0.1 != 0 }.map(\.0)
        cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        clockMHz = Self.readClockMHz()
    }

    public func has(_ feature: String) -> Bool { features.contains(feature) }

    public var vectorLevel: VectorLevel {
        if has("avx512f") && has("avx512bw") && has("avx512dq") && has("avx512vl") { return .avx512 }
        if has("avx2") && has("fma") { return .avx2 }
        if has("avx") { return .avx }
        return .sse
    }

    /// float32 multiply-adds one core retires per cycle at its widest FMA: 2 × 256-bit units (Haswell and later,
    /// AMD Zen 1–4: 16), 2 × 512-bit units (Intel Xeon with AVX-512, AMD Zen 5: 32). An estimate from the vector
    /// level and vendor: some Xeon Silver/Bronze parts have one 512-bit unit (16), which CPUID does not tell.
    public var fmaLanesPerCycle: Int {
        switch vectorLevel {
        case .avx512: return vendor == "AuthenticAMD" && family < 26 ? 16 : 32
        case .avx2: return 16
        case .avx: return 8  // multiply and add on separate 256-bit ports, no FMA
        case .sse: return 4
        }
    }

    /// Nominal float32 peak of `threads` cores in GFLOP/s: threads × FMA lanes per cycle × 2 × clock. Nil when the
    /// clock cannot be read. The reported clock of a VM is usually the base clock; cores that boost beat it.
    public func nominalPeakGFLOPS(threads: Int) -> Double? {
        clockMHz.map { Double(threads * fmaLanesPerCycle * 2) * $0 / 1000 }
    }

    /// cpufreq's maximum where the kernel exposes it, else /proc/cpuinfo's "cpu MHz" of the first CPU.
    static func readClockMHz() -> Double? {
        if let text = try? String(contentsOfFile: "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", encoding: .utf8),
           let kHz = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), kHz > 0 {
            return kHz / 1000
        }
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("cpu MHz") {
            if let value = line.split(separator: ":").last.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }),
               value > 0 {
                return value
            }
        }
        return nil
    }

    /// "AMD EPYC (family 25 model 17): avx2 fma avx512f … at 2596 MHz".
    public var summary: String {
        var text = "\(brand.isEmpty ? vendor : brand) (family \(family) model \(model)): \(features.joined(separator: " "))"
        if let clockMHz { text += String(format: " at %.0f MHz", clockMHz) }
        return text
    }
}

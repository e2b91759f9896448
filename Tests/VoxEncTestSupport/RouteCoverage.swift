// What the test run exercised on this CPU: every GEMM route and ISA copy a route-specific test ran, and every one it
// skipped with the reason. The per-route tests record here (`ran` once the route has run, `require` before: a route
// this CPU or build cannot run cancels the test, which Swift Testing reports as skipped); at exit the process prints
// one line, e.g.
//     voxenc coverage: routes run: kernels-avx2 kernels-avx512 kernels-sse2 onednn(avx512_core_bf16) openblas(Haswell) …;
//     skipped: amx-bf16 (this CPU has no AMX-BF16)
// so `swift test` (and .ci/run) shows what ran where, and a route that quietly stopped running is visible. Nothing is
// printed when no route-specific test ran (e.g. a filtered run of other tests, or the XCTest pass).

import Foundation
import Synchronization
import Testing
import VoxEncModel

public enum RouteCoverage {
    private struct State {
        var ran: Set<String> = []
        var skipped: [String: String] = [:]
        /// "test · route" pairs already announced on stdout (a parameterized test's cases share one line).
        var announced: Set<String> = []
    }

    private static let state = Mutex(State())

    /// Registers the line's printer once (at process exit: after every test of the run).
    private static let printer: Void = {
        atexit {
            if let line = RouteCoverage.line { print(line); fflush(nil) }
        }
    }()

    /// Records that `route` ran (the test calls it after the route's own report or result proved it).
    public static func ran(_ route: String) {
        _ = printer
        state.withLock { _ = $0.ran.insert(route) }
    }

    /// Where `runs` is false: records `route` as skipped with `reason`, prints it (the console reporter shows no line
    /// for a cancelled test) and cancels the current test, which Swift Testing reports as skipped, not passed.
    public static func require(_ route: String, _ runs: Bool, _ reason: String) throws {
        guard !runs else { return }
        _ = printer
        let test = Test.current?.displayName ?? Test.current?.name ?? "?"
        let first = state.withLock { state in
            state.skipped[route] = reason
            return state.announced.insert("\(test) · \(route)").inserted
        }
        if first { print("skipped \(route) in \"\(test)\": \(reason)") }
        try Test.cancel(Comment(rawValue: "\(route): \(reason)"))
    }

    /// The coverage line; nil when no route-specific test ran or was skipped.
    public static var line: String? {
        state.withLock { state in
            guard !state.ran.isEmpty || !state.skipped.isEmpty else { return nil }
            // A route that ran in one test and was skipped in another (e.g. one shape) counts as run.
            let skipped = state.skipped.filter { !state.ran.contains($0.key) }.sorted { $0.key < $1.key }
            return "voxenc coverage: routes run: " + (state.ran.isEmpty ? "none" : state.ran.sorted().joined(separator: " "))
                + "; skipped: " + (skipped.isEmpty ? "none" : skipped.map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
        }
    }
}

// MARK: - The routes' names and the reasons they cannot run

extension RouteCoverage {
    /// Records that a copy a route has elsewhere (AMX tiles, say) was not exercised on this CPU, without cancelling
    /// anything: the route itself ran on another copy.
    public static func notExercised(_ copy: String, _ reason: String) {
        _ = printer
        state.withLock { $0.skipped[copy] = reason }
    }

    /// "openblas(Haswell)", "onednn(avx512_core_bf16)", "onednn-matmul(brg:avx512_core)": the backend and the kernel
    /// it runs here; the bare name where this build lacks it.
    public static func name(_ backend: FloatGEMM) -> String {
        backend.isAvailable ? "\(backend.rawValue)(\(backend.kernel))" : backend.rawValue
    }

    /// "bf16(brg:avx512_core_bf16)", or "bf16" where it cannot run.
    public static var bfloat16: String {
        OneDNN.bfloat16MatmulImplementation.map { "bf16(\($0))" } ?? "bf16"
    }

    /// "int8-matmul(brg:avx512_core_vnni)" or "int8-gemm(avx2)": the u8 × s8 route GEMMRouting takes here.
    public static var int8: String {
        guard let route = GEMMRouting.int8Route else { return "int8" }
        return (GEMMRouting.int8UsesMatmul ? "int8-matmul" : "int8-gemm") + "(\(route.kernel))"
    }

    /// Why bf16 cannot run here (nil: it can): the engine's own refusal.
    public static var bfloat16Refusal: String? {
        do { try GEMMRouting.checkBFloat16(); return nil } catch { return "\(error)" }
    }

    /// Why int8 cannot run here (nil: it can).
    public static var int8Refusal: String? {
        do { try Precision.int8.checkSupported(); return nil } catch { return "\(error)" }
    }

    public static let noOneDNN = "this build has no oneDNN (built with VOXENC_ONEDNN=0)"

    /// Cancels the test where this build lacks `backend`; returns its name.
    @discardableResult
    public static func require(_ backend: FloatGEMM) throws -> String {
        try require(name(backend), backend.isAvailable, noOneDNN)
        return name(backend)
    }

    /// Cancels the test where bf16 cannot run here; returns its name.
    @discardableResult
    public static func requireBFloat16() throws -> String {
        try require(bfloat16, bfloat16Refusal == nil, bfloat16Refusal ?? "")
        // The route ran on AVX512-BF16 or on AMX tiles: the other copy is not exercised here.
        if !CPU.current.has("amx_bf16") { notExercised("bf16-amx", "this CPU has no AMX-BF16") }
        return bfloat16
    }

    /// Cancels the test where int8 cannot run here; returns its name.
    @discardableResult
    public static func requireInt8() throws -> String {
        try require(int8, int8Refusal == nil, int8Refusal ?? "")
        if !CPU.current.has("amx_int8") { notExercised("int8-amx", "this CPU has no AMX-INT8") }
        return int8
    }

    /// Cancels the test where `route` cannot run here; returns its name.
    @discardableResult
    public static func require(_ route: LinearRoute) throws -> String {
        switch route {
        case .blas(let backend): return try require(backend)
        case .packed(.bfloat16): return try requireBFloat16()
        case .packed: return try require(.oneDNNMatmul)
        }
    }
}

extension RouteCoverage {
    /// "kernels-avx512": one ISA's copy of the C element-wise kernels.
    public static func name(_ path: KernelPath) -> String { "kernels-\(path.name)" }

    /// Cancels the test where this CPU cannot run `path`'s copy.
    public static func require(_ path: KernelPath) throws {
        try require(name(path), path.isSupported, path.name == "avx512" ? KernelPath.avx512Missing : KernelPath.avx2Missing)
    }

    public static func ran(_ path: KernelPath) { ran(name(path)) }
}

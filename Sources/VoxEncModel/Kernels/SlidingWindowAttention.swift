// Causal multi-head attention over a sliding window of past positions, keys and values kept in a ring.
// Reference: transformers VoxtralRealtimeAttention (eager_attention_forward) with create_sliding_window_causal_mask
// and DynamicSlidingWindowLayer (modeling_voxtral_realtime.py, masking_utils.py, cache_utils.py, 5.25): query p sees
// keys (p − W, p], i.e. W keys including itself; softmax(q·kᵀ · Dh^−½)·v per head; heads concatenated.
// Four queries at a time share each load of a head's keys and values, but every score and output value is one
// multiply-add chain in position order over that query's own window (C kernels voxenc_key_scores /
// voxenc_weighted_rows): a query's result depends only on its position and the ring's contents, never on which
// queries were computed with it — what streaming = offline bit for bit needs.
// The softmax's division is applied to the [Dh] output, as Attention.swift does.
// Letters: H heads, Dh head width, A = H·Dh attention width, W window, C ring capacity (≥ W − 1 + rows per call).

import CVoxEncKernels

/// One layer's keys and values, position p in slot p mod C. Keys are stored transposed per head ([H][Dh][C]) so
/// that the scores of consecutive keys are one vector; values per head ([H][C][Dh]) so that a head's window is one
/// contiguous run of memory (a row-major [C][A] layout strides 4·A bytes per key: a TLB miss per row). Elements are
/// float32, or bf16 (rounded to nearest even as stored: half the memory, the bf16 policy's layers).
public struct KeyValueRing {
    public enum Element: Sendable {
        case float32, bfloat16

        public var byteCount: Int { self == .float32 ? 4 : 2 }
    }

    public let keys: UnsafeMutableRawPointer
    public let values: UnsafeMutableRawPointer
    public let element: Element
    public let capacity: Int
    public let heads: Int
    public let headWidth: Int

    /// A ring in `bytes` (`byteCount` of them): keys, then values.
    public init(_ bytes: UnsafeMutableRawPointer, element: Element, capacity: Int, heads: Int, headWidth: Int) {
        (self.element, self.capacity, self.heads, self.headWidth) = (element, capacity, heads, headWidth)
        keys = bytes
        values = bytes + capacity * heads * headWidth * element.byteCount
    }

    /// Bytes one ring holds (keys and values).
    public static func byteCount(capacity: Int, heads: Int, headWidth: Int, element: Element) -> Int {
        2 * capacity * heads * headWidth * element.byteCount
    }

    /// Writes the keys and values of positions first ..< first + rows (rows of `k`, `v`, `stride` floats apart).
    /// A bf16 ring first rounds them in place (each row's first half then holds its bf16 values).
    public func store(k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, stride: Int, rows: Int,
                      firstPosition: Int) {
        let a = heads * headWidth
        switch element {
        case .float32:
            let (keys, values) = (keys.assumingMemoryBound(to: Float.self), values.assumingMemoryBound(to: Float.self))
            Self.store(k, v, stride: stride, rows: rows, firstPosition: firstPosition, into: keys, values, ring: self)
        case .bfloat16:
            for x in [k, v] {
                x.withMemoryRebound(to: UInt16.self, capacity: 2 * stride * rows) { narrow in
                    voxenc_round_bf16_rows(x, rows, a, stride, narrow, 2 * stride)
                }
            }
            let (keys, values) = (keys.assumingMemoryBound(to: UInt16.self), values.assumingMemoryBound(to: UInt16.self))
            k.withMemoryRebound(to: UInt16.self, capacity: 2 * stride * rows) { k in
                v.withMemoryRebound(to: UInt16.self, capacity: 2 * stride * rows) { v in
                    Self.store(k, v, stride: 2 * stride, rows: rows, firstPosition: firstPosition, into: keys, values,
                               ring: self)
                }
            }
        }
    }

    /// Copies the keys and values of slots 0 ..< `slots` from `source` (same heads, widths and elements; any
    /// capacity).
    public func copy(slots: Int, from source: KeyValueRing) {
        precondition(source.element == element && source.heads == heads && source.headWidth == headWidth,
                     "rings of another shape")
        precondition(slots <= capacity && slots <= source.capacity, "more slots than a ring holds")
        let size = element.byteCount
        for row in 0..<(heads * headWidth) {  // keys: one run of slots per (head, value index)
            (keys + row * capacity * size).copyMemory(from: source.keys + row * source.capacity * size,
                                                      byteCount: slots * size)
        }
        for h in 0..<heads {  // values: one run of slots × Dh per head
            (values + h * capacity * headWidth * size).copyMemory(from: source.values + h * source.capacity * headWidth * size,
                                                                 byteCount: slots * headWidth * size)
        }
    }

    private static func store<E>(_ k: UnsafePointer<E>, _ v: UnsafePointer<E>, stride: Int, rows: Int, firstPosition: Int,
                                 into keys: UnsafeMutablePointer<E>, _ values: UnsafeMutablePointer<E>, ring: Self) {
        let (heads, headWidth, capacity) = (ring.heads, ring.headWidth, ring.capacity)
        for r in 0..<rows {
            let slot = (firstPosition + r) % capacity
            let key = k + r * stride
            for h in 0..<heads {
                let column = keys + h * headWidth * capacity + slot
                for d in 0..<headWidth { column[d * capacity] = key[h * headWidth + d] }
            }
            for h in 0..<heads {
                (values + (h * capacity + slot) * headWidth).update(from: v + r * stride + h * headWidth, count: headWidth)
            }
        }
    }
}

public enum SlidingWindowAttention {
    /// Queries computed together: they share each load of a head's keys and values.
    public static let queriesPerGroup = 4

    /// Scratch floats per worker: a group's rows of scores over the keys any of its queries sees.
    public static func scratchCount(window: Int) -> Int { queriesPerGroup * (window + queriesPerGroup - 1) }

    /// q [rows, A] (rotated and scaled, `stride` floats apart) for positions first ..< first + rows, whose keys and
    /// values are already in `ring` → output [rows, A]. The call's threads split the heads; `scratch` holds
    /// `scratchCount(window:)` floats per thread. Cost: 4·rows·min(W, p + 1)·A flops.
    public static func apply(q: UnsafePointer<Float>, stride: Int, rows: Int, firstPosition: Int, window: Int,
                             ring: KeyValueRing, scratch: UnsafeMutablePointer<Float>,
                             into output: UnsafeMutablePointer<Float>) {
        precondition(ring.capacity >= window - 1 + rows, "ring too small for the window and the rows of one call")
        let (heads, dh, capacity) = (ring.heads, ring.headWidth, ring.capacity)
        let a = heads * dh
        let ld = window + queriesPerGroup - 1  // scores per query row: the group's keys
        let workers = max(1, min(Parallel.threadCount, heads))
        let pointers = UncheckedSendable((q, scratch, output))
        Parallel.forEachRange(workers) { range in
            let (q, scratch, output) = pointers.value
            for worker in range {
                let scores = scratch + worker * scratchCount(window: window)
                for h in Swift.stride(from: worker, to: heads, by: workers) {
                    let size = ring.element.byteCount
                    let keys = ring.keys + h * dh * capacity * size, values = ring.values + h * capacity * dh * size
                    var r = 0
                    while r < rows {
                        // Queries p0 ..< p0 + g together, over keys u ... p0 + g − 1 (every key one of them sees),
                        // in slot order: one run, or two where the ring wraps.
                        let g = min(queriesPerGroup, rows - r)
                        let p0 = firstPosition + r
                        let u = max(0, p0 - window + 1)
                        let n = p0 + g - u
                        let start = u % capacity
                        let run = min(n, capacity - start)
                        let query = q + r * stride + h * dh, out = output + r * a + h * dh
                        Self.keyScores(query, stride, g, keys + start * size, capacity, run, dh, scores, ld, ring.element)
                        if run < n {
                            Self.keyScores(query, stride, g, keys, capacity, n - run, dh, scores + run, ld, ring.element)
                        }
                        // Each query's softmax over its own window; zero probabilities elsewhere, which leave its
                        // sums' bits as they would be over its window alone (+0 + x = x, x + ±0 = x).
                        var inverses: (Float, Float, Float, Float) = (0, 0, 0, 0)
                        withUnsafeMutableBytes(of: &inverses) { inverse in
                            let inverse = inverse.bindMemory(to: Float.self)
                            for i in 0..<g {
                                let first = max(0, p0 + i - window + 1) - u, count = p0 + i - u - first + 1
                                let row = scores + i * ld
                                inverse[i] = 1 / Softmax.exponentiateRow(row + first, width: count)
                                row.update(repeating: 0, count: first)
                                (row + first + count).update(repeating: 0, count: n - first - count)
                                (out + i * a).update(repeating: 0, count: dh)
                            }
                            Self.weightedRows(scores, ld, g, values + start * dh * size, dh, run, dh, out, a, ring.element)
                            if run < n {
                                Self.weightedRows(scores + run, ld, g, values, dh, n - run, dh, out, a, ring.element)
                            }
                            for i in 0..<g {
                                let row = out + i * a
                                for d in 0..<dh { row[d] *= inverse[i] }
                            }
                        }
                        r += g
                    }
                }
            }
        }
    }

    private static func keyScores(_ q: UnsafePointer<Float>, _ ldq: Int, _ queries: Int, _ keys: UnsafeMutableRawPointer,
                                  _ ldk: Int, _ count: Int, _ dh: Int, _ scores: UnsafeMutablePointer<Float>, _ lds: Int,
                                  _ element: KeyValueRing.Element) {
        switch element {
        case .float32:
            voxenc_key_scores(q, ldq, queries, keys.assumingMemoryBound(to: Float.self), ldk, count, dh, scores, lds)
        case .bfloat16:
            voxenc_key_scores_bf16(q, ldq, queries, keys.assumingMemoryBound(to: UInt16.self), ldk, count, dh, scores, lds)
        }
    }

    private static func weightedRows(_ p: UnsafePointer<Float>, _ ldp: Int, _ queries: Int,
                                     _ values: UnsafeMutableRawPointer, _ ldv: Int, _ count: Int, _ dh: Int,
                                     _ out: UnsafeMutablePointer<Float>, _ ldo: Int, _ element: KeyValueRing.Element) {
        switch element {
        case .float32:
            voxenc_weighted_rows(p, ldp, queries, values.assumingMemoryBound(to: Float.self), ldv, count, dh, out, ldo)
        case .bfloat16:
            voxenc_weighted_rows_bf16(p, ldp, queries, values.assumingMemoryBound(to: UInt16.self), ldv, count, dh, out, ldo)
        }
    }
}

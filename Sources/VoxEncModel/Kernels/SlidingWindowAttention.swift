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
/// contiguous run of memory (a row-major [C][A] layout strides 4·A bytes per key: a TLB miss per row).
public struct KeyValueRing {
    public let keys: UnsafeMutablePointer<Float>
    public let values: UnsafeMutablePointer<Float>
    public let capacity: Int
    public let heads: Int
    public let headWidth: Int

    public init(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>, capacity: Int, heads: Int,
                headWidth: Int) {
        (self.keys, self.values, self.capacity, self.heads, self.headWidth) = (keys, values, capacity, heads, headWidth)
    }

    /// Floats one ring holds (keys and values).
    public static func floatCount(capacity: Int, heads: Int, headWidth: Int) -> Int { 2 * capacity * heads * headWidth }

    /// Writes the keys and values of positions first ..< first + rows (rows of `k`, `v`, `stride` floats apart).
    public func store(k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int, rows: Int, firstPosition: Int) {
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
                    let keys = ring.keys + h * dh * capacity, values = ring.values + h * capacity * dh
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
                        voxenc_key_scores(query, stride, g, keys + start, capacity, run, dh, scores, ld)
                        if run < n { voxenc_key_scores(query, stride, g, keys, capacity, n - run, dh, scores + run, ld) }
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
                            voxenc_weighted_rows(scores, ld, g, values + start * dh, dh, run, dh, out, a)
                            if run < n { voxenc_weighted_rows(scores + run, ld, g, values, dh, n - run, dh, out, a) }
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
}

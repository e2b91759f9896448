// GET /metrics: Prometheus text. swift-metrics objects made on this server's own PrometheusMetricsFactory (no
// process-wide bootstrap, so tests can run several servers in one process), and gauges read off the queue.

import CoreMetrics
import Foundation
import Metrics
import Prometheus
import Synchronization
import VoxEnc

// swift-metrics' types (Prometheus has its own of the same names).
private typealias Counter = CoreMetrics.Counter
private typealias Gauge = CoreMetrics.Gauge
private typealias FloatingPointCounter = CoreMetrics.FloatingPointCounter

final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let queueDepth: Gauge
    private let queueWaiting: Gauge
    private let audioSeconds: FloatingPointCounter
    private let chunks: Counter
    private let batches: Counter
    private let sharedBatches: Counter
    private let streamRuns: Counter
    private let streamRunStreams: Counter
    private let sharedStreamRuns: Counter
    private let streamRunSeconds: FloatingPointCounter
    /// The queue's and the live streams' totals at the last scrape: counters advance by the difference.
    private let last = Mutex(EmbeddingQueueStatistics())
    private let lastStreams = Mutex(StreamBatcherStatistics())

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Seconds from the request's arrival to its response: from a short clip alone to an hour of audio queued.
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600),
        ]
        self.factory = factory
        queueDepth = Gauge(label: "voxenc_queue_depth", factory: factory)
        queueWaiting = Gauge(label: "voxenc_queue_waiting", factory: factory)
        audioSeconds = FloatingPointCounter(label: "voxenc_audio_seconds_total", factory: factory)
        chunks = Counter(label: "voxenc_chunks_total", factory: factory)
        batches = Counter(label: "voxenc_encoder_batches_total", factory: factory)
        sharedBatches = Counter(label: "voxenc_shared_encoder_batches_total", factory: factory)
        streamRuns = Counter(label: "voxenc_live_encoder_runs_total", factory: factory)
        streamRunStreams = Counter(label: "voxenc_live_encoder_run_streams_total", factory: factory)
        sharedStreamRuns = Counter(label: "voxenc_live_shared_encoder_runs_total", factory: factory)
        streamRunSeconds = FloatingPointCounter(label: "voxenc_live_encoder_seconds_total", factory: factory)
    }

    /// One response: requests by route and status, latency by route.
    func record(route: String, status: Int, seconds: Double) {
        Counter(label: "voxenc_http_requests_total", dimensions: [("route", route), ("status", String(status))],
                factory: factory).increment()
        if status >= 400 {
            Counter(label: "voxenc_http_errors_total", dimensions: [("route", route), ("status", String(status))],
                    factory: factory).increment()
        }
        CoreMetrics.Timer(label: "voxenc_http_request_duration_seconds", dimensions: [("route", route)],
                      preferredDisplayUnit: .seconds, factory: factory)
            .recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    /// The Prometheus exposition text, the queue's and the live streams' figures brought up to date first.
    func scrape(_ statistics: EmbeddingQueueStatistics, streams: StreamBatcherStatistics) -> String {
        let before = lastStreams.withLock { last in
            defer { last = streams }
            return last
        }
        if streams.runs > before.runs { streamRuns.increment(by: streams.runs - before.runs) }
        if streams.streams > before.streams { streamRunStreams.increment(by: streams.streams - before.streams) }
        if streams.sharedRuns > before.sharedRuns { sharedStreamRuns.increment(by: streams.sharedRuns - before.sharedRuns) }
        if streams.seconds > before.seconds { streamRunSeconds.increment(by: streams.seconds - before.seconds) }
        queueDepth.record(statistics.inFlight)
        queueWaiting.record(statistics.waiting)
        let previous = last.withLock { last in
            defer { last = statistics }
            return last
        }
        if statistics.audioSeconds > previous.audioSeconds {
            audioSeconds.increment(by: statistics.audioSeconds - previous.audioSeconds)
        }
        if statistics.chunks > previous.chunks { chunks.increment(by: statistics.chunks - previous.chunks) }
        if statistics.batches > previous.batches { batches.increment(by: statistics.batches - previous.batches) }
        if statistics.sharedBatches > previous.sharedBatches {
            sharedBatches.increment(by: statistics.sharedBatches - previous.sharedBatches)
        }
        return registry.emitToString()
    }
}


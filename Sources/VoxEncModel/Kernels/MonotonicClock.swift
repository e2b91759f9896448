// The one clock every stage time is read from: CLOCK_MONOTONIC, in seconds.

#if canImport(Glibc)
import Glibc
#endif

public enum MonotonicClock {
    @inline(__always)
    public static func seconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }
}

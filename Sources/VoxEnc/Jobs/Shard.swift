// Which files this worker embeds: shard INDEX of COUNT takes the ids whose stable hash is INDEX modulo COUNT.
// The hash is 64-bit FNV-1a over the id's UTF-8 bytes, so any tool can reproduce the split:
//   python3 -c 'import sys; h=0xcbf29ce484222325
//   for b in sys.argv[1].encode(): h=((h^b)*0x100000001b3)%2**64
//   print(h % int(sys.argv[2]))' ID COUNT
// Depending only on the id (not on the list's order or length), a file keeps its shard when the manifest grows.

public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws(JobError) {
        guard count >= 1 else { throw .invalidShard(text: "\(index)/\(count)", reason: "the count must be at least 1") }
        guard index >= 0 && index < count else {
            throw .invalidShard(text: "\(index)/\(count)", reason: "the index must be in 0…\(count - 1)")
        }
        self.index = index
        self.count = count
    }

    /// "3/8".
    public init(parsing text: String) throws(JobError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw .invalidShard(text: text, reason: "expected INDEX/COUNT")
        }
        try self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    public func contains(id: String) -> Bool {
        Int(Self.stableHash(id) % UInt64(count)) == index
    }

    /// 64-bit FNV-1a of the UTF-8 bytes.
    public static func stableHash(_ id: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// The shard a scheduler gives this process: a Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT,
    /// SLURM_ARRAY_TASK_MIN and _STEP when the array
    /// starts above 0 or steps) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with
    /// the Job's completions as `count`). `count` overrides the scheduler's count.
    public static func fromEnvironment(_ environment: [String: String], count: Int?) throws(JobError) -> Shard {
        if let task = environment["SLURM_ARRAY_TASK_ID"] {
            guard let id = Int(task) else { throw .invalidShard(text: task, reason: "SLURM_ARRAY_TASK_ID is not a number") }
            let minimum = environment["SLURM_ARRAY_TASK_MIN"].flatMap { Int($0) } ?? 0
            let step = max(1, environment["SLURM_ARRAY_TASK_STEP"].flatMap { Int($0) } ?? 1)  // --array=0-30:10
            guard let total = count ?? environment["SLURM_ARRAY_TASK_COUNT"].flatMap({ Int($0) }) else {
                throw .invalidShard(text: "auto", reason: "SLURM_ARRAY_TASK_COUNT is not set; pass --shard-count")
            }
            return try Shard(index: (id - minimum) / step, count: total)
        }
        if let completion = environment["JOB_COMPLETION_INDEX"] {
            guard let index = Int(completion) else {
                throw .invalidShard(text: completion, reason: "JOB_COMPLETION_INDEX is not a number")
            }
            guard let count else {
                throw .invalidShard(text: "auto", reason: "JOB_COMPLETION_INDEX is set but the shard count is not; pass --shard-count (the Job's completions)")
            }
            return try Shard(index: index, count: count)
        }
        throw .invalidShard(text: "auto", reason: "neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set")
    }

    /// Names of the scheduler variables present, for a warning when they are set but --shard was not given.
    public static func schedulerVariables(in environment: [String: String]) -> [String] {
        ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"].filter { environment[$0] != nil }
    }
}

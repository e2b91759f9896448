// The audio members of input tars (--input-tar, e.g. WebDataset shards): one job item each, its id the member's
// WebDataset key ("spk1/utt1.flac" → "spk1/utt1"), its audio read from the archive into memory and decoded there — no
// extraction. Other members (transcripts, JSON) are left alone. A damaged archive gives the members before the damage
// and the damage itself, reported as a failure of that archive.

public enum InputTars {
    /// The audio extensions a member is embedded for.
    public static let audioExtensions: Set<String> = ["wav", "flac", "ogg", "opus", "mp3"]

    public struct Listing: Sendable {
        /// (id: the member's key, the member) in archive order, archive by archive.
        public var members: [(id: String, source: TarMemberSource)]
        /// Archives whose headers stopped short: the members after the damage are not listed.
        public var damaged: [TarError]
    }

    /// Lists the audio members of `archives`. Throws for an archive that cannot be opened or is no tar at all (damaged
    /// at its first header), and for a key found twice (two audio members of one sample, or in two archives).
    public static func list(_ archives: [String]) throws(VoxEncError) -> Listing {
        var listing = Listing(members: [], damaged: [])
        var seen: [String: String] = [:]
        for path in archives {
            let archive: TarArchive
            do { archive = try TarArchive(contentsOf: path) } catch { throw .tar(error) }
            if let damage = archive.damage {
                // Damaged at its first header: not a tar at all, and nothing to embed from it.
                if case .damaged(_, 0, _) = damage { throw .tar(damage) }
                listing.damaged.append(damage)
            }
            for member in archive.members {
                let (key, ext) = TarArchive.keyAndExtension(of: member.name)
                let last = ext.split(separator: ".").last.map { $0.lowercased() } ?? ""
                guard audioExtensions.contains(last) else { continue }
                let input = path + ":" + member.name
                if let other = seen[key] { throw .tar(.duplicateKey(key: key, members: [other, input])) }
                seen[key] = input
                listing.members.append((key, TarMemberSource(archive: path, member: member)))
            }
        }
        return listing
    }
}

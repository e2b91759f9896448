import Testing
import VoxEncAudio
import VoxEncTestSupport

@Suite("Mel filterbank (Slaney scale, Slaney area normalisation)")
struct MelFilterbankTests {
    @Test("matches the reference filters of WhisperFeatureExtractor", arguments: [128, 80])
    func matchesReferenceFilters(melBins: Int) throws {
        let reference = try Fixtures.numpy("frontend/filters-\(melBins).npy")
        #expect(reference.shape == [201, melBins])
        let filterbank = MelFilterbank(melBinCount: melBins)
        let discrepancy = Discrepancy(filterbank.weights, reference.values)
        #expect(discrepancy.maxAbsolute <= FrontEndTolerance.filterbank, "\(discrepancy)")
    }

    @Test("the filter facts of docs/numerics.md (Mel filterbank values) for 128 and 80 bins")
    func specFacts() {
        let bank = MelFilterbank(melBinCount: 128)
        for mel in 0..<128 {
            #expect(bank.weight(bin: 0, mel: mel) == 0)
            #expect(bank.weight(bin: 200, mel: mel) == 0)
        }
        #expect(abs(bank.weight(bin: 1, mel: 0) - 0.0123739867) < FrontEndTolerance.specFilterWeight)
        #expect((0..<201).filter { bank.weight(bin: $0, mel: 0) != 0 } == [1])
        #expect(abs(bank.weight(bin: 1, mel: 1) - 0.0303925648) < FrontEndTolerance.specFilterWeight)
        #expect(abs(bank.weight(bin: 2, mel: 2) - 0.0247479733) < FrontEndTolerance.specFilterWeight)
        #expect(abs(bank.weight(bin: 41, mel: 63) - 0.00693138083) < FrontEndTolerance.specFilterWeight)
        #expect(abs(bank.weight(bin: 42, mel: 63) - 0.0179350469) < FrontEndTolerance.specFilterWeight)
        // Non-zero on 191…199, as the reference filters (filters-128.npy) are (docs/numerics.md).
        #expect((0..<201).filter { bank.weight(bin: $0, mel: 127) != 0 } == Array(191...199))
        #expect(abs(bank.weight(bin: 191, mel: 127) - 0.000475695095) < FrontEndTolerance.specFilterWeightSmall)
        #expect(abs(MelFilterbank.hertzToMel(8000) - 45.245640471924965) < FrontEndTolerance.specHertzToMel)
        let bank80 = MelFilterbank(melBinCount: 80)
        let nonZero80 = (0..<201).filter { bank80.weight(bin: $0, mel: 0) != 0 }
        #expect(nonZero80.count == 1)
        #expect(abs(bank80.weight(bin: nonZero80[0], mel: 0) - 0.02486259) < FrontEndTolerance.specFilterWeight80)
    }

    @Test("each FFT bin feeds at most two filters (what the sparse product relies on)", arguments: [128, 80])
    func atMostTwoFiltersPerBin(melBins: Int) {
        let bank = MelFilterbank(melBinCount: melBins)
        for bin in 0..<201 {
            #expect((0..<melBins).filter { bank.weight(bin: bin, mel: $0) != 0 }.count <= 2)
        }
    }
}

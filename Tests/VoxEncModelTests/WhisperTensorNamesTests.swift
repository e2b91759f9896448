// The role table (WhisperTensor, WhisperTensorNames): the loader's recipe (EncoderTensors) reads each layout's stored
// roles in the roles' case order, which is what keeps the digest's order (WeightReader.swift) tied to the enum; and
// each layout stores q/k/v one way only. The names themselves are pinned by the fixtures' digests.

import Testing
@testable import VoxEncModel

@Suite("Tensor role table")
struct WhisperTensorNamesTests {
    static let configuration = EncoderConfiguration(melBinCount: 80, modelDimension: 64, layerCount: 2, headCount: 4,
                                                    feedForwardDimension: 256)

    @Test("the recipe reads a layout's roles in case order, per-layer roles once per layer",
          arguments: CheckpointLayout.whisperLayouts)
    func recipeFollowsRoleOrder(layout: CheckpointLayout) {
        let names = WhisperTensorNames.for(layout)
        let adapter = AdapterConfiguration(stackFactor: 4, inputDimension: 256, outputDimension: 96)
        let tensors = EncoderTensors(names: names, encoder: Self.configuration, adapter: adapter)
        let roles = WhisperTensor.allCases.filter { $0 != .numHeads }
        let firstLayerRole = roles.firstIndex { $0.isPerLayer }!
        let lastLayerRole = roles.lastIndex { $0.isPerLayer }!
        #expect(roles[firstLayerRole...lastLayerRole].allSatisfy { $0.isPerLayer }, "per-layer roles are contiguous")
        var expected = roles[..<firstLayerRole].compactMap { names[$0] }
        for index in 0..<Self.configuration.layerCount {
            expected += roles[firstLayerRole...lastLayerRole].compactMap { names[$0, layer: index] }
        }
        expected += roles[(lastLayerRole + 1)...].compactMap { names[$0] }
        #expect(tensors.expectations.map(\.name) == expected)
    }

    @Test("q, k, v are stored either apart or fused", arguments: CheckpointLayout.whisperLayouts)
    func qkvOneWay(layout: CheckpointLayout) {
        let names = WhisperTensorNames.for(layout)
        let apart: [WhisperTensor] = [.layerQProjWeight, .layerQProjBias, .layerKProjWeight, .layerVProjWeight,
                                      .layerVProjBias]
        let fused: [WhisperTensor] = [.layerQKVProjWeight, .layerQKVProjBias]
        let storesApart = apart.map { names[$0, layer: 0] != nil }
        let storesFused = fused.map { names[$0, layer: 0] != nil }
        #expect(Set(storesApart).count == 1 && Set(storesFused).count == 1 && storesApart[0] != storesFused[0])
    }
}

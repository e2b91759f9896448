"""The random weights every fixture and benchmark model uses: O(1) activations through any depth.

Linear and conv weights N(0, 1/fan_in) (q_proj and k_proj × QK_GAIN, so attention is clearly not uniform), biases
0.1 N(0, 1), norm weights 1 + 0.1 N(0, 1); drawn in float32 from one torch generator, parameter by parameter in
sorted name order (so a model is reproducible from its seed)."""
import math

import torch

QK_GAIN = 2.5


def draw(name, shape, generator):
    """The float32 values of parameter `name` of `shape`."""
    if len(shape) >= 2:
        std = 1.0 / math.sqrt(math.prod(shape[1:]))
        if name.endswith(("q_proj.weight", "k_proj.weight")):
            std *= QK_GAIN
        return torch.randn(shape, generator=generator) * std
    if name.endswith(".bias"):
        return 0.1 * torch.randn(shape, generator=generator)
    return 1.0 + 0.1 * torch.randn(shape, generator=generator)  # LayerNorm / RMSNorm weights


def fill(model, generator, keep=(), dtype=None):
    """Draws every parameter of `model` but those in `keep`, in sorted name order; rounded through `dtype` when given
    (bf16 fixtures: the reference then runs on exactly the weights stored)."""
    params = dict(model.named_parameters())
    for name in sorted(params):
        if name in keep:
            continue
        p = params[name]
        value = draw(name, tuple(p.shape), generator)
        if dtype is not None:
            value = value.to(dtype).to(torch.float32)
        with torch.no_grad():
            p.copy_(value)
        del value

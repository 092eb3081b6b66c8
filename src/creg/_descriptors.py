"""The descriptors creg._core takes by name: each mirrors one struct of
the C header creg.h, and _core.pyx copies its fields into that struct by
name, so no caller depends on an order of fields.  Values are trusted
here: Network validates them before it builds a descriptor.
"""
from dataclasses import dataclass

# The codes of creg.h's creg_activation and creg_cost.
ACTIVATION_CODES = {"sigmoid": 0, "tanh": 1, "relu": 2, "linear": 3,
                    "softmax": 4}
COST_CODES = {"cross_entropy": 0, "log_likelihood": 1, "quadratic": 2}


@dataclass(frozen=True)
class NetSpec:
    """creg_net: the layer widths (inputs first) and the activations and
    cost by name."""

    sizes: tuple
    hidden: str
    output: str
    cost: str


@dataclass(frozen=True)
class StepRule:
    """creg_step_rule: the update rule of Network.fit, with l2 and l1 already
    scaled (lambda'); max_norm 0 means no clamp."""

    lr: float
    momentum: float = 0.0
    l2: float = 0.0
    l1: float = 0.0
    l1_prox: bool = True
    max_norm: float = 0.0


@dataclass(frozen=True)
class Noise:
    """creg_noise: an epoch's dropout rate and input-noise sigma, and the
    (seed, epoch) that key their random streams."""

    dropout: float = 0.0
    input_noise: float = 0.0
    seed: int = 0
    epoch: int = 0

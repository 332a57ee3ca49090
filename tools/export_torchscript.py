#!/usr/bin/python3
"""Exports the small MNIST classifier that //examples:torchscript trains, as a
TorchScript module: examples/data/mnist_small_cnn.pt (about 40 KB, checked in).

Run with Debian's python3-torch: /usr/bin/python3 tools/export_torchscript.py
The weights are freshly initialized (seed 0): training happens in C++.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCnn(nn.Module):
    """conv(1→8) → ReLU → pool → conv(8→16) → ReLU → pool → fc(784→10); log-probabilities."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.log_softmax(self.fc(x.flatten(1)), dim=1)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "examples", "data",
                                                             "mnist_small_cnn.pt")
    torch.manual_seed(0)
    module = torch.jit.script(SmallCnn())
    module.save(out)
    print(f"wrote {os.path.normpath(out)} ({sum(p.numel() for p in module.parameters())} parameters)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
    from adaptive_version import answer_version  # noqa: E402
    answer_version()
    main()

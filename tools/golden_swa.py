"""Writes tests/data/golden_swa.json for tests/averaging_test.cc: what
PyTorch's torch.optim.swa_utils computes on a small model (Linear(4, 3) then
BatchNorm1d(3)) whose parameters and buffers follow a stored sequence:

  - AveragedModel's averages after each of 12 updates: SWA's running mean
    and an EMA (get_ema_multi_avg_fn), in float32 and float64, with and
    without use_buffers;
  - update_bn's running statistics after a pass over stored batches.

The sequence and the batches are in the file, so the C++ test feeds the same
numbers. Run by tools/make_golden.py on PyTorch 2.13, or alone:

  python3 tools/golden_swa.py

The averages are one ATen op per update (foreach lerp, or copy), the same
op C++ calls, so they are held bit for bit.
"""
import json
import os

import torch
from torch.optim import swa_utils

UPDATES = 12


def model(dtype):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3)).to(dtype)


def tensors(m):
    return list(m.parameters()) + list(m.buffers())


def as_lists(ts):
    return [t.detach().double().flatten().tolist() for t in ts]


def sequence(dtype):
    """The parameter and buffer values of each update (num_batches_tracked counts up)."""
    gen = torch.Generator().manual_seed(1)
    out = []
    m = model(dtype)
    for u in range(UPDATES):
        values = []
        for t in tensors(m):
            if t.dtype == torch.long:
                values.append(torch.tensor(u + 1, dtype=torch.long))
            elif t is m[1].running_var:
                values.append((torch.rand(t.shape, generator=gen, dtype=torch.float64) + 0.5).to(dtype))
            else:
                values.append(torch.randn(t.shape, generator=gen, dtype=torch.float64).to(dtype))
        out.append(values)
    return out


CASES = [
    ("swa_float32", torch.float32, None, False),
    ("swa_float64", torch.float64, None, False),
    ("ema_0.9_float32", torch.float32, 0.9, False),
    ("ema_0.999_float64", torch.float64, 0.999, False),
    ("swa_use_buffers_float32", torch.float32, None, True),
    ("ema_0.8_use_buffers_float64", torch.float64, 0.8, True),
]


@torch.no_grad()
def run(case):
    name, dtype, decay, use_buffers = case
    m = model(dtype)
    fn = swa_utils.get_ema_multi_avg_fn(decay) if decay is not None else None
    avg = swa_utils.AveragedModel(m, multi_avg_fn=fn, use_buffers=use_buffers)
    seq = sequence(dtype)
    averages = []
    for values in seq:
        for t, v in zip(tensors(m), values):
            t.copy_(v)
        avg.update_parameters(m)
        averages.append(as_lists(tensors(avg.module)))
    return {
        "name": name,
        "dtype": str(dtype).replace("torch.", ""),
        "decay": decay,
        "use_buffers": use_buffers,
        "sequence": [as_lists(v) for v in seq],
        "averages": averages,
        "n_averaged": int(avg.n_averaged),
    }


@torch.no_grad()
def update_bn_case():
    m = model(torch.float32)
    gen = torch.Generator().manual_seed(2)
    batches = [torch.randn(5, 4, generator=gen) for _ in range(6)]
    m[1].momentum = 0.3
    swa_utils.update_bn(batches, m)
    return {
        "linear_weight": m[0].weight.double().flatten().tolist(),
        "linear_bias": m[0].bias.double().tolist(),
        "batches": [b.flatten().tolist() for b in batches],
        "running_mean": m[1].running_mean.double().tolist(),
        "running_var": m[1].running_var.double().tolist(),
        "num_batches_tracked": int(m[1].num_batches_tracked),
        "momentum_after": m[1].momentum,
    }


def write(out_path=None):
    out_path = out_path or os.path.join(os.path.dirname(__file__), "..", "tests", "data", "golden_swa.json")
    doc = {
        "generator": "tools/golden_swa.py",
        "torch_version": torch.__version__,
        "cases": [run(c) for c in CASES],
        "update_bn": update_bn_case(),
    }
    with open(out_path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"wrote {len(doc['cases'])} weight-averaging cases (torch {torch.__version__}) to {os.path.normpath(out_path)}")


if __name__ == "__main__":
    write()

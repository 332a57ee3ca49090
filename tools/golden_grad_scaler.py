"""Writes tests/data/golden_grad_scaler.json for tests/grad_scaler_test.cc:
torch.amp.GradScaler("cpu") (PyTorch 2.3 and later) driving torch.optim's Adam
and SGD over a fixed sequence of gradients, with NaN and inf injected and
natural float32 overflow, in float32 and float64: the parameters, the scale
and the growth tracker after every step.

Run by tools/make_golden.py on a torch that has the CPU scaler (Debian's
1.13 has only torch.cuda.amp.GradScaler), or alone:

  python3 tools/golden_grad_scaler.py

The gradients are stored, not computed: the scaler and the update rules are
elementwise (a multiply, adds, a square root, all correctly rounded), so the
trajectories hold bit for bit on any machine, and so need no conditioning
check (the MLP goldens need one because their gradients come from matrix
products, whose rounding differs between CPUs).
"""
import json
import os
import sys

import torch

STEPS = 40
SHAPES = [[6, 4], [6], [1, 6], [1]]

# name, optimizers (kind, parameter indices, options), scaler options,
# injections (step, parameter, flat index, value), clip_grad_value after unscale_ (0: none)
CASES = [
    ("adam", [("adam", [0, 1, 2, 3], {"lr": 1e-2})], {},
     [(5, 1, 2, "inf"), (12, 2, 0, "nan")], 0.0),
    ("sgd_clip_growth", [("sgd", [0, 1, 2, 3], {"lr": 0.05, "momentum": 0.9, "nesterov": True,
                                               "weight_decay": 1e-3})],
     {"init_scale": 1024.0, "growth_interval": 4}, [(9, 0, 7, "-inf")], 0.5),
    ("adam_overflow", [("adam", [0, 1, 2, 3], {"lr": 1e-2, "amsgrad": True, "weight_decay": 0.01})],
     {"init_scale": 2.0 ** 127, "backoff_factor": 0.25, "growth_interval": 3}, [], 0.0),
    ("shared", [("adam", [0, 1], {"lr": 1e-2}), ("sgd", [2, 3], {"lr": 0.05, "momentum": 0.9})],
     {"growth_interval": 6}, [(7, 3, 0, "inf"), (15, 0, 3, "nan")], 0.0),
]


def make_problem():
    g = torch.Generator().manual_seed(20261207)
    init = [torch.randn(*s, generator=g, dtype=torch.float64) * 0.5 for s in SHAPES]
    # Gradients of a few magnitudes: float32 overflow needs |g| ≥ 2 at 2^127.
    grads = [[torch.randn(*s, generator=g, dtype=torch.float64) * (4.0 if t % 3 == 0 else 1.0) for s in SHAPES]
             for t in range(STEPS)]
    return init, grads


def make_optimizer(kind, params, options):
    if kind == "adam":
        return torch.optim.Adam(params, foreach=False, **options)
    return torch.optim.SGD(params, foreach=False, **options)


def run(case, dtype, init, grads):
    name, optimizers, scaler_options, injections, clip_value = case
    params = [t.to(dtype).clone().requires_grad_() for t in init]
    opts = [make_optimizer(kind, [params[i] for i in indices], options) for kind, indices, options in optimizers]
    scaler = torch.amp.GradScaler("cpu", **scaler_options)
    trajectory = {"params": [], "scale": [], "growth_tracker": []}
    for t in range(STEPS):
        for p, g in zip(params, grads[t]):
            p.grad = scaler.scale(g.to(dtype)).detach()
        for step, pi, index, value in injections:
            if step == t:
                params[pi].grad.view(-1)[index] = float(value)
        if clip_value > 0:
            for opt in opts:
                scaler.unscale_(opt)
            torch.nn.utils.clip_grad_value_(params, clip_value)
        for opt in opts:
            scaler.step(opt)
        scaler.update()
        trajectory["params"].append([v for p in params for v in p.detach().double().view(-1).tolist()])
        trajectory["scale"].append(scaler.get_scale())
        trajectory["growth_tracker"].append(scaler._get_growth_tracker())
    return {
        "name": name, "dtype": "float32" if dtype == torch.float32 else "float64",
        "optimizers": [{"kind": k, "params": i, "options": o} for k, i, o in optimizers],
        "scaler": scaler_options,
        "injections": [{"step": s, "param": p, "index": i, "value": v} for s, p, i, v in injections],
        "clip_grad_value": clip_value,
        "trajectory": trajectory,
    }


def write(out_path=None):
    out_path = out_path or os.path.join(os.path.dirname(__file__), "..", "tests", "data", "golden_grad_scaler.json")
    init, grads = make_problem()
    doc = {
        "generator": "tools/golden_grad_scaler.py",
        "torch_version": torch.__version__,
        "steps": STEPS,
        "shapes": SHAPES,
        "init": [t.view(-1).tolist() for t in init],
        "gradients": [[g.view(-1).tolist() for g in step] for step in grads],
        "cases": [run(case, dtype, init, grads) for case in CASES for dtype in (torch.float32, torch.float64)],
    }
    with open(out_path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"wrote {len(doc['cases'])} GradScaler cases (torch {torch.__version__}) to {os.path.normpath(out_path)}")


def has_cpu_grad_scaler():
    return hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler")


if __name__ == "__main__":
    if not has_cpu_grad_scaler():
        sys.exit(f"golden_grad_scaler.py: torch {torch.__version__} has no torch.amp.GradScaler('cpu') (PyTorch 2.3+)")
    write()

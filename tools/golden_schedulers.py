"""Writes tests/data/golden_schedulers.json for tests/scheduler_test.cc:
the learning rates PyTorch's torch.optim.lr_scheduler sets, after
construction and after each of 1,000 steps, for several configurations of
every scheduler adaptive has so far (two parameter groups with their own
rates). Run by tools/make_golden.py on PyTorch 2.13, or alone:

  python3 tools/golden_schedulers.py

A schedule is scalar arithmetic in double (products, quotients, pow, cos:
the same C library functions in Python and C++), so the rates hold bit for
bit on any machine and need no conditioning check.
"""
import json
import math
import os

import torch

STEPS = 1000
GROUP_LRS = [0.1, 0.05]

# The lambdas LambdaLR and MultiplicativeLR take, by the names the C++ test knows.
LAMBDAS = {
    "pow095": lambda e: 0.95 ** e,
    "inv_sqrt": lambda e: 1.0 / math.sqrt(e + 1),
    "const099": lambda e: 0.99,
    "one_minus_inv": lambda e: 1.0 - 1.0 / (e + 10),
}

# name, scheduler, options, lambdas (one for all groups, or one per group)
CASES = [
    ("step_every_30", "StepLR", {"step_size": 30}, None),
    ("step_every_7_half", "StepLR", {"step_size": 7, "gamma": 0.5}, None),
    ("multistep_repeated", "MultiStepLR", {"milestones": [30, 80, 80, 200], "gamma": 0.5}, None),
    ("multistep_default_gamma", "MultiStepLR", {"milestones": [10, 20]}, None),
    ("constant_default", "ConstantLR", {}, None),
    ("constant_half_40", "ConstantLR", {"factor": 0.5, "total_iters": 40}, None),
    ("linear_default", "LinearLR", {}, None),
    ("linear_warmup_300", "LinearLR", {"start_factor": 0.01, "end_factor": 0.9, "total_iters": 300}, None),
    ("exponential", "ExponentialLR", {"gamma": 0.995}, None),
    ("polynomial_default", "PolynomialLR", {}, None),
    ("polynomial_700_power", "PolynomialLR", {"total_iters": 700, "power": 2.5}, None),
    ("cosine_100", "CosineAnnealingLR", {"T_max": 100}, None),
    ("cosine_37_eta_min", "CosineAnnealingLR", {"T_max": 37, "eta_min": 1e-4}, None),
    ("lambda_one", "LambdaLR", {}, ["pow095"]),
    ("lambda_per_group", "LambdaLR", {}, ["pow095", "inv_sqrt"]),
    ("multiplicative_one", "MultiplicativeLR", {}, ["const099"]),
    ("multiplicative_per_group", "MultiplicativeLR", {}, ["const099", "one_minus_inv"]),
]


def run(case):
    name, scheduler, options, lambdas = case
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in GROUP_LRS]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, GROUP_LRS)], lr=GROUP_LRS[0])
    cls = getattr(torch.optim.lr_scheduler, scheduler)
    if lambdas is not None:
        fns = [LAMBDAS[n] for n in lambdas]
        sched = cls(opt, fns[0] if len(fns) == 1 else fns, **options)
    else:
        sched = cls(opt, **options)
    lrs = [list(sched.get_last_lr())]
    for _ in range(STEPS):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
    return {"name": name, "scheduler": scheduler, "options": options, "lambdas": lambdas, "lrs": lrs}


def write(out_path=None):
    out_path = out_path or os.path.join(os.path.dirname(__file__), "..", "tests", "data", "golden_schedulers.json")
    doc = {
        "generator": "tools/golden_schedulers.py",
        "torch_version": torch.__version__,
        "steps": STEPS,
        "group_lrs": GROUP_LRS,
        "cases": [run(c) for c in CASES],
    }
    with open(out_path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"wrote {len(doc['cases'])} scheduler cases (torch {torch.__version__}) to {os.path.normpath(out_path)}")


if __name__ == "__main__":
    write()

"""Writes tests/data/golden_schedulers.json for tests/scheduler_test.cc:
the learning rates PyTorch's torch.optim.lr_scheduler sets, after
construction and after each of 1,000 steps, for several configurations of
every scheduler and SWALR (two parameter groups with their own rates), and
the momentum CyclicLR and OneCycleLR cycle. Run by tools/make_golden.py on PyTorch 2.13, or alone:

  python3 tools/golden_schedulers.py

A schedule is scalar arithmetic in double (products, quotients, pow, cos:
the same C library functions in Python and C++), so the rates hold bit for
bit on any machine and need no conditioning check.
"""
import json
import math
import os

import torch
import torch.optim.swa_utils

STEPS = 1000
GROUP_LRS = [0.1, 0.05]

# The lambdas LambdaLR and MultiplicativeLR take, by the names the C++ test knows.
LAMBDAS = {
    "pow095": lambda e: 0.95 ** e,
    "inv_sqrt": lambda e: 1.0 / math.sqrt(e + 1),
    "const099": lambda e: 0.99,
    "one_minus_inv": lambda e: 1.0 - 1.0 / (e + 10),
}

# The metric ReduceLROnPlateau's cases see at step t (1-based): falling in
# plateaus with a little deterministic wobble; stored in the golden file, so
# the C++ test reads the same numbers.
def plateau_metric(t):
    return 1.0 / (1 + t // 37) + 0.001 * ((t * 7919) % 13)


# name, scheduler, options, lambdas (one for all groups, or one per group);
# composites add "children" (specs of the same shape), and a case may step
# with fractional epochs ("epochs": CosineAnnealingWarmRestarts.step(t / 4)).
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
    ("warm_restarts_50", "CosineAnnealingWarmRestarts", {"T_0": 50}, None),
    ("warm_restarts_mult2_eta_min", "CosineAnnealingWarmRestarts", {"T_0": 10, "T_mult": 2, "eta_min": 1e-3}, None),
    ("warm_restarts_fractional_epochs", "CosineAnnealingWarmRestarts", {"T_0": 7, "T_mult": 3}, None, {"epochs": True}),
    ("cyclic_triangular", "CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 20}, None),
    ("cyclic_triangular2_down", "CyclicLR",
     {"base_lr": [0.01, 0.002], "max_lr": [0.1, 0.05], "step_size_up": 15, "step_size_down": 40,
      "mode": "triangular2", "base_momentum": [0.85, 0.8], "max_momentum": 0.95}, None),
    ("cyclic_exp_range_no_momentum", "CyclicLR",
     {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 33, "mode": "exp_range", "gamma": 0.999,
      "cycle_momentum": False}, None),
    ("one_cycle_default", "OneCycleLR", {"max_lr": 0.1, "total_steps": 1000}, None),
    ("one_cycle_three_phase_linear", "OneCycleLR",
     {"max_lr": [0.1, 0.2], "epochs": 10, "steps_per_epoch": 101, "pct_start": 0.25, "anneal_strategy": "linear",
      "three_phase": True, "div_factor": 10.0, "final_div_factor": 100.0, "base_momentum": 0.8,
      "max_momentum": [0.9, 0.95]}, None),
    ("one_cycle_no_momentum", "OneCycleLR",
     {"max_lr": 0.05, "total_steps": 1200, "pct_start": 0.5, "cycle_momentum": False}, None),
    ("plateau_default", "ReduceLROnPlateau", {}, None),
    ("plateau_max_abs_cooldown", "ReduceLROnPlateau",
     {"mode": "max", "factor": 0.5, "patience": 3, "threshold": 0.01, "threshold_mode": "abs", "cooldown": 5,
      "min_lr": [0.001, 0.0005], "eps": 1e-6}, None),
    ("plateau_rel_min_lr", "ReduceLROnPlateau", {"factor": 0.3, "patience": 0, "threshold": 0.05, "min_lr": 0.004},
     None),
    ("sequential_warmup_cosine", "SequentialLR", {"milestones": [50]}, None,
     {"children": [("LinearLR", {"start_factor": 0.1, "total_iters": 50}, None),
                   ("CosineAnnealingLR", {"T_max": 950, "eta_min": 1e-5}, None)]}),
    ("sequential_three", "SequentialLR", {"milestones": [100, 400]}, None,
     {"children": [("ConstantLR", {"factor": 0.5, "total_iters": 60}, None),
                   ("ExponentialLR", {"gamma": 0.99}, None),
                   ("MultiStepLR", {"milestones": [500, 700], "gamma": 0.3}, None)]}),
    ("sequential_restarts_lambda", "SequentialLR", {"milestones": [30, 300]}, None,
     {"children": [("LambdaLR", {}, ["inv_sqrt"]),
                   ("CosineAnnealingWarmRestarts", {"T_0": 40, "T_mult": 2}, None),
                   ("MultiplicativeLR", {}, ["const099"])]}),
    ("swalr_cos_10", "SWALR", {"swa_lr": 0.01}, None),
    ("swalr_linear_per_group_at_once", "SWALR",
     {"swa_lr": [0.02, 0.001], "anneal_epochs": 0, "anneal_strategy": "linear"}, None),
    ("swalr_linear_37", "SWALR", {"swa_lr": 0.003, "anneal_epochs": 37, "anneal_strategy": "linear"}, None),
    ("sequential_cosine_swalr", "SequentialLR", {"milestones": [600]}, None,
     {"children": [("CosineAnnealingLR", {"T_max": 600}, None),
                   ("SWALR", {"swa_lr": 0.005, "anneal_epochs": 50}, None)]}),
    ("chained_constant_exponential", "ChainedScheduler", {}, None,
     {"children": [("ConstantLR", {"factor": 0.5, "total_iters": 100}, None),
                   ("ExponentialLR", {"gamma": 0.997}, None)]}),
    ("chained_linear_step", "ChainedScheduler", {}, None,
     {"children": [("LinearLR", {"start_factor": 0.2, "total_iters": 80}, None),
                   ("StepLR", {"step_size": 150, "gamma": 0.7}, None),
                   ("PolynomialLR", {"total_iters": 900, "power": 1.5}, None)]}),
]


def make(opt, scheduler, options, lambdas, extra):
    cls = getattr(torch.optim.lr_scheduler, scheduler, None) or getattr(torch.optim.swa_utils, scheduler)
    if "children" in extra:
        children = [make(opt, s, o, l, {}) for s, o, l in extra["children"]]
        if scheduler == "ChainedScheduler":
            return cls(children, optimizer=opt)
        return cls(opt, children, **options)
    if lambdas is not None:
        fns = [LAMBDAS[n] for n in lambdas]
        return cls(opt, fns[0] if len(fns) == 1 else fns, **options)
    return cls(opt, **options)


def spec(scheduler, options, lambdas, extra):
    out = {"scheduler": scheduler, "options": options, "lambdas": lambdas}
    if "children" in extra:
        out["children"] = [spec(s, o, l, {}) for s, o, l in extra["children"]]
    return out


def run(case):
    name, scheduler, options, lambdas = case[:4]
    extra = case[4] if len(case) > 4 else {}
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in GROUP_LRS]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, GROUP_LRS)], lr=GROUP_LRS[0])
    sched = make(opt, scheduler, options, lambdas, extra)
    cycles_momentum = scheduler in ("CyclicLR", "OneCycleLR") and options.get("cycle_momentum", True)
    lrs = [list(sched.get_last_lr())]
    momentums = [[g["momentum"] for g in opt.param_groups]]
    metrics, epochs = [], []
    for t in range(1, STEPS + 1):
        opt.step()
        if scheduler == "ReduceLROnPlateau":
            metric = plateau_metric(t) * (-1 if options.get("mode") == "max" else 1)
            metrics.append(metric)
            sched.step(metric)
        elif extra.get("epochs"):
            epochs.append(t / 4)
            sched.step(t / 4)
        else:
            sched.step()
        lrs.append(list(sched.get_last_lr()))
        momentums.append([g["momentum"] for g in opt.param_groups])
    out = {"name": name, **spec(scheduler, options, lambdas, extra), "lrs": lrs}
    if cycles_momentum:
        out["momentums"] = momentums
    if metrics:
        out["metrics"] = metrics
    if epochs:
        out["epochs"] = epochs
    return out


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

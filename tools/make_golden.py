#!/usr/bin/env python3
"""Writes tests/data/golden_trajectories_<major>.<minor>.json: parameter
trajectories of PyTorch's Python optimizers (torch.optim, the reference
implementation) on the MLP regression the C++ tests use, in float64, for
tests/python_golden_test.cc, which reads the file of the LibTorch it is built
against.

  python3 tools/make_golden.py            PyTorch 2.13 (the wheel tools/setup installs)
  /usr/bin/python3 tools/make_golden.py   Debian's python3-torch 1.13

With a torch that has torch.amp.GradScaler("cpu") (2.3 on), it also writes
tests/data/golden_grad_scaler.json (tools/golden_grad_scaler.py),
tests/data/golden_schedulers.json (tools/golden_schedulers.py) and
tests/data/golden_swa.json (tools/golden_swa.py), which both
LibTorch builds read.

Each case records the default single-tensor path (foreach=False, the ground
truth) and, as further references, foreach=True and fused=True where this
torch offers them for the optimizer on CPU. The problem data (inputs, targets,
initial parameters) is stored in the file too, so the C++ side needs no
random-number agreement with Python. Rewriting a file keeps the problem it
holds (torch.randn's last bits depend on the CPU), so that only trajectories
change.

Every case must be well-conditioned: machines round the forward and backward
pass differently (BLAS kernels and vector widths differ by CPU), by about one
unit in the last place, and a trajectory that amplifies that would compare
machines, not implementations. Each case is therefore run again with its
gradients scaled by (1 + 2^-50) at every step; a case whose snapshots move by
more than MAX_SENSITIVITY (relative) is refused, and the file is not written.
"""
import inspect
import json
import os
import sys
import warnings

import torch

STEPS = 200
SNAPSHOTS = [1, 10, 100, 200]
# Largest relative change of a case's snapshots under the gradient
# perturbation above: 10x below the C++ test's bound on LibTorch 2.x (1e-12),
# so that a file written on one machine holds on another.
GRADIENT_PERTURBATION = 2.0 ** -50
MAX_SENSITIVITY = 1e-13


def make_problem():
    g = torch.Generator().manual_seed(20261123)
    randn = lambda *shape, scale=1.0: torch.randn(*shape, generator=g, dtype=torch.float64) * scale
    x = randn(64, 8)
    teacher = randn(8, 1)
    y = torch.sin(x @ teacher) + 0.1 * x[:, :1]
    init = [randn(16, 8, scale=0.35), randn(16, scale=0.1), randn(1, 16, scale=0.25), randn(1, scale=0.1)]
    return x, y, init


def stored_problem(path, key="problem"):
    """The problem held by the golden file at `path` under `key` (x, y, init),
    or None where there is none."""
    try:
        with open(path) as f:
            problem = json.load(f)[key]
    except (OSError, ValueError, KeyError):
        return None

    def tensor(values, shape, is_complex):
        t = torch.tensor(values, dtype=torch.float64)
        return torch.view_as_complex(t.reshape(shape + [2])) if is_complex else t.reshape(shape)

    n = len(problem["init"])
    return (tensor(problem["x"], problem["x_shape"], problem.get("x_complex", False)),
            tensor(problem["y"], problem["y_shape"], problem.get("y_complex", False)),
            [tensor(v, s, c) for v, s, c in zip(problem["init"], problem["init_shapes"],
                                                problem.get("init_complex", [False] * n))])


def mlp_loss(w, x, y):
    # The same ATen ops, in the same order, as tests/test_support.cc.
    hidden = torch.tanh(torch.addmm(w[1], x, w[0].t()))
    out = torch.addmm(w[3], hidden, w[2].t())
    return 0.5 * (out - y).pow(2).mean()


def make_complex_problem():
    """The complex cases' problem: a complex linear layer (W, b) scaled by a
    real vector s, fitted to a complex teacher: a group of complex and real
    parameters, whose gradients are complex and real."""
    g = torch.Generator().manual_seed(20261207)
    randn = lambda *shape, scale=1.0: torch.randn(*shape, generator=g, dtype=torch.float64) * scale
    cplx = lambda *shape, scale=1.0: torch.complex(randn(*shape, scale=scale), randn(*shape, scale=scale))
    x = cplx(64, 8)
    y = torch.tanh(x @ cplx(8, 6, scale=0.3))
    init = [cplx(6, 8, scale=0.3), cplx(6, scale=0.1), randn(6, scale=0.2) + 1.0]
    return x, y, init


def complex_loss(w, x, y):
    # The same ATen ops, in the same order, as tests/python_golden_test.cc.
    out = torch.addmm(w[1], x, w[0].t()) * w[2]
    return 0.5 * (out - y).abs().pow(2).mean()


class Problem:
    """Inputs, targets, initial parameters and the loss of one problem."""

    def __init__(self, x, y, init, loss):
        self.x, self.y, self.init, self.loss = x, y, init, loss

    def json(self):
        flat = lambda t: (torch.view_as_real(t) if t.is_complex() else t).reshape(-1).tolist()
        return {
            "x": flat(self.x), "x_shape": list(self.x.shape), "x_complex": self.x.is_complex(),
            "y": flat(self.y), "y_shape": list(self.y.shape), "y_complex": self.y.is_complex(),
            "init": [flat(t) for t in self.init], "init_shapes": [list(t.shape) for t in self.init],
            "init_complex": [t.is_complex() for t in self.init],
        }


def snapshot(w):
    """Each parameter flattened (a complex one as its real view: real, imaginary, ...)."""
    return [(torch.view_as_real(t) if t.is_complex() else t).detach().reshape(-1).tolist() for t in w]


# Each case: optimizer name as adaptive spells it, the torch.optim class, the
# per-group options (groups: "one" = all four tensors, "two" = [W1, b1], [W2, b2]),
# and adaptive-only options that express the same thing (AdamW -> decoupled).
CASES = [
    ("adam_default", "Adam", torch.optim.Adam, "one", [dict(lr=5e-3)], {}),
    ("adam_amsgrad_wd", "Adam", torch.optim.Adam, "one", [dict(lr=5e-3, amsgrad=True, weight_decay=0.05)], {}),
    ("adam_betas_eps", "Adam", torch.optim.Adam, "one", [dict(lr=2e-3, betas=(0.8, 0.95), eps=1e-4)], {}),
    ("adam_maximize_wd", "Adam", torch.optim.Adam, "one", [dict(lr=1e-3, maximize=True, weight_decay=0.01)], {}),
    ("adamw", "Adam", torch.optim.AdamW, "one", [dict(lr=5e-3, weight_decay=0.1)], {"decoupled_weight_decay": True}),
    ("adamw_amsgrad_maximize", "Adam", torch.optim.AdamW, "one",
     [dict(lr=1e-3, weight_decay=0.05, amsgrad=True, maximize=True)], {"decoupled_weight_decay": True}),
    ("adam_two_groups", "Adam", torch.optim.Adam, "two",
     [dict(lr=5e-3), dict(lr=1e-2, betas=(0.7, 0.99), amsgrad=True, weight_decay=0.1)], {}),
    ("rmsprop_default", "RMSprop", torch.optim.RMSprop, "one", [dict(lr=1e-3)], {}),
    ("rmsprop_centered_momentum_wd", "RMSprop", torch.optim.RMSprop, "one",
     [dict(lr=5e-4, alpha=0.95, centered=True, momentum=0.9, weight_decay=0.05)], {}),
    ("rmsprop_maximize", "RMSprop", torch.optim.RMSprop, "one", [dict(lr=1e-3, maximize=True, momentum=0.5)], {}),
    ("rmsprop_two_groups", "RMSprop", torch.optim.RMSprop, "two",
     [dict(lr=1e-3), dict(lr=2e-3, centered=True, eps=1e-6)], {}),
    ("adagrad_default", "Adagrad", torch.optim.Adagrad, "one", [dict(lr=5e-2)], {}),
    ("adagrad_decay_init_wd", "Adagrad", torch.optim.Adagrad, "one",
     [dict(lr=5e-2, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.02, eps=1e-8)], {}),
    ("adagrad_maximize", "Adagrad", torch.optim.Adagrad, "one", [dict(lr=1e-2, maximize=True)], {}),
    # Per-group initial_accumulator_value: torch.optim (like torch::optim)
    # starts every accumulator at the constructor's value; adaptive matches.
    ("adagrad_two_groups_init", "Adagrad", torch.optim.Adagrad, "two",
     [dict(lr=5e-2, initial_accumulator_value=0.0), dict(lr=5e-2, initial_accumulator_value=0.5, lr_decay=0.02)], {}),
]

# The optimizers LibTorch lacks (their only reference is torch.optim), SGD and
# the AdamW class. The options a case needs must exist in the running torch:
# cases with options that 1.13 lacks (NAdam's and RAdam's maximize and
# decoupled_weight_decay) are left out of its file (see supported()).
# Learning rates are small enough that 200 steps stay out of the chaotic
# regime near convergence, where PyTorch's own foreach and single-tensor paths
# part by 1e-4 (measured with lr 5e-3, β2 = 0.95): a comparison there would
# measure the chaos, not the implementation.
CASES += [
    ("adamw_class", "AdamW", torch.optim.AdamW, "one", [dict(lr=5e-3)], {}),
    ("sgd_nesterov_wd", "SGD", torch.optim.SGD, "one",
     [dict(lr=5e-2, momentum=0.9, nesterov=True, weight_decay=0.01)], {}),
    ("sgd_dampening_maximize", "SGD", torch.optim.SGD, "one",
     [dict(lr=1e-3, momentum=0.5, dampening=0.2, maximize=True)], {}),
    ("sgd_two_groups", "SGD", torch.optim.SGD, "two", [dict(lr=5e-2), dict(lr=2e-2, momentum=0.9)], {}),
    ("nadam_default", "NAdam", torch.optim.NAdam, "one", [dict(lr=5e-3)], {}),
    ("nadam_betas_wd_momentum_decay", "NAdam", torch.optim.NAdam, "one",
     [dict(lr=2e-3, betas=(0.8, 0.99), weight_decay=0.05, momentum_decay=0.01)], {}),
    ("nadam_decoupled_maximize", "NAdam", torch.optim.NAdam, "one",
     [dict(lr=2e-3, decoupled_weight_decay=True, weight_decay=0.1, maximize=True)], {}),
    ("nadam_two_groups", "NAdam", torch.optim.NAdam, "two", [dict(lr=2e-3), dict(lr=5e-3, eps=1e-4)], {}),
    ("radam_default", "RAdam", torch.optim.RAdam, "one", [dict(lr=5e-3)], {}),
    ("radam_betas_wd", "RAdam", torch.optim.RAdam, "one", [dict(lr=2e-3, betas=(0.8, 0.99), weight_decay=0.05)], {}),
    ("radam_decoupled_maximize", "RAdam", torch.optim.RAdam, "one",
     [dict(lr=2e-3, decoupled_weight_decay=True, weight_decay=0.1, maximize=True)], {}),
    ("radam_two_groups", "RAdam", torch.optim.RAdam, "two", [dict(lr=5e-3), dict(lr=1e-2, eps=1e-4)], {}),
    ("adadelta_default", "Adadelta", torch.optim.Adadelta, "one", [dict(lr=1.0)], {}),
    ("adadelta_rho_eps_wd", "Adadelta", torch.optim.Adadelta, "one",
     [dict(lr=0.5, rho=0.95, eps=1e-4, weight_decay=0.05)], {}),
    ("adadelta_maximize", "Adadelta", torch.optim.Adadelta, "one", [dict(lr=0.1, maximize=True)], {}),
    ("adadelta_two_groups", "Adadelta", torch.optim.Adadelta, "two", [dict(lr=1.0), dict(lr=0.3, rho=0.5)], {}),
    ("adamax_default", "Adamax", torch.optim.Adamax, "one", [dict(lr=2e-3)], {}),
    ("adamax_betas_eps_wd", "Adamax", torch.optim.Adamax, "one",
     [dict(lr=2e-3, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.05)], {}),
    ("adamax_maximize", "Adamax", torch.optim.Adamax, "one", [dict(lr=1e-3, maximize=True)], {}),
    ("adamax_two_groups", "Adamax", torch.optim.Adamax, "two",
     [dict(lr=2e-3), dict(lr=2e-3, eps=1e-3, weight_decay=0.01)], {}),
    ("rprop_default", "Rprop", torch.optim.Rprop, "one", [dict(lr=1e-3)], {}),
    ("rprop_etas_step_sizes", "Rprop", torch.optim.Rprop, "one",
     [dict(lr=1e-3, etas=(0.3, 1.5), step_sizes=(1e-5, 5e-3))], {}),
    ("rprop_maximize", "Rprop", torch.optim.Rprop, "one", [dict(lr=1e-3, maximize=True)], {}),
    ("rprop_two_groups", "Rprop", torch.optim.Rprop, "two",
     [dict(lr=1e-3), dict(lr=5e-4, etas=(0.5, 1.1), step_sizes=(1e-6, 1e-2))], {}),
    ("asgd_default", "ASGD", torch.optim.ASGD, "one", [dict(lr=1e-2)], {}),
    ("asgd_averaging_wd", "ASGD", torch.optim.ASGD, "one",
     [dict(lr=1e-2, lambd=1e-3, alpha=0.5, t0=50, weight_decay=0.05)], {}),
    ("asgd_maximize", "ASGD", torch.optim.ASGD, "one", [dict(lr=1e-3, maximize=True, t0=0)], {}),
    ("asgd_two_groups", "ASGD", torch.optim.ASGD, "two",
     [dict(lr=1e-2, t0=10), dict(lr=5e-3, lambd=0.01, alpha=0.9, t0=100)], {}),
]

# SparseAdam takes only sparse gradients: its cases give it the MLP's
# gradients as sparse ones that hold some rows only (sparse_rows()), so that
# untouched rows keep their values and moments while the step count runs on.
# Both torch.optim versions have it (1.13's steps a gradient without entries
# through empty sparse adds, 2.13's skips it: the same numbers).
CASES += [
    ("sparse_adam_default", "SparseAdam", torch.optim.SparseAdam, "one", [dict(lr=5e-3)], {}),
    ("sparse_adam_betas_eps", "SparseAdam", torch.optim.SparseAdam, "one",
     [dict(lr=2e-3, betas=(0.8, 0.95), eps=1e-4)], {}),
    ("sparse_adam_maximize", "SparseAdam", torch.optim.SparseAdam, "one", [dict(lr=1e-3, maximize=True)], {}),
    ("sparse_adam_two_groups", "SparseAdam", torch.optim.SparseAdam, "two",
     [dict(lr=5e-3), dict(lr=2e-3, betas=(0.5, 0.99), eps=1e-6)], {}),
]
SPARSE_GRADIENTS = {"SparseAdam"}
# The gradients sparse_rows() makes are valid by construction (sorted, unique rows).
warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")


def sparse_rows(t, step):
    """The rows t's sparse gradient will hold at `step`: those r with
    (r + step) % 3 != 0, all of a tensor of one row (1.13's SparseAdam fails
    on a gradient without entries). tests/python_golden_test.cc picks the
    same. Most rows move on most steps, and every row of a matrix misses
    some. The rows it drops are zeroed in the dense gradient now, so that
    clipping by hand sees what adaptive's clipping inside step() sees: the
    values the sparse gradient holds."""
    kept = lambda r: t.grad.shape[0] == 1 or (r + step) % 3 != 0
    rows = [r for r in range(t.grad.shape[0]) if kept(r)]
    dropped = [r for r in range(t.grad.shape[0]) if not kept(r)]
    t.grad[dropped] = 0
    return torch.tensor(rows, dtype=torch.long)


# Adafactor came with PyTorch 2.5: 1.13's file has no case of it. On this
# problem lr = 1e-2 (its default) grows the weights until the trajectory
# amplifies rounding (6.9e-4 under the conditioning check below), so the
# cases use 3e-3, or a larger lr with eps[0] = 1e-2 (the floor of the
# second-moment estimate), which keeps it stable. lr = 0.1 and 0.2 take
# rho = 1/sqrt(t) once t > 1/lr^2 (from step 101 and 26 on); eps[0] None is
# the dtype's machine epsilon.
ADAFACTOR = getattr(torch.optim, "Adafactor", None)
if ADAFACTOR is not None:
    CASES += [
        ("adafactor_default", "Adafactor", ADAFACTOR, "one", [dict(lr=3e-3)], {}),
        ("adafactor_rho_eps", "Adafactor", ADAFACTOR, "one", [dict(lr=0.1, eps=(1e-2, 1e-3))], {}),
        ("adafactor_beta2_eps", "Adafactor", ADAFACTOR, "one", [dict(lr=0.2, beta2_decay=-0.5, eps=(1e-2, 1e-2))], {}),
        ("adafactor_weight_decay_maximize_d", "Adafactor", ADAFACTOR, "one",
         [dict(lr=3e-3, weight_decay=0.1, maximize=True, d=1.5, eps=(None, 1e-2))], {}),
        ("adafactor_two_groups", "Adafactor", ADAFACTOR, "two",
         [dict(lr=3e-3, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0),
          dict(lr=0.1, beta2_decay=-0.8, eps=(1e-2, 1e-3), d=1.0, weight_decay=0.01)], {}),
    ]


# Muon came with PyTorch 2.9 (1.13's file has none) and takes only 2-D
# parameters: its cases optimize the MLP's two weight matrices, as one group
# ("matrices": W1, W2) or two ("matrices_two": [W1], [W2]); the biases keep
# their values. Its Newton-Schulz iterations run in bfloat16 on both sides,
# the same ATen ops.
MUON = getattr(torch.optim, "Muon", None)
if MUON is not None:
    CASES += [
        ("muon_default", "Muon", MUON, "matrices", [dict(lr=2e-2)], {}),
        ("muon_momentum_no_nesterov", "Muon", MUON, "matrices",
         [dict(lr=2e-2, momentum=0.9, nesterov=False, weight_decay=0.01)], {}),
        ("muon_iteration_adjust_lr", "Muon", MUON, "matrices",
         [dict(lr=1e-2, ns_coefficients=(3.0, -3.2, 1.2), ns_steps=3, eps=1e-5, adjust_lr_fn="match_rms_adamw")], {}),
        ("muon_two_groups", "Muon", MUON, "matrices_two",
         [dict(lr=2e-2, weight_decay=0.1, momentum=0.95, nesterov=True, ns_coefficients=(3.4445, -4.775, 2.0315),
               eps=1e-7, ns_steps=5, adjust_lr_fn=None),
          dict(lr=1e-2, weight_decay=0.0, momentum=0.8, nesterov=True, ns_coefficients=(3.4445, -4.775, 2.0315),
               eps=1e-7, ns_steps=5, adjust_lr_fn="original")], {}),
    ]


# Optimizers whose state keeps scalars in a tensor of the default dtype
# (NAdam's mu_product, ASGD's eta and mu; float32 unless changed): their references are made with
# float64 as the default dtype, so that every number in them is float64, as
# adaptive computes them (in double).
FLOAT64_SCALARS = {"NAdam", "RAdam", "Adadelta", "ASGD"}


def supported(cls, group_options, is_complex=False):
    # PyTorch 1.13's NAdam is another algorithm: it multiplies μₜ in twice
    # (mu_product_next = mu_product * mu * mu_next; 2.x: mu_product * mu_next),
    # 4e-4 apart after 200 steps. adaptive follows 2.x, so 1.13's file has no
    # NAdam case.
    if cls is torch.optim.NAdam and int(torch.__version__.split(".")[0]) < 2:
        return False
    # 1.13's RAdam steps a complex parameter with complex arithmetic (its
    # view_as_real came in 2.x): another algorithm there; its Adam fails on a
    # complex parameter with amsgrad (max_exp_avg_sq is not viewed as real).
    if is_complex and int(torch.__version__.split(".")[0]) < 2:
        if cls is torch.optim.RAdam or any(o.get("amsgrad") for o in group_options):
            return False
    names = inspect.signature(cls.__init__).parameters
    return all(k in names for o in group_options for k in o)


# Clipping cases: torch.nn.utils.clip_grad_value_ then clip_grad_norm_ before step().
CLIP_CASES = [
    ("adam_clip_norm", "Adam", torch.optim.Adam, "two", [dict(lr=5e-3), dict(lr=5e-3)], {}, 0.05, 0.0),
    ("rmsprop_clip_value_norm", "RMSprop", torch.optim.RMSprop, "one", [dict(lr=1e-3)], {}, 0.05, 0.02),
    ("adagrad_clip_value", "Adagrad", torch.optim.Adagrad, "one", [dict(lr=5e-2)], {}, 0.0, 0.01),
    ("sgd_clip_norm", "SGD", torch.optim.SGD, "one", [dict(lr=5e-2, momentum=0.9)], {}, 0.05, 0.0),
    ("nadam_clip_norm", "NAdam", torch.optim.NAdam, "two", [dict(lr=2e-3), dict(lr=2e-3)], {}, 0.05, 0.0),
    ("radam_clip_value_norm", "RAdam", torch.optim.RAdam, "one", [dict(lr=5e-3)], {}, 0.05, 0.02),
    ("adadelta_clip_value", "Adadelta", torch.optim.Adadelta, "one", [dict(lr=0.5)], {}, 0.0, 0.01),
    ("rprop_clip_value", "Rprop", torch.optim.Rprop, "one", [dict(lr=1e-3)], {}, 0.0, 0.01),
    ("asgd_clip_norm", "ASGD", torch.optim.ASGD, "two", [dict(lr=1e-2, t0=20), dict(lr=1e-2)], {}, 0.05, 0.0),
    ("adamax_clip_norm", "Adamax", torch.optim.Adamax, "two", [dict(lr=2e-3), dict(lr=2e-3)], {}, 0.05, 0.0),
    ("sparse_adam_clip_value_norm", "SparseAdam", torch.optim.SparseAdam, "two", [dict(lr=5e-3), dict(lr=5e-3)], {},
     0.05, 0.02),
]
if MUON is not None:
    CLIP_CASES += [("muon_clip_value_norm", "Muon", MUON, "matrices_two", [dict(lr=2e-2), dict(lr=2e-2)], {}, 0.05, 0.02)]
if ADAFACTOR is not None:
    CLIP_CASES += [("adafactor_clip_value_norm", "Adafactor", ADAFACTOR, "two", [dict(lr=3e-3), dict(lr=3e-3)], {},
                    0.05, 0.02)]


# Complex parameters: torch.optim steps each through its real view
# (torch.view_as_real), and so does adaptive. One case per optimizer on the
# complex problem (W and b complex, s real; "two": [W, b], [s]), with options
# that touch how the state starts (Adagrad's sums and Rprop's step sizes at
# complex(v, v): every element of the real view at v) and weight decay
# (applied by torch.optim in complex arithmetic before the view). A group's
# options are written out in full: torch.optim fills a group's missing
# options from the constructor's (the first group's here), the C++ test from
# the options' defaults. No value clipping: torch.nn.utils.clip_grad_value_
# refuses complex gradients.
COMPLEX_CASES = [
    ("complex_adam_amsgrad_wd", "Adam", torch.optim.Adam, "one", [dict(lr=5e-3, amsgrad=True, weight_decay=0.05)], {}),
    ("complex_adamw_class", "AdamW", torch.optim.AdamW, "one", [dict(lr=5e-3, weight_decay=0.1)], {}),
    ("complex_rmsprop_centered_momentum", "RMSprop", torch.optim.RMSprop, "two",
     [dict(lr=1e-3, centered=True, momentum=0.9), dict(lr=1e-3, centered=False, momentum=0.0)], {}),
    ("complex_adagrad_init_decay", "Adagrad", torch.optim.Adagrad, "one",
     [dict(lr=5e-2, initial_accumulator_value=0.1, lr_decay=0.01)], {}),
    ("complex_sgd_nesterov_wd", "SGD", torch.optim.SGD, "one",
     [dict(lr=2e-2, momentum=0.9, nesterov=True, weight_decay=0.01)], {}),
    ("complex_nadam", "NAdam", torch.optim.NAdam, "one", [dict(lr=2e-3)], {}),
    ("complex_radam", "RAdam", torch.optim.RAdam, "one", [dict(lr=5e-3)], {}),
    ("complex_adadelta_wd", "Adadelta", torch.optim.Adadelta, "one", [dict(lr=1.0, weight_decay=0.01)], {}),
    ("complex_adamax", "Adamax", torch.optim.Adamax, "two", [dict(lr=2e-3), dict(lr=1e-3)], {}),
    ("complex_asgd_averaging", "ASGD", torch.optim.ASGD, "one", [dict(lr=1e-2, t0=50)], {}),
    ("complex_rprop", "Rprop", torch.optim.Rprop, "one", [dict(lr=1e-3)], {}),
    ("complex_adam_clip_norm", "Adam", torch.optim.Adam, "one", [dict(lr=2e-3)], {}, 0.05, 0.0),
]


def run(problem, cls, layout, group_options, clip_norm=0.0, clip_value=0.0, variant="single", perturb=0.0):
    """Snapshots of one run on `problem`; variant: "single" (foreach=False),
    "foreach" or "fused"; perturb: scale every gradient by (1 + perturb)
    (sensitivity())."""
    w = [t.clone().requires_grad_(True) for t in problem.init]
    groups = {"one": lambda: [w], "two": lambda: [w[:2], w[2:]], "matrices": lambda: [[w[0], w[2]]],
              "matrices_two": lambda: [[w[0]], [w[2]]]}[layout]()
    stepped = [t for g in groups for t in g]  # what the optimizer steps, and what its clipping reads
    param_groups = [dict(params=g, **opts) for g, opts in zip(groups, group_options)]
    # Constructor defaults = the first group's options, as the C++ test builds it.
    flags = {"single": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}[variant]
    sparse = cls.__name__ in SPARSE_GRADIENTS
    if "foreach" not in inspect.signature(cls.__init__).parameters:  # one path only (SparseAdam, Muon)
        flags = {}
    opt = cls(param_groups, **flags, **group_options[0])
    snapshots = {}
    for step in range(1, STEPS + 1):
        opt.zero_grad(set_to_none=True)  # (1.13's default zeroes, and a sparse gradient would take dense ones)
        problem.loss(w, problem.x, problem.y).backward()
        if perturb:
            for t in w:
                t.grad.mul_(1.0 + perturb)
        rows = [sparse_rows(t, step) for t in w] if sparse else []
        if clip_value > 0:
            torch.nn.utils.clip_grad_value_(stepped, clip_value)
        if clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(stepped, clip_norm)
        for t, r in zip(w, rows):
            t.grad = torch.sparse_coo_tensor(r.unsqueeze(0), t.grad[r], t.grad.shape)
        opt.step()
        if step in SNAPSHOTS:
            snapshots[str(step)] = snapshot(w)
    return snapshots


def max_relative_difference(a, b):
    """Largest |a - b| over all snapshots, relative to the largest |b|."""
    diff, scale = 0.0, 1e-300
    for key in b:
        for u, v in zip(a[key], b[key]):
            for p, q in zip(u, v):
                diff, scale = max(diff, abs(p - q)), max(scale, abs(q))
    return diff / scale


def sensitivity(snapshots, problem, cls, layout, group_options, clip_norm, clip_value):
    """How far the snapshots move when every gradient is perturbed by one part
    in 2^50 (relative): about what another machine's rounding does."""
    perturbed = run(problem, cls, layout, group_options, clip_norm, clip_value, perturb=GRADIENT_PERTURBATION)
    return max_relative_difference(perturbed, snapshots)


def foreach_is_another_algorithm(cls, is_complex):
    """1.13's foreach Adadelta steps a complex parameter with complex
    arithmetic (its single-tensor path through the real view): 0.34 apart
    after 200 steps, so it is no reference there."""
    return is_complex and cls is torch.optim.Adadelta and int(torch.__version__.split(".")[0]) < 2


def variants(problem, cls, layout, group_options, clip_norm, clip_value, is_complex=False):
    """{"foreach": ..., "fused": ...}: the further references this torch offers."""
    out = {}
    for variant in ("foreach", "fused"):
        if variant not in inspect.signature(cls.__init__).parameters:
            continue
        if variant == "foreach" and foreach_is_another_algorithm(cls, is_complex):
            continue
        try:
            out[variant] = run(problem, cls, layout, group_options, clip_norm, clip_value, variant)
        except (RuntimeError, ValueError, TypeError):  # e.g. fused=True only on CUDA in this torch
            continue
    return out


def option_json(opts):
    out = {}
    for k, v in opts.items():
        out[k] = list(v) if isinstance(v, tuple) else v
    return out


def main():
    major, minor = torch.__version__.split(".")[:2]
    default = os.path.join(os.path.dirname(__file__), "..", "tests", "data", f"golden_trajectories_{major}.{minor}.json")
    out_path = sys.argv[1] if len(sys.argv) > 1 else default
    problems = {
        "mlp": Problem(*(stored_problem(out_path) or make_problem()), mlp_loss),
        "complex": Problem(*(stored_problem(out_path, "complex_problem") or make_complex_problem()), complex_loss),
    }
    doc = {
        "generator": "tools/make_golden.py",
        "torch_version": torch.__version__,
        "steps": STEPS,
        "problem": problems["mlp"].json(),
        "complex_problem": problems["complex"].json(),
        "cases": [],
    }
    ill_conditioned = []
    for case in CASES + CLIP_CASES + COMPLEX_CASES:
        name, optimizer, cls, layout, group_options, extra = case[:6]
        clip_norm, clip_value = (case[6], case[7]) if len(case) > 6 else (0.0, 0.0)
        kind = "complex" if name.startswith("complex_") else "mlp"
        if not supported(cls, group_options, kind == "complex"):
            continue
        problem = problems[kind]
        torch.set_default_dtype(torch.float64 if optimizer in FLOAT64_SCALARS else torch.float32)
        snapshots = run(problem, cls, layout, group_options, clip_norm, clip_value)
        moved = sensitivity(snapshots, problem, cls, layout, group_options, clip_norm, clip_value)
        if moved > MAX_SENSITIVITY:
            ill_conditioned.append(f"{name} ({moved:.1e})")
        doc["cases"].append({
            "name": name, "optimizer": optimizer, "layout": layout, "problem": kind,
            "gradients": "sparse_rows" if optimizer in SPARSE_GRADIENTS else "dense",
            "groups": [dict(option_json(o), **extra, clip_grad_norm=clip_norm, clip_grad_value=clip_value)
                       for o in group_options],
            "snapshots": snapshots,
            "variants": variants(problem, cls, layout, group_options, clip_norm, clip_value, kind == "complex"),
        })
    if ill_conditioned:
        sys.exit(f"make_golden.py: {out_path} not written: these cases amplify a gradient change of 2^-50 beyond "
                 f"{MAX_SENSITIVITY:g} (relative), so another machine's rounding would fail them: "
                 + ", ".join(ill_conditioned))
    try:
        with open(out_path, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
    except OSError as e:
        sys.exit(f"make_golden.py: cannot write {out_path}: {e.strerror}")
    counts = {v: sum(v in c["variants"] for c in doc["cases"]) for v in ("foreach", "fused")}
    print(f"wrote {len(doc['cases'])} cases (torch {torch.__version__}; further references: "
          f"foreach {counts['foreach']}, fused {counts['fused']}) to {os.path.normpath(out_path)}")
    import golden_grad_scaler  # noqa: E402 (this folder is on sys.path: see the bottom of the file)
    import golden_schedulers  # noqa: E402
    import golden_swa  # noqa: E402
    if len(sys.argv) <= 1 and golden_grad_scaler.has_cpu_grad_scaler():
        golden_grad_scaler.write()
        golden_schedulers.write()  # 2.13's lr_scheduler: both LibTorch builds read this one file
        golden_swa.write()  # and 2.13's swa_utils


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
    from adaptive_version import answer_version  # noqa: E402
    answer_version()
    main()

#!/usr/bin/python3
"""Draws the examples' logs as PNG figures, adaptive vs torch::optim, one
panel per log:

  losses      the loss of every step (--csv logs: step,impl,loss), both
              implementations on one panel
  accuracy    test accuracy per epoch (--summary JSON of an MNIST run)
  difference  |adaptive - torch::optim| of the loss at every step (--csv
              logs) on a symmetric-log axis, where an exact 0 is a line at 0
              (side-by-side curves cannot show that they are identical)
  compare     every log's adaptive loss curve on ONE panel, labelled by its
              TITLE: the optimizers side by side on one task; the one titled
              "sgd" is drawn as the baseline (--smooth N: running mean of N
              steps, for noisy minibatch losses)

  tools/plot_curves.py --kind losses --logy --out docs/regression_losses.png \\
      --caption "tools/demo: regression --impl both ..." adam=/tmp/adam.csv rmsprop=/tmp/rmsprop.csv

Each log is TITLE=FILE (or just FILE, titled by its name). --caption is
printed under the figure: give the command that produced the logs. Needs
python3-matplotlib (tools/setup installs it). tools/demo draws the README's
figures with it.
"""
import argparse
import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLES = {"adaptive": dict(lw=2.5, color="tab:blue"), "builtin": dict(lw=1.2, ls="--", color="tab:orange")}


class BadInput(Exception):
    """A problem with the user's files: reported in one line, exit status 1."""


def read_log(path):
    """{impl: ([step], [loss])} of a --csv log."""
    curves = {}
    with open(path, newline="") as f:
        for n, row in enumerate(csv.DictReader(f), 2):
            try:
                curves.setdefault(row["impl"], ([], []))
                curves[row["impl"]][0].append(int(row["step"]))
                curves[row["impl"]][1].append(float(row["loss"]))
            except (KeyError, TypeError, ValueError):
                raise BadInput(f"{path}:{n}: expected the columns step,impl,loss (an integer, a name, a number), "
                               f"got {dict(row)}") from None
    if not curves:
        raise BadInput(f"{path} has no rows (expected the header step,impl,loss)")
    return curves


def read_accuracy(path):
    """{impl: ([epoch], [test accuracy %])} of an MNIST --summary file."""
    try:
        with open(path) as f:
            doc = json.load(f)
        return {run["impl"]: ([e["epoch"] for e in run["epochs"]], [e["test_accuracy"] for e in run["epochs"]])
                for run in doc["runs"]}
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}: not JSON ({e})") from None
    except (KeyError, TypeError):
        raise BadInput(f"{path}: expected an MNIST --summary file (runs[].impl, runs[].epochs[].test_accuracy)") \
            from None


def label(impl):
    return impl + (" (torch::optim)" if impl == "builtin" else "")


def draw_losses(ax, path, logy):
    for impl, (steps, losses) in sorted(read_log(path).items()):
        ax.plot(steps, losses, label=label(impl), **STYLES.get(impl, {}))
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if logy:
        ax.set_yscale("log")
    ax.legend()


def draw_accuracy(ax, path, _logy):
    for impl, (epochs, accuracy) in sorted(read_accuracy(path).items()):
        ax.plot(epochs, accuracy, marker="o", label=label(impl), **STYLES.get(impl, {}))
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.legend()


def running_mean(values, n):
    if n <= 1 or len(values) < n:
        return values
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= n:
            total -= values[i - n]
        out.append(total / min(i + 1, n))
    return out


def draw_compare(ax, specs, logy, smooth):
    """One curve per log: its adaptive run (its only run if it has one)."""
    cycled = 0  # curves drawn in the color cycle's colors
    for title, path in specs:
        curves = read_log(path)
        steps, losses = curves.get("adaptive") or next(iter(curves.values()))
        # The color cycle has 10 colors: from the 11th curve on, another line
        # style tells two of one color apart.
        style = dict(color="black", ls="--", lw=1.8) if title == "sgd" else dict(lw=1.4, ls=["-", "-.", ":"][cycled // 10 % 3])
        cycled += title != "sgd"
        ax.plot(steps, running_mean(losses, smooth), label=title + (" (baseline)" if title == "sgd" else ""), **style)
    ax.set_xlabel("step")
    ax.set_ylabel("loss" + (f" (running mean of {smooth} steps)" if smooth > 1 else ""))
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=8)


def draw_difference(ax, path, _logy):
    curves = read_log(path)
    if set(curves) != {"adaptive", "builtin"}:
        raise BadInput(f"{path}: the difference needs a log of --impl both (impls adaptive and builtin), "
                       f"it has {sorted(curves)}")
    (steps, a), (steps_b, b) = curves["adaptive"], curves["builtin"]
    if steps != steps_b:
        raise BadInput(f"{path}: adaptive and builtin logged different steps")
    diff = [abs(x - y) for x, y in zip(a, b)]
    largest = max(diff)
    ax.plot(steps, diff, color="tab:green", lw=1.5, label="|loss adaptive - loss torch::optim|")
    ax.set_yscale("symlog", linthresh=1e-12)
    ax.set_ylim(bottom=0, top=max(largest * 10, 1e-6))
    ax.set_xlabel("step")
    ax.set_ylabel("|difference| (symlog)")
    verdict = "0 at every step: identical" if largest == 0 else f"largest {largest:.2e}"
    ax.text(0.5, 0.5, verdict, transform=ax.transAxes, ha="center", fontsize=11,
            bbox=dict(boxstyle="round", facecolor="white", alpha=0.8))
    ax.legend(loc="upper right", fontsize=8)


DRAW = {"losses": draw_losses, "accuracy": draw_accuracy, "difference": draw_difference, "compare": None}


def main():
    sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
    from adaptive_version import version_line  # noqa: E402
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=version_line())
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--kind", choices=sorted(DRAW), default="losses", help="what to draw (default losses)")
    parser.add_argument("--logy", action="store_true", help="logarithmic loss axis (losses)")
    parser.add_argument("--caption", default="", help="text under the figure: the command that made the logs")
    parser.add_argument("--title", default="", help="the panel's title (compare)")
    parser.add_argument("--smooth", type=int, default=1, help="running mean of N steps (compare)")
    parser.add_argument("logs", nargs="+", help="TITLE=FILE or FILE")
    args = parser.parse_args()
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise BadInput(f"--out {args.out}: {out_dir} is not a directory")
    os.makedirs(out_dir, exist_ok=True)  # before the work: an unwritable --out fails first
    if not os.access(out_dir, os.W_OK):
        raise BadInput(f"--out {args.out}: cannot write in {out_dir}")
    specs = [spec.rpartition("=")[::2] if "=" in spec else (os.path.basename(spec), spec) for spec in args.logs]
    if args.kind == "compare":
        fig, axes = plt.subplots(1, 1, figsize=(7, 4.5), squeeze=False)
        draw_compare(axes[0][0], specs, args.logy, args.smooth)
        axes[0][0].set_title(args.title)
        axes[0][0].grid(alpha=0.3)
    else:
        fig, axes = plt.subplots(1, len(specs), figsize=(4.2 * len(specs), 3.6), squeeze=False)
        for ax, (title, path) in zip(axes[0], specs):
            DRAW[args.kind](ax, path, args.logy)
            ax.set_title(title)
            ax.grid(alpha=0.3)
    if args.caption:
        fig.text(0.5, 0.01, args.caption, ha="center", va="bottom", fontsize=7, wrap=True, color="0.3")
        fig.tight_layout(rect=(0, 0.07, 1, 1))
    else:
        fig.tight_layout()
    fig.savefig(args.out, dpi=90, metadata={"Software": None})
    print(f"plot_curves: wrote {args.out}")


if __name__ == "__main__":
    try:
        main()
    except BadInput as e:
        sys.exit(f"plot_curves: {e}")
    except OSError as e:  # a missing log, an unwritable --out
        sys.exit(f"plot_curves: {e.filename or ''}: {e.strerror or e}")

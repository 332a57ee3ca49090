#!/usr/bin/python3
"""Turns the examples' --csv loss logs (step,impl,loss) into PNG loss curves,
adaptive vs torch::optim, one panel per log.

  tools/plot_curves.py --out docs/regression_losses.png adam=/tmp/adam.csv rmsprop=/tmp/rmsprop.csv ...

Each argument is TITLE=FILE (or just FILE, titled by its name). Needs
python3-matplotlib (tools/setup installs it).
"""
import argparse
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_log(path):
    curves = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            curves.setdefault(row["impl"], ([], []))
            curves[row["impl"]][0].append(int(row["step"]))
            curves[row["impl"]][1].append(float(row["loss"]))
    if not curves:
        sys.exit(f"plot_curves: {path} has no rows (expected the header step,impl,loss)")
    return curves


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--logy", action="store_true", help="logarithmic loss axis")
    parser.add_argument("logs", nargs="+", help="TITLE=FILE or FILE")
    args = parser.parse_args()
    fig, axes = plt.subplots(1, len(args.logs), figsize=(4.2 * len(args.logs), 3.4), squeeze=False)
    for ax, spec in zip(axes[0], args.logs):
        title, _, path = spec.rpartition("=") if "=" in spec else (os.path.basename(spec), "", spec)
        styles = {"adaptive": dict(lw=2.5, color="tab:blue"), "builtin": dict(lw=1.2, ls="--", color="tab:orange")}
        for impl, (steps, losses) in sorted(read_log(path).items()):
            ax.plot(steps, losses, label=f"{impl}" + (" (torch::optim)" if impl == "builtin" else ""),
                    **styles.get(impl, {}))
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        if args.logy:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=90)
    print(f"plot_curves: wrote {args.out}")


if __name__ == "__main__":
    main()

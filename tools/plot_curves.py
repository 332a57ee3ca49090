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


class BadInput(Exception):
    """A problem with the user's files: reported in one line, exit status 1."""


def read_log(path):
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--logy", action="store_true", help="logarithmic loss axis")
    parser.add_argument("logs", nargs="+", help="TITLE=FILE or FILE")
    args = parser.parse_args()
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise BadInput(f"--out {args.out}: {out_dir} is not a directory")
    os.makedirs(out_dir, exist_ok=True)  # before the work: an unwritable --out fails first
    if not os.access(out_dir, os.W_OK):
        raise BadInput(f"--out {args.out}: cannot write in {out_dir}")
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
    fig.savefig(args.out, dpi=90)
    print(f"plot_curves: wrote {args.out}")


if __name__ == "__main__":
    try:
        main()
    except BadInput as e:
        sys.exit(f"plot_curves: {e}")
    except OSError as e:  # a missing log, an unwritable --out
        sys.exit(f"plot_curves: {e.filename or ''}: {e.strerror or e}")

#!/usr/bin/env python3
"""Prints the demo's tables from the examples' --summary JSON files:

1. adaptive vs torch::optim, one row per run: the two results side by side
   and their largest parameter difference (runs made with --impl both; an
   optimizer torch::optim lacks, run with --impl adaptive, shows "-" there);
2. the optimizers compared, one row per optimizer: adaptive's result on each
   task, SGD first as the baseline.
"""
import json
import os
import sys


def result(summary, run):
    if summary["example"] == "regression":
        return f"w={run['w']:.6f} b={run['b']:.6f}"
    return f"test acc {run['epochs'][-1]['test_accuracy']:.2f}%"


def task_of(s):
    return "y = 3x + 5" if s["example"] == "regression" else f"MNIST {s.get('model', '')}, {s['epochs']} epochs"


def print_table(header, rows):
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def main():
    summaries = []
    for path in sys.argv[1:]:
        with open(path) as f:
            s = json.load(f)
        runs = {r["impl"]: r for r in s.get("runs", [])}
        if "adaptive" not in runs:
            sys.exit(f"summary_table: {path} has no adaptive run (make it with --impl both or --impl adaptive)")
        summaries.append((s, runs))

    rows = []
    for s, runs in summaries:
        if "builtin" in runs:
            diff = f"{s['max_param_diff']:.1e}" + (" (identical)" if s["max_param_diff"] == 0 else "")
            builtin = result(s, runs["builtin"])
        else:
            diff, builtin = "-", "- (no torch::optim)"
        rows.append((s["optimizer"], task_of(s), result(s, runs["adaptive"]), builtin, diff))
    print_table(("optimizer", "task", "adaptive", "torch::optim", "max |param diff|"), rows)

    # The optimizers side by side: adaptive's run on each task.
    tasks, by_optimizer = [], {}
    for s, runs in summaries:
        task, run = task_of(s), runs["adaptive"]
        if task not in tasks:
            tasks.append(task)
        if s["example"] == "regression":
            cell = f"loss {run['final_loss']:.1e}, |w-3| {abs(run['w'] - 3):.0e} (lr {s['lr']:g}, {s['steps']} steps)"
        else:
            last = run["epochs"][-1]
            cell = f"{last['test_accuracy']:.2f}%, train loss {last['train_loss']:.3f} (lr {s['lr']:g})"
        by_optimizer.setdefault(s["optimizer"], {})[task] = cell
    if len(by_optimizer) > 1:
        order = sorted(by_optimizer, key=lambda o: (o != "sgd", o))
        print()
        print_table(("optimizer",) + tuple(tasks),
                    [(o + (" (baseline)" if o == "sgd" else ""),) + tuple(by_optimizer[o].get(t, "-") for t in tasks)
                     for o in order])


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
    from adaptive_version import answer_version  # noqa: E402
    answer_version()
    main()

#!/usr/bin/env python3
"""Prints one side-by-side table from the examples' --summary JSON files
(runs made with --impl both): adaptive vs torch::optim."""
import json
import os
import sys


def result(summary, run):
    if summary["example"] == "regression":
        return f"w={run['w']:.6f} b={run['b']:.6f}"
    return f"test acc {run['epochs'][-1]['test_accuracy']:.2f}%"


def main():
    rows = []
    for path in sys.argv[1:]:
        with open(path) as f:
            s = json.load(f)
        runs = {r["impl"]: r for r in s.get("runs", [])}
        if set(runs) != {"adaptive", "builtin"}:
            sys.exit(f"summary_table: {path} was not made with --impl both")
        task = "y = 3x + 5" if s["example"] == "regression" else f"MNIST {s.get('model', '')}, {s['epochs']} epochs"
        rows.append((s["optimizer"], task, result(s, runs["adaptive"]), result(s, runs["builtin"]),
                     f"{s['max_param_diff']:.1e}" + (" (identical)" if s["max_param_diff"] == 0 else "")))
    header = ("optimizer", "task", "adaptive", "torch::optim", "max |param diff|")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
    from adaptive_version import answer_version  # noqa: E402
    answer_version()
    main()

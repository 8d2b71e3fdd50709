#!/usr/bin/env python3
"""Table of time-to-accuracy runs (scripts/time-to-accuracy.sh): one row per run folder under the given folder.

Minutes are metrics.csv's seconds (steps, per-epoch evaluation, checkpoints) summed; the wall clock is the whole
command's (data loading, precision timing, the label-issue pass). Multiply-adds: forward multiply-adds per 32x32
image of each architecture (counted from its layer shapes below), a training step counted as 3 forward passes,
the evaluations as 1 per image (6 for the final test-time views).
Usage: summarize-time-to-accuracy.py RUNS_FOLDER [--peak GFLOPS]
"""
import csv, json, os, sys


def conv(h, w, cin, cout, k):
    return h * w * cin * cout * k * k


def fast_cnn():
    # Whitening 2x2 (3 -> 24) at 31x31; groups: conv at the input size, then pool; widths 64, 256, 256; head 256 -> 10.
    m = conv(31, 31, 3, 24, 2)
    m += conv(31, 31, 24, 64, 3) + conv(15, 15, 64, 64, 3)
    m += conv(15, 15, 64, 256, 3) + conv(7, 7, 256, 256, 3)
    m += conv(7, 7, 256, 256, 3) + conv(3, 3, 256, 256, 3)
    return m + 256 * 10


def resnet(stem, widths, blocks, strides, size=32, cin=3):
    m = conv(size, size, cin, stem, 3)
    c = stem
    for w, b, s in zip(widths, blocks, strides):
        for i in range(b):
            stride = s if i == 0 else 1
            size_out = (size - 1) // stride + 1
            m += conv(size_out, size_out, c, w, 3) + conv(size_out, size_out, w, w, 3)
            if stride != 1 or c != w:
                m += conv(size_out, size_out, c, w, 1)
            c, size = w, size_out
    return m + c * 10


MACS = {
    "fast-cnn": fast_cnn(),
    "compact-resnet": resnet(24, [48, 96, 192], [1, 1, 1], [2, 2, 2]),
    "preact-resnet18": resnet(64, [64, 128, 256, 512], [2, 2, 2, 2], [1, 2, 2, 2]),
}


def main():
    root = sys.argv[1]
    peak = float(sys.argv[sys.argv.index("--peak") + 1]) if "--peak" in sys.argv else None
    print("| run | model | epochs | precision | minutes | wall minutes | test | test, 6 views | GFLOP/s | of the fp32 GEMM peak |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        metrics = os.path.join(folder, "metrics.csv")
        if not os.path.isfile(metrics) or not os.path.isfile(os.path.join(folder, "summary.json")):
            continue
        rows = list(csv.DictReader(open(metrics)))
        options = json.load(open(os.path.join(folder, "options.json")))
        model = options["model"]
        precision = (options.get("precisionChoice") or {}).get("chosen", options["training"].get("precision"))
        precision = {"float32": "fp32", "b-float16": "bf16"}.get(precision, precision)
        seconds = sum(float(r["seconds"]) for r in rows)
        wall = open(os.path.join(folder, "wall_seconds.txt")).read().strip() if os.path.exists(os.path.join(folder, "wall_seconds.txt")) else ""
        tta = rows[-1].get("test_acc_tta", "")
        train_n = 50000
        flops = 2 * MACS.get(model, 0) * (3 * train_n * len(rows) + 10000 * len(rows) + (6 * 10000 if tta else 0))
        rate = flops / seconds / 1e9 if seconds else 0
        views = f"{100 * float(tta):.2f}%" if tta and tta != "NaN" else ""
        print(f"| {name} | {model} | {len(rows)} | {precision} | {seconds / 60:.1f} | {int(wall) / 60 if wall else float('nan'):.1f} | "
              f"{100 * float(rows[-1]['test_acc']):.2f}% | {views} | {rate:.0f} | {100 * rate / peak if peak else float('nan'):.0f}% |")


if __name__ == "__main__":
    main()

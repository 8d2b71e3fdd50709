#!/usr/bin/env python3
"""Prints a Markdown table of Winnow run folders: noise, Best, Last, epochs, minutes, seconds per epoch."""
import csv, json, os, sys

print("| run | noise | actual noise | Best | Last (mean of last 10) | Final | epochs | minutes | train s/epoch | s/epoch |")
print("|---|---|---|---|---|---|---|---|---|---|")
for run in sys.argv[1:]:
    summary_path = os.path.join(run, "summary.json")
    if not os.path.exists(summary_path):
        print(f"| {os.path.basename(run)} | (not finished) ||||||||")
        continue
    s = json.load(open(summary_path))
    o = json.load(open(os.path.join(run, "options.json")))
    rows = list(csv.DictReader(open(os.path.join(run, "metrics.csv"))))
    labels = list(csv.DictReader(open(os.path.join(run, "noisy_labels.csv"))))
    wrong = sum(r["noisy_label"] != r["true_label"] for r in labels) / len(labels)
    n = o["noise"]
    noise = "clean" if n["kind"] == "none" else f'{n["kind"]} {100 * n["rate"]:.0f}%'
    train_s = sum(float(r["train_seconds"]) for r in rows) / len(rows)
    final = float(rows[-1]["test_acc"])
    print(f'| {os.path.basename(run)} | {noise} | {100 * wrong:.1f}% | {100 * s["best"]:.2f} | {100 * s["last"]:.2f} | {100 * final:.2f} '
          f'| {s["epochs"]} | {s["seconds"] / 60:.1f} | {train_s:.1f} | {s["seconds"] / s["epochs"]:.1f} |')

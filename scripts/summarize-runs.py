#!/usr/bin/env python3
"""Prints a Markdown table of Winnow run folders: noise, Best, Last, Final, epochs, minutes, seconds per epoch, and
the ROC-AUC of the clean probability at the end of warm-up (DivideMix: the mean of its two networks' AUC from the
division made after the last warm-up epoch; other methods: the loop's clean_auc after as many epochs as DivideMix
warms up, 5 from an encoder and 10 from scratch, or the last epoch if the run is shorter)."""
import csv, json, math, os, sys

def warmup_auc(o, rows):
    if o.get("divideMix"):
        w = o["divideMix"]["warmupEpochs"]
        row = next((r for r in rows if int(r["epoch"]) == w + 1), None)
        if row is None:
            return "–"
        values = [float(row[k]) for k in ("auc_1", "auc_2") if k in row and not math.isnan(float(row[k]))]
        return f"{sum(values) / len(values):.3f} (ep {w})" if values else "–"
    if not rows or "clean_auc" not in rows[0]:
        return "–"
    w = min(5 if o.get("encoder") else 10, len(rows))
    v = float(rows[w - 1]["clean_auc"])
    return "–" if math.isnan(v) else f"{v:.3f} (ep {w})"

print("| run | noise | actual noise | Best | Last (mean of last 10) | Final | epochs | minutes | train s/epoch | s/epoch | clean AUC, end of warm-up |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for run in sys.argv[1:]:
    summary_path = os.path.join(run, "summary.json")
    if not os.path.exists(summary_path):
        print(f"| {os.path.basename(run)} | (not finished) |||||||||")
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
          f'| {s["epochs"]} | {s["seconds"] / 60:.1f} | {train_s:.1f} | {s["seconds"] / s["epochs"]:.1f} | {warmup_auc(o, rows)} |')

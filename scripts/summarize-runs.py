#!/usr/bin/env python3
"""Prints a Markdown table of Winnow run folders: noise, Best, Last, Final, epochs, minutes, seconds per epoch, and
the ROC-AUC of the clean probability at the end of warm-up (DivideMix: the mean of its two networks' AUC from the
division made after the last warm-up epoch; other methods: the loop's clean_auc after as many epochs as DivideMix
warms up, 5 from an encoder and 10 from scratch, or the last epoch if the run is shorter).

Usage: summarize-runs.py [--columns LIST] [--change BASE_RUN] RUN...
  --columns LIST   comma-separated subset and order of: run, change, noise, wrong, best, last, final, epochs,
                   minutes, train_s, div_s, s_epoch, auc (default: every column but change)
  --change BASE    add a 'change' column: the options on each run's recorded command line (options.json's
                   commandLine) that differ from BASE's, e.g. '--lambda-u 0' (--out and --resume are ignored)
The docs/ tables are regenerated with these, e.g.
  python3 scripts/summarize-runs.py --columns run,change,best,last,final,minutes --change runs/robust-table/dm-enc-80 runs/robust-table/dm-enc-80-*
"""
import csv, json, math, os, shlex, sys

HEADERS = {
    "run": "run", "change": "change", "noise": "noise", "wrong": "actual noise", "best": "Best",
    "last": "Last (mean of last 10)", "final": "Final", "epochs": "epochs", "minutes": "minutes",
    "train_s": "train s/epoch", "div_s": "train s per divided epoch", "s_epoch": "s/epoch",
    "auc": "clean AUC, end of warm-up",
}
DEFAULT_COLUMNS = [c for c in HEADERS if c != "change"]
IGNORED_OPTIONS = {"--out", "--resume"}


def warmup_epochs(o):
    """DivideMix's (and SANM's) resolved warm-up epochs from options.json, old or new layout; None for other methods."""
    if o.get("divideMix"):
        return o["divideMix"]["warmupEpochs"]
    m = o.get("methodOptions") or {}
    m = m.get("divideMix", m)
    return m.get("warmupEpochs") if o.get("method") in ("dividemix", "sanm") else None


def divided_seconds(o, rows):
    """The mean train seconds of the epochs after the warm-up (DivideMix, SANM), else '–'."""
    w = warmup_epochs(o)
    divided = [float(r["train_seconds"]) for r in rows if w is not None and int(r["epoch"]) > w]
    return f"{sum(divided) / len(divided):.1f}" if divided else "–"


def warmup_auc(o, rows):
    w = warmup_epochs(o)
    if w is not None:
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


def command_options(o):
    """The options of a run's recorded command line as {option: value}, flags mapping to ''; None when not recorded."""
    line = o.get("commandLine")
    if not line:
        return None
    try:
        tokens = shlex.split(line)
    except ValueError:
        tokens = line.split()
    options, i = {}, 0
    while i < len(tokens):
        t = tokens[i]
        if t.startswith("--"):
            values = []
            while i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                values.append(tokens[i + 1])
                i += 1
            if t not in IGNORED_OPTIONS:
                options[t] = " ".join(values)
        i += 1
    return options


def change(options, base):
    if options is None or base is None:
        return "(command line not recorded)"
    parts = [f"{k} {v}".strip() for k, v in options.items() if base.get(k) != v]
    parts += [f"no {k}" for k in base if k not in options]
    return " ".join(parts) if parts else "(same)"


def main(argv):
    columns, base_run, runs = DEFAULT_COLUMNS, None, []
    i = 0
    while i < len(argv):
        if argv[i] == "--columns":
            columns = [c.strip() for c in argv[i + 1].split(",") if c.strip()]
            unknown = [c for c in columns if c not in HEADERS]
            if unknown:
                sys.exit(f"unknown column(s) {', '.join(unknown)}; choose from {', '.join(HEADERS)}")
            i += 2
        elif argv[i] == "--change":
            base_run = argv[i + 1]
            i += 2
        else:
            runs.append(argv[i])
            i += 1
    base = None
    if base_run is not None:
        base = command_options(json.load(open(os.path.join(base_run, "options.json"))))
        if "change" not in columns:
            columns = columns[:1] + ["change"] + columns[1:]
    elif "change" in columns:
        sys.exit("the change column needs --change BASE_RUN")

    print("| " + " | ".join(HEADERS[c] for c in columns) + " |")
    print("|" + "---|" * len(columns))
    for run in runs:
        name = os.path.basename(os.path.normpath(run))
        summary_path = os.path.join(run, "summary.json")
        if not os.path.exists(summary_path):
            print(f"| {name} | (not finished) |" + "|" * max(0, len(columns) - 2))
            continue
        s = json.load(open(summary_path))
        o = json.load(open(os.path.join(run, "options.json")))
        rows = list(csv.DictReader(open(os.path.join(run, "metrics.csv"))))
        labels = list(csv.DictReader(open(os.path.join(run, "noisy_labels.csv"))))
        excluded_path = os.path.join(run, "excluded_samples.csv")
        if os.path.exists(excluded_path):  # a run on a subset: the share of its own labels that are wrong
            excluded = {r["index"] for r in csv.DictReader(open(excluded_path))}
            labels = [r for r in labels if r["index"] not in excluded]
        wrong = sum(r["noisy_label"] != r["true_label"] for r in labels) / len(labels)
        n = o["noise"]
        train_s = sum(float(r["train_seconds"]) for r in rows) / len(rows)
        cells = {
            "run": name,
            "change": change(command_options(o), base) if base_run is not None else "",
            "noise": "clean" if n["kind"] == "none" else f'{n["kind"]} {100 * n["rate"]:.0f}%',
            "wrong": f"{100 * wrong:.1f}%",
            "best": f'{100 * s["best"]:.2f}',
            "last": f'{100 * s["last"]:.2f}',
            "final": f'{100 * float(rows[-1]["test_acc"]):.2f}',
            "epochs": f'{s["epochs"]}',
            "minutes": f'{s["seconds"] / 60:.1f}',
            "train_s": f"{train_s:.1f}",
            "div_s": divided_seconds(o, rows),
            "s_epoch": f'{s["seconds"] / s["epochs"]:.1f}',
            "auc": warmup_auc(o, rows),
        }
        print("| " + " | ".join(cells[c] for c in columns) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])

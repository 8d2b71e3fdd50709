#!/usr/bin/env python3
"""Reference check, not part of Winnow (for runs trained without --exclude): runs cleanlab's find_label_issues (default: prune_by_noise_rate) on the same
predicted probabilities that Winnow's confident learning used, and compares the flagged counts and sets.

Needs a cleanlab source checkout (its `cleanlab` package folder) and Debian's python3-sklearn, python3-pandas,
python3-termcolor and python3-tqdm. Usage:
  winnow predict --checkpoint RUN/last.ckpt --split train --precision fp32 --out probs.csv
  winnow issues --run RUN --precision fp32 --out OUT
  /usr/bin/python3 scripts/check-cleanlab.py --cleanlab CLEANLAB_SRC --run RUN --probs probs.csv --issues OUT
"""
import argparse, csv, json, os, sys

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--cleanlab", required=True, help="folder that holds cleanlab's source package ('cleanlab/')")
ap.add_argument("--run", required=True, help="the winnow train run (for noisy_labels.csv)")
ap.add_argument("--probs", required=True, help="winnow predict --split train CSV (p_* columns) of the same checkpoint and precision")
ap.add_argument("--issues", required=True, help="folder of 'winnow issues --run RUN' output (noise_estimate.json)")
a = ap.parse_args()
sys.path.insert(0, a.cleanlab)
from cleanlab.filter import find_label_issues  # noqa: E402
from cleanlab.count import compute_confident_joint, estimate_joint  # noqa: E402

rows = list(csv.DictReader(open(os.path.join(a.run, "noisy_labels.csv"))))
labels = np.array([int(r["noisy_label"]) for r in rows])
truth = np.array([int(r["true_label"]) for r in rows])
with open(a.probs) as f:
    reader = csv.reader(f)
    header = next(reader)
    cols = [i for i, h in enumerate(header) if h.startswith("p_")]
    probs = np.array([[float(r[i]) for i in cols] for r in reader])
probs = probs / probs.sum(axis=1, keepdims=True)  # the CSV's 6 significant digits
if len(probs) != len(labels):
    sys.exit(f"{a.probs} has {len(probs)} rows, {a.run}/noisy_labels.csv {len(labels)}")

flags = find_label_issues(labels, probs)
joint = estimate_joint(labels, probs)
estimate = json.load(open(os.path.join(a.issues, "noise_estimate.json")))
winnow = next((m for m in estimate["measures"] if m["detector"] == "confident-learning"), None)
if winnow is None:
    sys.exit(f"{a.issues}/noise_estimate.json has no confident-learning measures (were the true labels known?)")
cl_count, w_count = int(flags.sum()), int(winnow["flagged_count"])
wrong = labels != truth
tp = int((flags & wrong).sum())
print(f"cleanlab find_label_issues (prune_by_noise_rate): {cl_count} flagged, precision {tp / max(cl_count, 1):.3f}, recall {tp / max(wrong.sum(), 1):.3f}; "
      f"estimated noise {100 * (1 - np.trace(joint)):.1f}%")
print(f"winnow confident-learning:                        {w_count} flagged, precision {float(winnow['precision']):.3f}, recall {float(winnow['recall']):.3f}; "
      f"estimated noise {100 * estimate['confident_joint_noise_rate']:.1f}%")
print(f"flagged count differs by {100 * abs(cl_count - w_count) / max(cl_count, 1):.2f}%")

#!/usr/bin/env python3
"""Reference check, not part of Winnow: on the same predicted probabilities, the flagged set of Winnow's decision
(label_issues.csv) against cleanlab's find_label_issues (its source, default prune_by_noise_rate) and the plain rule
"prediction != given label", each measured against the true labels; plus the noise-rate estimates.

Needs a cleanlab source checkout (fetch github:cleanlab/cleanlab; git archive HEAD cleanlab | tar -x) and Debian's
python3-sklearn, -pandas, -termcolor, -tqdm (run with /usr/bin/python3). Usage:
  compare-decisions.py --cleanlab SRC --labels noisy_labels.csv --probs PROBS.csv --issues DIR [--name NAME] [--markdown]
PROBS.csv: p_* columns, one row per training sample in index order (out_of_fold_probabilities.csv, or
'winnow predict --split train' of the checkpoint the issues came from). DIR: label_issues.csv and noise_estimate.json.
"""
import argparse, csv, json, os, sys

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--cleanlab", required=True)
ap.add_argument("--labels", required=True)
ap.add_argument("--probs", required=True)
ap.add_argument("--issues", required=True)
ap.add_argument("--name", default="")
ap.add_argument("--markdown", action="store_true", help="print table rows only")
ap.add_argument("--candidates", action="store_true", help="also measure candidate decision rules (for choosing Winnow's)")
a = ap.parse_args()
sys.path.insert(0, a.cleanlab)
from cleanlab.filter import find_label_issues  # noqa: E402
from cleanlab.count import estimate_joint  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

rows = list(csv.DictReader(open(a.labels)))
given = np.array([int(r["noisy_label"]) for r in rows])
truth = np.array([int(r["true_label"]) for r in rows])
wrong = given != truth
with open(a.probs) as f:
    reader = csv.reader(f)
    header = next(reader)
    cols = [i for i, h in enumerate(header) if h.startswith("p_")]
    probs = np.array([[float(r[i]) for i in cols] for r in reader])
probs = probs / probs.sum(axis=1, keepdims=True)
if len(probs) != len(given):
    sys.exit(f"{a.probs} has {len(probs)} rows, {a.labels} {len(given)}")

issues = list(csv.DictReader(open(os.path.join(a.issues, "label_issues.csv"))))
winnow = np.zeros(len(given), dtype=bool)
quality = np.zeros(len(given))
for r in issues:
    winnow[int(r["index"])] = r["is_label_issue"] == "True"
    quality[int(r["index"])] = float(r["label_quality"])
estimate = json.load(open(os.path.join(a.issues, "noise_estimate.json")))


def measure(flags):
    hits = int((flags & wrong).sum())
    p = hits / flags.sum() if flags.sum() else float("nan")
    r = hits / wrong.sum()
    f1 = 2 * p * r / (p + r) if hits else 0.0
    return int(flags.sum()), p, r, f1


cleanlab = find_label_issues(given, probs)
neq = probs.argmax(axis=1) != given
joint = estimate_joint(given, probs)
cl_rate = 1 - np.trace(joint)
auc_self = roc_auc_score(wrong, -probs[np.arange(len(given)), given])
auc_winnow = roc_auc_score(wrong, -quality)
actual = wrong.mean()
table = [
    ("Winnow (" + estimate["detector"] + ")", winnow, estimate["estimated_noise_rate"], auc_winnow),
    ("cleanlab find_label_issues", cleanlab, cl_rate, auc_self),
    ("prediction != given", neq, neq.mean(), float("nan")),
]
if not a.markdown:
    print(f"{len(given)} samples, {100 * actual:.1f}% of labels wrong; ROC-AUC of p(given): {auc_self:.4f}")
    print("| setting | decision | flagged | precision | recall | F1 | estimated noise | ranking ROC-AUC |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
for name, flags, rate, auc in table:
    n, p, r, f1 = measure(flags)
    print(f"| {a.name} | {name} | {n:,} | {p:.3f} | {r:.3f} | {f1:.3f} | {100 * rate:.1f}% (actual {100 * actual:.1f}%) | {auc:.4f} |")

if a.candidates:
    from sklearn.mixture import GaussianMixture  # noqa: E402
    n = len(given)
    self_conf = probs[np.arange(n), given]
    loss = -np.log(np.clip(self_conf, 1e-12, 1))
    norm = (loss - loss.min()) / (loss.max() - loss.min())
    gmm = GaussianMixture(2, max_iter=200, tol=1e-3, reg_covar=5e-4, random_state=0).fit(norm.reshape(-1, 1))
    clean_comp = gmm.means_.argmin()
    clean_p = gmm.predict_proba(norm.reshape(-1, 1))[:, clean_comp]
    mixture = clean_p < 0.5
    order = np.argsort(self_conf)  # most suspect first

    def top(count):
        flags = np.zeros(n, dtype=bool)
        flags[order[:int(round(count))]] = True
        return flags

    counts = {"cl": cl_rate * n, "neq": neq.sum(), "mixture": mixture.sum(), "cleanlab": cleanlab.sum()}
    cands = [
        ("mixture (sklearn GMM)", mixture),
        ("both: cleanlab and prediction != given", cleanlab & neq),
        ("majority of cleanlab, != given, mixture", (cleanlab.astype(int) + neq + mixture) >= 2),
        ("top-n by p(given), n = confident joint", top(counts["cl"])),
        ("top-n by p(given), n = prediction != given", top(counts["neq"])),
        ("top-n by p(given), n = median of 3 counts", top(np.median([counts["cl"], counts["neq"], counts["mixture"]]))),
    ]
    sep = abs(gmm.means_[0, 0] - gmm.means_[1, 0]) / np.sqrt(gmm.covariances_.ravel().sum())
    print(f"counts: {dict((k, int(v)) for k, v in counts.items())}; mixture separation {sep:.2f}, weights {gmm.weights_.round(3)}")
    for name, flags in cands:
        c, p_, r, f1 = measure(flags)
        print(f"| {a.name} | {name} | {c:,} | {p_:.3f} | {r:.3f} | {f1:.3f} | {100 * c / n:.1f}% | |")

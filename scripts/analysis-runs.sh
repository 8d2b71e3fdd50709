#!/usr/bin/env bash
# Issue 23's runs on Fashion-MNIST at 80% symmetric noise (true class included), then one 'winnow analyze' over
# them: cross-entropy from scratch, fine-tuning from the SimCLR encoder, a linear head on the fixed encoder and
# DivideMix from the encoder (the README's recipes), their encoders' spectra beside the random and the SimCLR
# encoder, their memorisation curves overlaid. DivideMix trains beside the three others (two lanes; give each one
# thread with OPTIONS="--threads 1" on 2 cores). A run already finished is kept; one left half-way is resumed.
# Usage: scripts/analysis-runs.sh ENCODER [OUTDIR]   (ENCODER: a 'winnow pretrain' run's last.ckpt)
# OPTIONS (environment): more options for every command, e.g. OPTIONS="--threads 1"
# ROWS (environment): train only the runs named, e.g. ROWS="ce-80 finetune-80", and no analysis
# SUBSET (environment): train on the first SUBSET training images only (default: all 60,000); the spectra are always
# of a seeded subset of all training images ('winnow analyze --samples')
set -euo pipefail
cd "$(dirname "$0")/.."
encoder=${1:?usage: scripts/analysis-runs.sh ENCODER [OUTDIR]}
out=${2:-runs/issue23}
source scripts/run-folder.sh
mkdir -p "$out"
noise=(--noise symmetric --noise-rate 0.8)
read -r -a extra <<< "${OPTIONS:-}"
if [[ -n "${SUBSET:-}" ]]; then first_images "$SUBSET" "$out/exclude.csv"; extra+=(--exclude "$out/exclude.csv"); fi
run() { local name=$1; shift; train_once "$out/$name" "$@" "${extra[@]}"; } # name, then 'winnow train' options
run dividemix-80 "${noise[@]}" --method dividemix --encoder "$encoder" --epochs 30 --ramp-epochs 5 --co-divide sequential \
  --gmm-iterations 200 --schedule multistep --milestones 18 >> "$out/dividemix-80.log" 2>&1 &
lane=$!
run ce-80       "${noise[@]}"
run finetune-80 "${noise[@]}" --encoder "$encoder"
run fixed-80    "${noise[@]}" --encoder "$encoder" --encoder-mode fixed --optimizer adamw --lr 1e-3 --weight-decay 0 --batch-size 256 --epochs 20
wait "$lane" || { echo "dividemix-80 failed: $out/dividemix-80.log" >&2; exit 1; }
analyze=(--random --encoder "$encoder" --run "$out/ce-80" --run "$out/finetune-80" --run "$out/fixed-80" --run "$out/dividemix-80" "${noise[@]}")
[[ -n "${ROWS:-}" || -f "$out/analyze-80/analysis.json" ]] || $W analyze "${analyze[@]}" --out "$out/analyze-80"

#!/usr/bin/env bash
# Issue 23's runs on Fashion-MNIST at 80% symmetric noise (true class included), then one 'winnow analyze' over
# them: cross-entropy from scratch, fine-tuning from the SimCLR encoder and a linear head on the fixed encoder (the
# README's recipes), their encoders' spectra beside the random and the SimCLR encoder, their memorisation curves
# overlaid. A run already finished is kept; one left half-way is resumed.
# Usage: scripts/analysis-runs.sh ENCODER [OUTDIR]   (ENCODER: a 'winnow pretrain' run's last.ckpt)
# OPTIONS (environment): more options for every command, e.g. OPTIONS="--threads 1"
set -euo pipefail
cd "$(dirname "$0")/.."
encoder=${1:?usage: scripts/analysis-runs.sh ENCODER [OUTDIR]}
out=${2:-runs/issue23}
W=${WINNOW:-dotnet artifacts/winnow/Winnow.Cli.dll}
mkdir -p "$out"
noise=(--noise symmetric --noise-rate 0.8)
read -r -a extra <<< "${OPTIONS:-}"
run() { # name, then 'winnow train' options
  local dir="$out/$1"; shift
  if [ -f "$dir/summary.json" ]; then return; fi
  if [ -f "$dir/options.json" ]; then $W train --resume "$dir"; else $W train --out "$dir" "$@" "${extra[@]}"; fi
}
run ce-80       "${noise[@]}"
run finetune-80 "${noise[@]}" --encoder "$encoder"
run fixed-80    "${noise[@]}" --encoder "$encoder" --encoder-mode fixed --optimizer adamw --lr 1e-3 --weight-decay 0 --batch-size 256 --epochs 20
[ -f "$out/analyze-80/analysis.json" ] || $W analyze --random --encoder "$encoder" \
  --run "$out/ce-80" --run "$out/finetune-80" --run "$out/fixed-80" "${noise[@]}" --out "$out/analyze-80"

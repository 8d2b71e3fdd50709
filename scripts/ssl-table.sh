#!/usr/bin/env bash
# Issue 3's measurements on Fashion-MNIST: one SimCLR pre-training, its linear probe, then at 50, 80 and 90%
# symmetric noise (true class included): a linear head on the fixed encoder, fine-tuning from the encoder,
# ce-reg from the encoder, and cross-entropy from scratch. Prints a Markdown table at the end.
# Usage: scripts/ssl-table.sh [OUTDIR] [extra 'winnow pretrain' options]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/ssl-table}; shift || true
source scripts/run-folder.sh
dotnet publish src/Winnow.Cli -c Release -o artifacts/winnow --nologo -v quiet -clp:ErrorsOnly
mkdir -p "$out"
if [ ! -f "$out/simclr/summary.json" ]; then
  if [ -f "$out/simclr/options.json" ]; then $W pretrain --resume "$out/simclr"; else $W pretrain --out "$out/simclr" "$@"; fi
fi
encoder="$out/simclr/last.ckpt"
[ -f "$out/probe.txt" ] || $W probe --encoder "$encoder" | tee "$out/probe.txt"
run() { local name=$1; shift; train_once "$out/$name" "$@"; } # name, then 'winnow train' options
for rate in 0.5 0.8 0.9; do
  r=${rate#0.}
  # Fixed encoder: Cheng et al.'s Adam 1e-3 without weight decay, batch 256; an epoch costs a third of a
  # fine-tuning epoch, so 20 epochs fit in the same time and Last (mean of the last 10) sees a converged head.
  run "fixed-$r"    --noise symmetric --noise-rate "$rate" --encoder "$encoder" --encoder-mode fixed --optimizer adamw --lr 1e-3 --weight-decay 0 --batch-size 256 --epochs 20
  run "finetune-$r" --noise symmetric --noise-rate "$rate" --encoder "$encoder"
  # ce-reg makes three views of each image (one weak, two strong), ~2.6 minutes an epoch with the evaluation:
  # 5 epochs keep a run within 15 minutes (6 took 15.8).
  run "cereg-$r"    --noise symmetric --noise-rate "$rate" --encoder "$encoder" --method ce-reg --epochs 5
  run "ce-$r"       --noise symmetric --noise-rate "$rate"
done
cat "$out/probe.txt"
python3 scripts/summarize-runs.py "$out"/fixed-* "$out"/finetune-* "$out"/cereg-* "$out"/ce-*

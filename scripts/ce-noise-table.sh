#!/usr/bin/env bash
# Cross-entropy on Fashion-MNIST at 0, 20, 50, 80, 90% symmetric (true class included) and 40% asymmetric noise,
# one run after the other, then a Markdown table of Best, Last and time. About 11 minutes a run on 2 cores.
# Usage: scripts/ce-noise-table.sh [OUTDIR] [extra 'winnow train' options, e.g. --epochs 15]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/ce-table}; shift || true
dotnet publish src/Winnow.Cli -c Release -o artifacts/winnow --nologo -v quiet -clp:ErrorsOnly
for spec in "none 0" "symmetric 0.2" "symmetric 0.5" "symmetric 0.8" "symmetric 0.9" "asymmetric 0.4"; do
  set -- $spec "$@"; kind=$1; rate=$2; shift 2
  dir="$out/$kind-$rate"
  if [ -f "$dir/summary.json" ]; then echo "== $dir done already"; continue; fi
  if [ -f "$dir/options.json" ]; then
    dotnet artifacts/winnow/Winnow.Cli.dll train --resume "$dir"
  else
    dotnet artifacts/winnow/Winnow.Cli.dll train --noise "$kind" --noise-rate "$rate" --out "$dir" "$@"
  fi
done
python3 scripts/summarize-runs.py "$out"/*

#!/usr/bin/env bash
# Training throughput of PreAct ResNet-18 (batch 128, 1x28x28, fp32, 2 threads) in PyTorch
# (../shared/bench/torch_reference.py) and in Winnow, in one run, with their ratio.
# Usage: scripts/bench-throughput.sh [--steps N] [--model NAME] [--precision fp32|bf16]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=10; model=preact-resnet18; precision=fp32
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2;;
    --model) model=$2; shift 2;;
    --precision) precision=$2; shift 2;;
    *) echo "unknown argument $1" >&2; exit 2;;
  esac
done
ref=../shared/bench/torch_reference.py
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null; else sudo apt-get install -y python3-torch; fi
fi
dotnet publish src/Winnow.Cli -c Release -o artifacts/winnow --nologo -v quiet -clp:ErrorsOnly
bf=""; [ "$precision" = bf16 ] && bf="--bf16"
py=$(/usr/bin/python3 "$ref" --steps "$steps" $bf)
echo "$py"
cs=$(dotnet artifacts/winnow/Winnow.Cli.dll bench --model "$model" --steps "$steps" --precision "$precision")
echo "$cs"
a=$(echo "$py" | grep -oE '[0-9.]+ img/s' | grep -oE '[0-9.]+')
b=$(echo "$cs" | grep -oE '[0-9.]+ img/s' | grep -oE '[0-9.]+')
python3 -c "print(f'ratio winnow/pytorch: {$b/$a:.2f}')"

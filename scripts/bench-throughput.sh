#!/usr/bin/env bash
# Training throughput of Winnow against PyTorch on this CPU, in one run: compact-resnet (Winnow's CPU default) and
# PreAct ResNet-18, batch 128, 1x28x28, fp32, 2 threads. PyTorch is ../shared/bench/torch_reference.py (Debian's
# python3-torch), measured with and without channels-last; the ratio is against the better of the two. It also prints
# the machine's measured fp32 matrix-multiply peak (winnow bench --gemm) and the fraction of it that each training step
# reaches (the model's multiply-adds counted on PyTorch's copy of the architecture, a step taken as 3 forward passes).
# Each figure is the best of --rounds interleaved measurements: both sides vary between runs (PyTorch's default glibc
# allocator settings make its figure bimodal), and the best is what each can reach on this machine.
# Usage: scripts/bench-throughput.sh [--steps N] [--rounds N] [--models "compact-resnet preact-resnet18"]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=20; rounds=3; models="compact-resnet preact-resnet18"
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2;;
    --models) models=$2; shift 2;;
    --rounds) rounds=$2; shift 2;;
    *) echo "unknown argument $1" >&2; exit 2;;
  esac
done
ref=../shared/bench/torch_reference.py
[ -f "$ref" ] || { echo "missing $ref (the PyTorch reference script)" >&2; exit 1; }
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null; else sudo apt-get install -y python3-torch; fi
fi
dotnet publish src/Winnow.Cli -c Release -o artifacts/winnow --nologo -v quiet -clp:ErrorsOnly
winnow() { dotnet artifacts/winnow/Winnow.Cli.dll "$@"; }
rate() { grep -oE '[0-9.]+ img/s' | tail -1 | grep -oE '[0-9.]+'; }

gemm=$(winnow bench --gemm)
echo "$gemm"
peak_line=$(echo "$gemm" | tail -1)
peak=$(echo "$peak_line" | grep -oE 'peak [0-9.]+' | grep -oE '[0-9.]+')

for model in $models; do
  a=0; b=0; c=0
  for round in $(seq "$rounds"); do
    py=$(/usr/bin/python3 "$ref" --model "$model" --steps "$steps"); echo "$py"
    pycl=$(/usr/bin/python3 "$ref" --model "$model" --steps "$steps" --channels-last); echo "$pycl"
    cs=$(winnow bench --model "$model" --steps "$steps" --precision fp32 | tail -1); echo "$cs"
    a=$(python3 -c "print(max($a, $(echo "$py" | rate)))"); b=$(python3 -c "print(max($b, $(echo "$pycl" | rate)))"); c=$(python3 -c "print(max($c, $(echo "$cs" | rate)))")
  done
  macs=$(/usr/bin/python3 - "$ref" "$model" <<'PY'
import importlib.util, sys, torch
spec = importlib.util.spec_from_file_location("ref", sys.argv[1]); ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
stages = {"preact-resnet18": (64, ((64, 1, 2), (128, 2, 2), (256, 2, 2), (512, 2, 2))),
          "compact-resnet": (24, ((48, 2, 1), (96, 2, 1), (192, 2, 1)))}[sys.argv[2]]
model = ref.PreActResNet(1, *stages); total = [0]
def hook(m, i, o):
    if isinstance(m, torch.nn.Conv2d): total[0] += o.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
    elif isinstance(m, torch.nn.Linear): total[0] += o.numel() * m.in_features
for m in model.modules(): m.register_forward_hook(hook)
model(torch.zeros(1, 1, 28, 28)); print(total[0])
PY
)
  python3 -c "
a, b, c, macs, peak = $a, $b, $c, $macs, $peak
best = max(a, b)
step_gflop = 3 * 2 * macs / 1e9
print(f'$model fp32, best of $rounds rounds: winnow {c:.1f} img/s, pytorch {a:.1f} img/s, channels-last {b:.1f} img/s; '
      f'ratio winnow/pytorch {c / best:.2f} (against the better PyTorch figure)')
print(f'$model: {step_gflop * 1e3:.0f} MFLOP per training image (nominal; Winograd 3x3 convolutions do fewer), so Winnow reaches '
      f'{c * step_gflop:.1f} GFLOP/s = {100 * c * step_gflop / peak:.0f}% of the {peak:.0f} GFLOP/s measured GEMM peak (PyTorch {100 * best * step_gflop / peak:.0f}%)')"
done

#!/usr/bin/env bash
# SANM's epoch cost against DivideMix's, measured in alternating rounds so that drift of a shared machine hits both:
# each round trains DivideMix, then SANM (with the extra SANM options given), for one warm-up and one divided epoch
# on a 10,000-image subset at 80% symmetric noise, and prints the divided epoch's train seconds and their ratio.
#   scripts/sanm-cost.sh OUT [ROUNDS] [-- SANM options...]      e.g. scripts/sanm-cost.sh runs/sanm-cost 3 -- --masked-views one
# ENCODER=CKPT starts both from an encoder; PRECISION (default fp32) and WINNOW (default artifacts/winnow/Winnow.Cli.dll) as named.
set -euo pipefail
out="${1:?usage: scripts/sanm-cost.sh OUT [ROUNDS] [-- SANM options...]}"; shift
rounds="${1:-3}"; [[ $# -gt 0 ]] && shift
[[ "${1:-}" == "--" ]] && shift
dll="${WINNOW:-artifacts/winnow/Winnow.Cli.dll}"
mkdir -p "$out"
{ echo index; seq 10000 59999; } > "$out/exclude.csv"
common=(--exclude "$out/exclude.csv" --noise symmetric --noise-rate 0.8 --epochs 2 --warmup-epochs 1 --co-divide sequential
        --gmm-iterations 200 --precision "${PRECISION:-fp32}" --threads 2)
[[ -n "${ENCODER:-}" ]] && common+=(--encoder "$ENCODER")
seconds() { tail -n 1 "$1/metrics.csv" | cut -d, -f9; }
ratios=()
for round in $(seq 1 "$rounds"); do
  rm -rf "$out/dm-$round" "$out/sanm-$round"
  dotnet "$dll" train --method dividemix "${common[@]}" --out "$out/dm-$round" > "$out/dm-$round.log"
  dotnet "$dll" train --method sanm "${common[@]}" "$@" --out "$out/sanm-$round" > "$out/sanm-$round.log"
  dm=$(seconds "$out/dm-$round"); sanm=$(seconds "$out/sanm-$round")
  ratio=$(python3 -c "print(f'{$sanm / $dm:.2f}')")
  ratios+=("$ratio")
  echo "round $round: DivideMix $dm s, SANM $sanm s, ratio $ratio"
done
echo "median ratio $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') over $rounds rounds; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

#!/usr/bin/env bash
# SANM beside DivideMix on the same labels, encoder, schedule and settings, both from the SimCLR encoder. The two run
# at the same time with one thread each, so that both see the same machine; their seconds per epoch compare as a ratio.
#   scripts/sanm-vs-dividemix.sh ENCODER OUT [SUBSET] [-- extra options for both]
# SUBSET (default 0: all 60,000) keeps the first SUBSET training images (the noise is still made on all 60,000).
# RECIPE (environment): 80 (default; the README's 80% recipe: 30 epochs, the rate stepped down after 18, C2D's
# sequential co-divide), 90 (DivideMix's 90% recipe: 25 epochs, cosine, α 0.01, τ 0.9, held labeled size, λ_u 0) or
# a40 (40% asymmetric: 13 epochs, cosine; robust-table.sh's dm-enc-a40).
# PRECISION (environment): auto (default), fp32 or bf16.
# SANM_OPTIONS (environment): options for SANM only (a cheaper step, say); its folder is then sanm-$SANM_NAME. A run
# already finished is kept, so a variant added later trains alone beside nothing (its seconds then compare less well).
set -euo pipefail
cd "$(dirname "$0")/.."
encoder=${1:?usage: scripts/sanm-vs-dividemix.sh ENCODER OUT [SUBSET] [-- options]}; out=${2:?OUT}; shift 2
subset=0; if [[ $# -gt 0 && "$1" != "--" ]]; then subset=$1; shift; fi
[[ "${1:-}" == "--" ]] && shift
source scripts/run-folder.sh
mkdir -p "$out"
common=(--encoder "$encoder" --co-divide sequential --gmm-iterations 200 --ramp-epochs 5 --precision "${PRECISION:-auto}" --threads 1)
case "${RECIPE:-80}" in
  80) common+=(--noise symmetric --noise-rate 0.8 --epochs 30 --schedule multistep --milestones 18) ;;
  90) common+=(--noise symmetric --noise-rate 0.9 --epochs 25 --mixmatch-alpha 0.01 --p-threshold 0.9 --hold-labeled-size --lambda-u 0) ;;
  a40) common+=(--noise asymmetric --noise-rate 0.4 --epochs 13) ;;
  *) echo "RECIPE must be 80, 90 or a40" >&2; exit 2 ;;
esac
if [[ "$subset" -gt 0 ]]; then
  first_images "$subset" "$out/exclude.csv"
  common+=(--exclude "$out/exclude.csv")
fi
run() { local name=$1 method=$2; shift 2; train_once "$out/$name" --method "$method" "${common[@]}" "$@"; } # name, method, options
read -r -a sanm_options <<< "${SANM_OPTIONS:-}"
sanm=sanm; [[ -n "${SANM_OPTIONS:-}" ]] && sanm=sanm-${SANM_NAME:?SANM_NAME names the SANM_OPTIONS run}
run dividemix dividemix "$@" >> "$out/dividemix.log" 2>&1 &
run "$sanm" sanm "$@" "${sanm_options[@]}" >> "$out/$sanm.log" 2>&1 &
wait
mapfile -t sanm_runs < <(find "$out" -mindepth 1 -maxdepth 1 -type d -name "sanm*" | sort)
python3 scripts/summarize-runs.py "$out/dividemix" "${sanm_runs[@]}"

#!/usr/bin/env bash
# Short seeded runs of every training method on the first 2,000 Fashion-MNIST training images (SimCLR: one epoch of all), for checking that a
# change of structure keeps behaviour: run it before and after, then compare the metrics.csv files to the digit.
#   scripts/method-regression.sh OUT [WINNOW_DLL]      # runs every method into OUT/<method>
#   scripts/method-regression.sh --compare A B         # compares A/<method>/metrics.csv with B/<method>/metrics.csv
# fp32 and 2 threads, so that the figures do not depend on the precision chosen by timing nor on the thread count.
set -euo pipefail

if [[ "${1:-}" == "--compare" ]]; then
  a="$2"; b="$3"; status=0
  for dir in "$b"/*/; do
    m=$(basename "$dir")
    # seconds differ from run to run: compare every other column
    if diff <(cut -d, -f1-8,11- "$a/$m/metrics.csv") <(cut -d, -f1-8,11- "$b/$m/metrics.csv") > /dev/null; then
      echo "$m: metrics.csv identical (every column but train_seconds and seconds), $(($(wc -l < "$a/$m/metrics.csv") - 1)) epochs"
    else
      echo "$m: metrics.csv DIFFERS"; diff <(cut -d, -f1-8,11- "$a/$m/metrics.csv") <(cut -d, -f1-8,11- "$b/$m/metrics.csv") | head -6; status=1
    fi
  done
  exit $status
fi

out="${1:?usage: scripts/method-regression.sh OUT [WINNOW_DLL] | --compare A B}"
dll="${2:-artifacts/winnow/Winnow.Cli.dll}"
encoder="${ENCODER:-runs/ssl/simclr/last.ckpt}"
mkdir -p "$out"
exclude="$out/exclude.csv"
{ echo index; seq 2000 59999; } > "$exclude"
common=(--exclude "$exclude" --noise symmetric --noise-rate 0.5 --precision fp32 --threads 2 --batch-size 64 --seed 7)
# ONLY="dividemix elr-plus" runs those alone.
run() { local name="$1"; shift; [[ -n "${ONLY:-}" && " $ONLY " != *" $name "* ]] && return 0; rm -rf "${out:?}/$name"; echo "== $name"; dotnet "$dll" train "${common[@]}" "$@" --out "$out/$name" | tail -1; }
run ce --method ce --epochs 2
run ce-reg --method ce-reg --epochs 2
run dividemix --method dividemix --epochs 3 --warmup 1
run dividemix-encoder --method dividemix --encoder "$encoder" --epochs 3 --warmup 1 --co-divide sequential
run sanm --method sanm --encoder "$encoder" --epochs 3 --warmup-epochs 1 --co-divide sequential
run elr --method elr --epochs 2
run elr-plus --method elr-plus --epochs 2
run ce-fixed --method ce --encoder "$encoder" --encoder-mode fixed --epochs 2
[[ -n "${ONLY:-}" && " $ONLY " != *" simclr "* ]] && exit 0
rm -rf "${out:?}/simclr"; echo "== simclr"
dotnet "$dll" pretrain --precision fp32 --threads 2 --batch-size 64 --seed 7 --epochs 1 --out "$out/simclr" 2>&1 | tail -1 || true

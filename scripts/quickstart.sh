#!/usr/bin/env bash
# Sets up Winnow and runs its main job: the CPU default encoder trained with cross-entropy on Fashion-MNIST
# with 40% symmetric label noise (true class included) for 4 epochs, printing Best and Last test accuracy.
# Sized to finish within 15 minutes, build included, on a 2-core AVX2-only CPU.
# Extra arguments are passed to 'winnow train' and override these (e.g. --epochs 10 --noise-rate 0.8).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "== installing Fashion-MNIST (Debian package dataset-fashion-mnist)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
command -v dotnet >/dev/null || { echo "winnow needs the .NET 10 SDK (dotnet) on PATH" >&2; exit 1; }

echo "== building winnow (Release)"
dotnet publish src/Winnow.Cli -c Release -o artifacts/winnow --nologo -v quiet -clp:ErrorsOnly
# The main job's options, each left out when the arguments give it.
defaults=()
for pair in "--noise symmetric" "--noise-rate 0.4" "--epochs 4"; do
  name=${pair%% *}
  [[ " $* " == *" $name "* || " $* " == *" $name="* ]] || defaults+=($pair)
done
echo "== training: winnow train ${defaults[*]:-} $*"
exec dotnet artifacts/winnow/Winnow.Cli.dll train ${defaults[@]+"${defaults[@]}"} "$@"

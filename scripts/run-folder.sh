# Sourced by the experiment scripts. train_once DIR OPTIONS...: 'winnow train --out DIR OPTIONS' unless DIR holds a
# finished run (summary.json: kept) or a run left half-way (options.json: resumed from its last checkpoint). With
# ROWS set (environment), only the folders it names are trained. $W is the winnow command.
W=${WINNOW:-dotnet artifacts/winnow/Winnow.Cli.dll}
train_once() {
  local dir=$1; shift
  if [[ -n "${ROWS:-}" && " $ROWS " != *" $(basename "$dir") "* ]]; then return 0; fi
  if [[ -f "$dir/summary.json" ]]; then return 0; fi
  if [[ -f "$dir/options.json" ]]; then $W train --resume "$dir"; else $W train --out "$dir" "$@"; fi
}
# first_images N FILE: writes an --exclude file that keeps the first N training images of 60,000 (the noise is still
# made on all of them).
first_images() { { echo index; seq "$1" 59999; } > "$2"; }

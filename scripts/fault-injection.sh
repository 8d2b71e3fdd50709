#!/usr/bin/env bash
# Fault injection for 'winnow train': kills a tiny seeded run with kill -9 at random moments, resumes it until it
# completes, and checks that the run folder ends byte-identical to an uninterrupted reference run (timing columns
# and fields aside) with no temporary file left behind. Then two scenario checks: two processes on one run folder at
# once (the second must be refused with exit 2), and hostile image folders (each must give exit 2 and one stderr line).
#
#   scripts/fault-injection.sh [--iterations N] [--method M] [--seed S] [--keep DIR] [--dll PATH] [--no-scenarios]
#
#   --iterations N   kill-and-resume iterations (default 20)
#   --method M       training method: ce (default), dividemix or sanm (both with --warmup-epochs 1), or any other
#   --seed S         seed of the kill moments (default 1); the same seed draws the same plan
#   --keep DIR       work in DIR and keep every run folder there (default: a temporary folder, removed at the end)
#   --dll PATH       an already built Winnow.Cli.dll (also WINNOW_DLL=PATH); default: dotnet publish to artifacts/winnow
#   --no-scenarios   only the kill-and-resume iterations
#
# Prints one line per iteration and a closing "K of N identical" line; exits 0 only when every iteration is identical
# and every scenario check passes. docs/usage.md ("Fault injection") says how to read the output.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."

iterations=20 method=ce seed=1 keep="" dll="${WINNOW_DLL:-}" scenarios=1
while (($#)); do
  case "$1" in
    --iterations) iterations=$2; shift 2 ;;
    --method) method=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --dll) dll=$2; shift 2 ;;
    --no-scenarios) scenarios=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "fault-injection.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$iterations" =~ ^[0-9]+$ && "$seed" =~ ^[0-9]+$ ]] || { echo "fault-injection.sh: --iterations and --seed take whole numbers" >&2; exit 2; }

if [[ -n "$keep" ]]; then work=$(mkdir -p "$keep" && cd "$keep" && pwd)
else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi

# A sleep without a fork: read with a timeout on a pipe that this shell holds open at both ends, so that nothing ever
# arrives. The kill loops poll every few milliseconds, and forking sleep that often would load the 2 cores.
exec {nap_fd}<> <(:)
nap() { read -r -t "$1" -u "$nap_fd" || true; }
now_ms() { local us=${EPOCHREALTIME/./}; REPLY=$((us / 1000)); }
# Seeded draws (bash's RANDOM, seeded once below). They set REPLY rather than print: a $(...) subshell would draw
# from a copy of the generator and leave the script's own sequence where it was.
rand_below() { REPLY=$(((RANDOM << 15 | RANDOM) % $1)); }
# True while the process runs; a child that has exited stays a zombie until waited for, and kill -0 still finds it.
alive() { local state; read -r _ _ state _ 2>/dev/null < "/proc/$1/stat" && [[ $state != Z ]]; }

build_cli() {
  if [[ -n "$dll" ]]; then
    [[ -f "$dll" ]] || { echo "fault-injection.sh: $dll not found" >&2; exit 2; }
    return
  fi
  command -v dotnet >/dev/null || { echo "fault-injection.sh: needs the .NET 10 SDK (dotnet) on PATH" >&2; exit 2; }
  echo "== building winnow (Release) into artifacts/winnow"
  dotnet publish src/Winnow.Cli -c Release -o artifacts/winnow --nologo -v quiet -clp:ErrorsOnly
  dll=artifacts/winnow/Winnow.Cli.dll
}

# make_dataset DIR: DIR/train and DIR/test, 4 classes of 16x16 grey-on-RGB PNGs, each class a bright bar two rows high
# at its own height over random noise (24 training and 6 test images per class), and DIR/odd-20x20.png for the
# mixed-size check. PNG needs zlib and CRC-32, which coreutils lacks: python3's standard library writes them.
make_dataset() {
  python3 - "$1" <<'EOF'
import os, random, struct, sys, zlib

def write_png(path, size, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + bytes(row) for row in rows)  # filter type 0 before every row
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

def bar_image(rng, cls, size):
    top = 2 + 3 * cls
    rows = []
    for y in range(size):
        row = []
        for _ in range(size):
            v = rng.randrange(90) + (150 if top <= y < top + 2 else 0)
            row += [v, v, v]
        rows.append(row)
    return rows

root, rng = sys.argv[1], random.Random(1)
for split, per_class in (("train", 24), ("test", 6)):
    for c in range(4):
        folder = os.path.join(root, split, "class" + "ABCD"[c])
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            write_png(os.path.join(folder, "%03d.png" % i), 16, bar_image(rng, c, 16))
write_png(os.path.join(root, "odd-20x20.png"), 20, bar_image(rng, 0, 20))
EOF
}

# The run every iteration repeats: fp32 given (so that no precision is chosen by timing), one thread, fixed seeds.
train_args() {
  local data=$work/data
  args=(train --method "$method" --dataset folder --data "$data/train" --test-data "$data/test"
    --noise symmetric --noise-rate 0.3 --epochs 5 --batch-size 8 --threads 1 --seed 7 --precision fp32)
  case "$method" in dividemix|sanm) args+=(--warmup-epochs 1) ;; esac
}

# start LOG ARGS...: starts winnow in the background with its output in LOG(.err); sets pid.
start() {
  local log=$1; shift
  dotnet "$dll" "$@" >"$log" 2>"$log.err" &
  pid=$!
}

# wait_for MOMENT DIR: waits until MOMENT, or until the process ends. MOMENT is one of
#   time:MS       MS milliseconds after the start
#   write:FILE:K  the K-th time FILE.tmp<pid> appears: the process is writing FILE for the K-th time (last.ckpt,
#                 best.ckpt: the end of an epoch, a window of milliseconds that a random time rarely hits; counted in
#                 writes rather than time, so that a loaded machine moves it no more than a seed does). AtomicFile
#                 names its temporary file after the process id, which tells it from a killed run's leftover.
#   best:E        last.ckpt of epoch E (a best epoch) renamed into place: the moment before, or during, the copy of it
#                 to best.ckpt (that copy takes a millisecond or less, too short to be caught by polling for it)
#   label         summary.json written: training is over, the label-issue phase runs
wait_for() {
  local moment=$1 dir=$2 t0 seen=0 present=0
  now_ms; t0=$REPLY
  case "$moment" in
    time:*) while alive "$pid"; do now_ms; ((REPLY - t0 < ${moment#time:})) || break; nap 0.005; done ;;
    write:*)
      local file=${moment#write:}; local count=${file##*:}; file=${file%:*}
      # A write takes a few milliseconds: polled every millisecond, each one was seen in tests.
      while alive "$pid"; do
        if [[ -e "$dir/$file.tmp$pid" ]]; then ((present)) || ((++seen < count)) || break; present=1; else present=0; fi
        nap 0.001
      done ;;
    best:*)
      wait_for "write:last.ckpt:${moment#best:}" "$dir"
      while alive "$pid" && [[ -e "$dir/last.ckpt.tmp$pid" && ! -e "$dir/best.ckpt.tmp$pid" ]]; do nap 0.0002; done ;;
    label) while alive "$pid" && [[ ! -f "$dir/summary.json" ]]; do nap 0.002; done ;;
  esac
  now_ms; waited=$((REPLY - t0))
}

# completed_epochs CKPT: the epoch count in a checkpoint's metadata (JSON near its start); 0 without one.
completed_epochs() {
  local n
  n=$(head -c 4096 "$1" 2>/dev/null | grep -ao '"completedEpochs": *[0-9]*' | grep -o '[0-9]*$') || true
  REPLY=${n:-0}
}

# phase_of DIR MARKER: what the run (process $pid, started just after MARKER was touched) was doing when killed, read
# from the files it had written: its own temporary files (not those an earlier kill left), whether it had written
# anything yet, the metrics rows and the epoch of last.ckpt.
phase_of() {
  local dir=$1 tmp=("$1"/*.tmp"$pid") rows=0 best_row=0
  [[ -f "$dir/metrics.csv" ]] && rows=$(($(wc -l < "$dir/metrics.csv") - 1))
  completed_epochs "$dir/last.ckpt"; local done_epochs=$REPLY
  completed_epochs "$dir/best.ckpt"; local best_epoch=$REPLY
  # The epoch of highest test accuracy among those last.ckpt holds: the epoch best.ckpt should hold.
  [[ -f "$dir/metrics.csv" ]] && best_row=$(awk -F, -v done="$done_epochs" 'NR > 1 && $1 <= done && (NR == 2 || $4 > best) { best = $4; e = $1 } END { print e + 0 }' "$dir/metrics.csv")
  if [[ ! -f "$dir/options.json" ]]; then REPLY="startup"
  elif ((${#tmp[@]} == 0)) && [[ -z $(find "$dir" -maxdepth 1 -newer "$2" -print -quit) ]]; then REPLY="startup (nothing written yet)"
  elif ((${#tmp[@]})); then
    local names="" f; for f in "${tmp[@]}"; do f=${f##*/}; names+="${names:+ }${f%.tmp*}"; done
    REPLY="writing $names after epoch $rows"
  elif [[ -f "$dir/summary.json" ]]; then
    if [[ -f "$dir/report.html" ]]; then REPLY="all files written, before exit"; else REPLY="label-issue phase"; fi
  elif ((rows > done_epochs)); then REPLY="end of epoch $rows (metrics.csv written, last.ckpt at epoch $done_epochs)"
  elif ((best_row != best_epoch)); then REPLY="end of epoch $rows (last.ckpt written, best.ckpt $( ((best_epoch)) && echo "still at epoch $best_epoch" || echo "not yet"))"
  else REPLY="epoch $((done_epochs + 1))"; fi
}

# run_killed LOG MOMENT DIR ARGS...: starts winnow, kills it at MOMENT (wait_for); sets outcome (what it hit, for
# the report) and finished=1 when the process ended on its own before the kill.
run_killed() {
  local log=$1 moment=$2 dir=$3 rc=0; shift 3
  : > "$log.started"
  start "$log" "$@"
  wait_for "$moment" "$dir"
  if alive "$pid"; then
    # (bash's "Killed" notice of the background job goes to the shell's stderr at the wait: silenced.)
    kill -9 "$pid"; { wait "$pid"; } 2>/dev/null || true
    phase_of "$dir" "$log.started"
    outcome="killed at $(printf '%d.%02d' $((waited / 1000)) $((waited % 1000 / 10))) s ($moment): $REPLY"; finished=0
  else
    wait "$pid" || rc=$?
    outcome="ended on its own (exit $rc) before the $moment kill"; finished=$((rc == 0))
  fi
}

# continue_args DIR: the command of one more attempt at DIR: --resume once options.json exists, else the first command
# again (a run killed before writing options.json is not a run yet, and --resume refuses it). Sets resume_args and verb.
continue_args() {
  if [[ -f "$1/options.json" ]]; then resume_args=(train --resume "$1") verb=resume
  else train_args; resume_args=("${args[@]}" --out "$1") verb=restart; fi
}

# compare_runs REF DIR: sets REPLY to the differences, empty when DIR matches REF.
#   metrics.csv   every column but train_seconds and seconds (9 and 10: EpochMetrics.Columns)
#   summary.json  every field but "seconds" (RunSummary: the summed epoch times)
#   options.json  every field but "commandLine" (it names the folder)
#   report.html   not compared: it names the folder and shows the epoch times
#   every other file of REF byte for byte (checkpoints, labels, label issues, noise estimate); no file beyond REF's,
#   no temporary file left.
compare_runs() {
  local ref=$1 dir=$2 diffs=() f name
  for f in "$ref"/*; do
    name=${f##*/}
    [[ -f "$dir/$name" ]] || { diffs+=("$name missing"); continue; }
    case "$name" in
      metrics.csv) cmp -s <(cut -d, -f1-8,11- "$f") <(cut -d, -f1-8,11- "$dir/$name") || diffs+=("$name") ;;
      summary.json) cmp -s <(grep -v '"seconds"' "$f") <(grep -v '"seconds"' "$dir/$name") || diffs+=("$name") ;;
      options.json) cmp -s <(grep -v '"commandLine"' "$f") <(grep -v '"commandLine"' "$dir/$name") || diffs+=("$name") ;;
      report.html) ;;
      *) cmp -s "$f" "$dir/$name" || diffs+=("$name") ;;
    esac
  done
  for f in "$dir"/*; do
    name=${f##*/}
    [[ -e "$ref/$name" ]] && continue
    if [[ $name == *.tmp* ]]; then diffs+=("leftover $name"); else diffs+=("extra $name"); fi
  done
  local IFS=,; REPLY="${diffs[*]}"; REPLY=${REPLY//,/, }
}

# ---------------------------------------------------------------------------------------------------------------
# Reference and control: the uninterrupted run, twice. The control shows that the run is deterministic here: if it
# differs, every DIFFERENT below could be noise rather than a resume defect, and the script stops.
reference() {
  train_args
  echo "== reference: winnow ${args[*]} --out REF"
  dotnet "$dll" "${args[@]}" --out "$work/ref" >"$work/ref.log" 2>&1 || { echo "reference run failed:"; tail -3 "$work/ref.log"; exit 1; }
  # The kill times are drawn over the second run's wall time: the first pays for a cold start (disk cache, native
  # libraries) that the killed runs do not.
  now_ms; local t0=$REPLY
  dotnet "$dll" "${args[@]}" --out "$work/control" >"$work/control.log" 2>&1 || { echo "control run failed:"; tail -3 "$work/control.log"; exit 1; }
  now_ms; ref_ms=$((REPLY - t0))
  # How often the run writes each checkpoint: last.ckpt every epoch, best.ckpt at each new highest test accuracy.
  last_writes=$(($(wc -l < "$work/ref/metrics.csv") - 1))
  best_epochs=($(awk -F, 'NR > 1 && (NR == 2 || $4 > best) { best = $4; print $1 }' "$work/ref/metrics.csv"))
  compare_runs "$work/ref" "$work/control"
  if [[ -n "$REPLY" ]]; then echo "control: two uninterrupted runs differ ($REPLY): the run is not deterministic here"; exit 1; fi
  echo "reference: a second uninterrupted run is identical to it, in $ref_ms ms wall time (last.ckpt written $last_writes times, best.ckpt after epochs ${best_epochs[*]})"
}

# draw_moment KIND: a seeded kill moment of KIND (time, last.ckpt, best.ckpt, label) for wait_for, in REPLY: a time
# over the reference's wall time, one of the reference's writes of last.ckpt, or one of its best epochs.
draw_moment() {
  case "$1" in
    time) rand_below "$ref_ms"; REPLY=time:$REPLY ;;
    last.ckpt) rand_below "$last_writes"; REPLY=write:last.ckpt:$((REPLY + 1)) ;;
    best.ckpt) rand_below "${#best_epochs[@]}"; REPLY=best:${best_epochs[$REPLY]} ;;
    label) REPLY=label ;;
  esac
}

# One iteration: a first kill, for some iterations a second kill during the first resume, then resumes until the run
# completes (at most 5 attempts), then the comparison.
iteration() {
  local i=$1 dir="$work/kill-$1" log="$work/kill-$1.log" attempt=0 report resumes=0 t0 rc
  now_ms; t0=$REPLY
  # The plan is drawn before anything runs, so that a seed always draws the same plan.
  # The first kill's kind in turn; the second's (a resume) at random between a time and a last.ckpt write.
  local kinds=(time last.ckpt label time best.ckpt) second=$((i % 3 == 2)) moment moment2 kind2=time
  draw_moment "${kinds[$(((i - 1) % 5))]}"; moment=$REPLY
  rand_below 2; ((REPLY)) && kind2=last.ckpt
  draw_moment "$kind2"; moment2=$REPLY
  train_args
  run_killed "$log" "$moment" "$dir" "${args[@]}" --out "$dir"
  report="$outcome"
  while ((!finished)); do
    if ((++attempt > 5)); then report+="; no completion after 5 attempts"; break; fi
    continue_args "$dir"
    ((resumes++)) || true
    if ((second && attempt == 1)); then
      # The resume writes last.ckpt once per epoch left: the K-th of the plan becomes the last of those if fewer.
      completed_epochs "$dir/last.ckpt"; local left=$((last_writes - REPLY))
      [[ $moment2 == write:last.ckpt:* ]] && ((${moment2##*:} > left && left > 0)) && moment2=write:last.ckpt:$left
      run_killed "$log.$attempt" "$moment2" "$dir" "${resume_args[@]}"
      report+="; $verb $outcome"
      continue
    fi
    rc=0; dotnet "$dll" "${resume_args[@]}" >"$log.$attempt" 2>"$log.$attempt.err" || rc=$?
    if ((rc)); then report+="; $verb exit $rc: $(head -1 "$log.$attempt.err")"; break; fi
    finished=1
  done
  compare_runs "$work/ref" "$dir"
  local verdict=identical; [[ -z "$REPLY" ]] || verdict="DIFFERENT: $REPLY"
  ((finished)) || verdict="DIFFERENT: did not complete${REPLY:+; $REPLY}"
  [[ $verdict == identical ]] && ((identical++)) || true
  now_ms
  printf 'iteration %2d (%d s, %d resume%s): %s => %s\n' "$i" $(((REPLY - t0 + 500) / 1000)) "$resumes" "$([[ $resumes == 1 ]] || echo s)" "$report" "$verdict"
}

# ---------------------------------------------------------------------------------------------------------------
# Scenario checks. check NAME OK MESSAGE: prints the check's verdict (OK: 1 passed, 0 failed) and counts failures.
scenario_failures=0
check() {
  if (($2)); then echo "  ok    $1: $3"; else echo "  FAIL  $1: $3"; scenario_failures=$((scenario_failures + 1)); fi
}

# (a) Two processes on one run folder at once: both started together, so both pass the "already holds a run" check
# that looks for options.json; only a lock on the folder can refuse the second. Once with two fresh trains, once with
# two resumes of a killed run. Expected: one exits 0 with a folder identical to REF, the other exits 2 with one line.
concurrent() {
  local name=$1 dir=$2; shift 2
  local rc1=0 rc2=0 pid1 pid2
  start "$dir.1.log" "$@"; pid1=$pid
  start "$dir.2.log" "$@"; pid2=$pid
  wait "$pid1" || rc1=$?; wait "$pid2" || rc2=$?
  local refused="" lines
  ((rc1 == 0 && rc2 == 2)) && refused="$dir.2.log"; ((rc1 == 2 && rc2 == 0)) && refused="$dir.1.log"
  if [[ -n "$refused" ]]; then
    lines=$(wc -l < "$refused.err")
    compare_runs "$work/ref" "$dir"
    check "$name" "$((lines == 1 && ${#REPLY} == 0))" \
      "exits 0 and 2; the refused one wrote $lines stderr line(s): $(head -1 "$refused.err"); folder ${REPLY:+DIFFERENT: }${REPLY:-identical to REF}"
  else
    compare_runs "$work/ref" "$dir"
    check "$name" 0 "exits $rc1 and $rc2 (expected 0 and 2: the second was not refused); folder ${REPLY:+DIFFERENT: }${REPLY:-identical to REF}"
  fi
}

scenario_concurrent() {
  echo "== scenario (a): two processes on one run folder"
  train_args
  concurrent "two trains started together" "$work/twice" "${args[@]}" --out "$work/twice"
  # A run killed in its second epoch, then resumed twice at once.
  run_killed "$work/twice-resume.log" time:$((ref_ms / 2)) "$work/twice-resume" "${args[@]}" --out "$work/twice-resume"
  if [[ -f "$work/twice-resume/options.json" ]]; then
    echo "  (the run to resume: $outcome)"
    concurrent "two resumes started together" "$work/twice-resume" train --resume "$work/twice-resume"
  else
    check "two resumes started together" 0 "the run to resume was $outcome; nothing to resume"
  fi
}

# (b) Hostile image folders: a copy of the training folder with one bad thing each. Expected for each: exit 2 and
# exactly one line on stderr (naming the file), within the timeout.
scenario_hostile() {
  echo "== scenario (b): hostile training folders (expected: exit 2 and one stderr line each)"
  local case dir rc lines
  for case in symlink-loop zero-byte truncated not-an-image mixed-sizes; do
    dir="$work/hostile/$case"
    rm -rf "$dir"; mkdir -p "$dir"; cp -r "$work/data/train" "$dir/train"
    case $case in
      symlink-loop) ln -s . "$dir/train/classA/loop" ;;
      zero-byte) : > "$dir/train/classA/empty.png" ;;
      truncated) head -c "$(($(stat -c %s "$dir/train/classA/000.png") / 2))" "$dir/train/classA/000.png" > "$dir/train/classA/truncated.png" ;;
      not-an-image) echo "a text file, not an image" > "$dir/train/classB/notes.png" ;;
      mixed-sizes) cp "$work/data/odd-20x20.png" "$dir/train/classC/odd.png" ;;
    esac
    rc=0
    timeout 120 dotnet "$dll" train --dataset folder --data "$dir/train" --test-data "$work/data/test" --epochs 1 --batch-size 8 \
      --threads 1 --precision fp32 --out "$dir/run" >"$dir.log" 2>"$dir.err" || rc=$?
    lines=$(wc -l < "$dir.err")
    # An accepted folder shows what was read instead (its first line counts the images).
    check "$case" "$((rc == 2 && lines == 1))" "exit $rc$( ((rc == 124)) && echo ' (timed out after 120 s)'), $lines stderr line(s)$( ((lines)) && echo ": $(head -1 "$dir.err" | cut -c1-240)")$( ((rc == 0)) && echo "; it read: $(head -1 "$dir.log" | cut -c1-160)")"
  done
}

# ---------------------------------------------------------------------------------------------------------------
build_cli
make_dataset "$work/data"
reference
RANDOM=$seed
identical=0
now_ms; suite_t0=$REPLY
echo "== $iterations iterations, method $method, seed $seed"
for ((i = 1; i <= iterations; i++)); do iteration "$i"; done
now_ms; per=$(((REPLY - suite_t0) / (iterations > 0 ? iterations : 1) / 100))
echo "$identical of $iterations identical ($(((REPLY - suite_t0) / 1000)) s: $((per / 10)).$((per % 10)) s per iteration)"
if ((scenarios)); then
  scenario_concurrent
  scenario_hostile
  echo "scenario checks: $scenario_failures failed"
fi
[[ -n "$keep" ]] && echo "run folders and logs kept in $work"
((identical == iterations && scenario_failures == 0))

#!/usr/bin/env bash
# Run make targets side by side: each one's output goes to LOGDIR/<target>.log, the logs are
# printed once all have finished, then one PASS/FAIL line per target. Fails when any failed.
#
#   parts.sh LOGDIR [--live TARGET] [--nice TARGET]... TARGET...
#
# --live TARGET: that target's output also reaches the terminal as it runs (the long one of
#   `make test`, so that CI shows progress); its log is not printed a second time.
# --nice TARGET: that target runs at a lower CPU priority (nice 10), so that it takes the CPU
#   the others leave idle (the checks beside the sandbox phase of `make test`).
set -uo pipefail
logdir=$1
shift
live=
targets=()
declare -A niceness
while [ $# -gt 0 ]; do
  case $1 in
    --live) live=$2; targets+=("$2"); shift 2 ;;
    --nice) niceness[$2]=10; targets+=("$2"); shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
make=${MAKE:-make}
mkdir -p "$logdir"

# Each part in a process group of its own (set -m): an interrupt stops every part, whole.
set -m
declare -A pid
# shellcheck disable=SC2317  # run by the trap below
stop_parts() {
  local part
  for part in "${pid[@]}"; do kill -TERM -- "-$part" 2>/dev/null; done
  exit 130
}
trap stop_parts INT TERM
for target in "${targets[@]}"; do
  log=$logdir/$target.log
  rm -f "$logdir/$target.seconds"
  (
    start=$SECONDS
    run=(nice -n "${niceness[$target]:-0}" "$make" --no-print-directory "$target")
    if [ "$target" = "$live" ]; then
      "${run[@]}" 2>&1 | tee "$log"  # pipefail: make's status
    else
      "${run[@]}" > "$log" 2>&1
    fi
    status=$?
    echo $((SECONDS - start)) > "$logdir/$target.seconds"
    exit $status
  ) &
  pid[$target]=$!
done

declare -A status
for target in "${targets[@]}"; do
  wait "${pid[$target]}"
  status[$target]=$?
done

seconds() { cat "$logdir/$1.seconds" 2>/dev/null || echo 0; }

failed=0
for target in "${targets[@]}"; do
  [ "$target" = "$live" ] && continue
  echo "=============== $target ($logdir/$target.log)"
  cat "$logdir/$target.log"
done
echo "==============="
for target in "${targets[@]}"; do
  if [ "${status[$target]}" -eq 0 ]; then
    printf 'PASS  %-12s %4d s\n' "$target" "$(seconds "$target")"
  else
    printf 'FAIL  %-12s %4d s  (exit %d; log %s)\n' "$target" "$(seconds "$target")" "${status[$target]}" "$logdir/$target.log"
    failed=1
  fi
done
exit $failed

#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build (make fuzz) for a bounded time,
# two at a time, each from its seed corpus in tests/fuzz/corpus/<name> (copied:
# the repository's corpus is not modified). Prints, per target, the inputs
# executed and the crashes; exits non-zero when any target found one.
#   tools/run-fuzzers.sh BUILD_DIR SECONDS [TARGET...]
set -uo pipefail
build=${1:?build dir}
seconds=${2:?seconds per target}
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(request candidates block_list return zip config note proof contacts)
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/tacet-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT

run_one() {
  local name=$1 dir="$work/$1"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -r "$root/tests/fuzz/corpus/$name/." "$dir/corpus/" 2>/dev/null || true
  # TMPDIR: the targets that record open their ledger under it, so it goes
  # with the work directory.
  TMPDIR="$dir" "$build/tests/fuzz/${name}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=10 -max_len=65536 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    "$dir/corpus" >"$dir/log" 2>&1
  echo $? >"$dir/rc"
}

pids=()
for name in "${targets[@]}"; do
  run_one "$name" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
done
wait

failed=0
printf '%-12s %12s %8s %8s\n' target inputs corpus crashes
for name in "${targets[@]}"; do
  dir="$work/$name"
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$' || echo 0)
  corpus=$(ls "$dir/corpus" | wc -l)
  crashes=$(ls "$dir/artifacts" | wc -l)
  rc=$(cat "$dir/rc")
  printf '%-12s %12s %8s %8s\n' "$name" "${runs:-0}" "$corpus" "$crashes"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
    echo "--- $name failed (exit $rc); the end of its log:" >&2
    tail -40 "$dir/log" >&2
    for a in "$dir/artifacts"/*; do
      [ -f "$a" ] && { echo "--- artifact $(basename "$a") (base64):" >&2; base64 -w0 "$a" >&2; echo >&2; }
    done
  fi
done
exit $failed

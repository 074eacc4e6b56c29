#!/usr/bin/env bash
# Fuzzes the readers of untrusted files with libFuzzer and AddressSanitizer: the IDX reader (plain and gzip), the
# safetensors reader (models and checkpoints, and resuming from what it accepts), the PNG mosaic loader, and the
# CSV reader with `train`'s reading of a table, and packed data files read mapped as `train --data` reads them.
#
#   scripts/fuzz.sh [SECONDS] [TARGET ...]     targets: idx safetensors mosaic csv packed (default: all, 60 s each)
#
# Starts from the seeds in Fuzz/corpus/TARGET; inputs found along the way go to .build-fuzz/corpus/TARGET (not
# committed), crashing inputs to Fuzz/crashes/ (each one fixed becomes a regression test). Prints each target's
# executions per second and coverage; exits 1 if any target crashed.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(idx safetensors mosaic csv packed)
scratch=.build-fuzz
mkdir -p Fuzz/crashes
failed=0
for target in "${targets[@]}"; do
    mkdir -p "$scratch"
    # SwiftPM passes only the first --sanitize to library targets: ask swiftc for both sanitizers directly
    # (the last -sanitize wins), and keep --sanitize fuzzer so the target links against libFuzzer's main.
    if ! MLP_FUZZ=1 swift build -c debug --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address \
            --scratch-path "$scratch" --product "fuzz-$target" >"$scratch/build-$target.log" 2>&1; then
        cat "$scratch/build-$target.log" >&2
        exit 1
    fi
    mkdir -p "$scratch/corpus/$target"
    extra=()
    [ -f "Fuzz/$target.dict" ] && extra+=("-dict=Fuzz/$target.dict")
    # The mosaic loader decodes on worker threads, whose start-up allocations send LeakSanitizer scanning after
    # every input (95 runs/s instead of thousands); its leak check is left to the other targets' runs.
    [ "$target" = mosaic ] && extra+=("-detect_leaks=0")
    log="$scratch/fuzz-$target.log"
    "$scratch/debug/fuzz-$target" "$scratch/corpus/$target" "Fuzz/corpus/$target" "${extra[@]}" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="Fuzz/crashes/$target-" >"$log" 2>&1
    status=$?
    if grep -q "no interesting inputs were found" "$log"; then
        echo "fuzz-$target: no coverage feedback: the code was not instrumented (see $log)" >&2
        failed=1
        continue
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
    coverage=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*')
    if [ $status -eq 0 ]; then
        echo "fuzz-$target: ${runs:-?} runs in ${seconds} s, ${speed:-?} exec/s, ${coverage:-no coverage line}, no crash"
    else
        failed=1
        echo "fuzz-$target: CRASH after ${runs:-?} runs (exit $status); input saved in Fuzz/crashes/:" >&2
        grep -E 'ERROR|Fatal error|SUMMARY|artifact' "$log" | head -5 >&2
    fi
done
exit $failed

#!/usr/bin/env bash
# --version answers on every example binary, the benchmark and every tool,
# with the version in VERSION (its one place: the binaries print the
# generated optim/version.h), and does nothing else.
set -uo pipefail
source tests/example_checks.sh
SUITE=version
version=$(head -n 1 VERSION)

answers() {  # answers PROGRAM...: `PROGRAM --version` prints "NAME (adaptive VERSION...", exit 0, nothing else
  local out; out=$("$@" --version 2>"$TMP/version.err"); local rc=$?
  echo "$out"; cat "$TMP/version.err"
  [[ $rc -eq 0 && $(wc -l <<<"$out") -eq 1 && ! -s $TMP/version.err ]] &&
    grep -qE "^[A-Za-z_.]+ \(adaptive $version[,)]" <<<"$out"
}

for binary in regression mnist torchscript; do
  check "${binary}_answers_version" answers "$BIN/$binary"
done
check optimizer_benchmark_answers_version answers "${ADAPTIVE_BUILD_ROOT:-.}/tools/benchmark/optimizer_benchmark"
# Every executable in tools/ (a new tool is covered without editing this file).
for tool in tools/*; do
  [[ -f $tool && -x $tool ]] || continue
  check "$(basename "$tool")_answers_version" answers "$tool"
done
finish

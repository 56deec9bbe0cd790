#!/bin/sh
# Runs a libFuzzer binary for the fuzz suite: run_fuzz.sh FUZZER WORK_DIR SEED_DIR [ARGS...]
# Creates WORK_DIR (in the build tree) first: libFuzzer writes new inputs to the first
# corpus dir and refuses one that does not exist. The seed dir is only read.
set -eu
fuzzer=$1
work=$2
shift 2
mkdir -p "$work"
exec "$fuzzer" "$work" "$@"

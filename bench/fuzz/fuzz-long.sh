#!/usr/bin/env bash
# Long fuzzing: every libFuzzer target for SECONDS each (default an hour), keeping the
# grown corpora in bench/work/fuzz-corpus so that the next run starts where this one
# stopped. Crash inputs land in build-fuzz/fuzz-TARGET-crash-*. The summary (executions,
# coverage per target) is build-fuzz/fuzz-summary.tsv.
# usage: bench/fuzz/fuzz-long.sh [SECONDS [TARGET...]]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-3600}
shift || true
FUZZ_SECONDS=$seconds FUZZ_CORPUS_DIR=${FUZZ_CORPUS_DIR:-bench/work/fuzz-corpus} \
	exec scripts/test-fuzz "$@"

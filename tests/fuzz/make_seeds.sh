#!/bin/sh
# Copies small real Go binaries (stripped symbolizer fixtures of the oldest and newest
# toolchain, PIE and cgo) into a corpus directory for fuzz_go_binary.
# usage: make_seeds.sh CORPUS_DIR FIXTURE_DIR STAMP
set -eu
dir=$1 fixtures=$2 stamp=$3
mkdir -p "$dir"
for f in "$fixtures"/symfix-*-default.stripped "$fixtures"/symfix-*-cgopie.stripped; do
	[ -f "$f" ] && cp "$f" "$dir/"
done
touch "$stamp"

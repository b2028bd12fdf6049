#!/bin/sh
# Builds the symbolizer fixture with one Go toolchain in every build mode, plus a
# `strip --strip-all` copy of each. Offline, standard library only.
# usage: build_fixtures.sh GO_VERSION OUTDIR FIXTURE_SRC GO_BUILD_HELPER
# outputs: OUTDIR/symfix-VER-MODE and OUTDIR/symfix-VER-MODE.stripped for MODE in
#          default sw pie trimpath cgoext cgopie (cgo, PIE, external linking: the
#          pclntab loses its section and, stripped, its symbols) race (-race: the
#          race runtime's C objects and instrumented Go code) arm64 (GOARCH=arm64)
set -eu
ver=$1 outdir=$2 src=$3 gobuild=$4
case $outdir in /*) ;; *) outdir=$(pwd)/$outdir ;; esac
# The compiled packages come from scripts/go-build's cache, shared by every build
# directory: the sanitizer build does not compile seven toolchains' libraries again.
build() { # mode, then go build flags
	mode=$1
	shift
	out="$outdir/symfix-$ver-$mode"
	"$gobuild" "$ver" "$out" "$src" "$@"
	$strip --strip-all -o "$out.stripped" "$out"
}
strip=strip
CGO_ENABLED=0 build default
CGO_ENABLED=0 build sw -ldflags=-s\ -w
CGO_ENABLED=0 build pie -buildmode=pie
CGO_ENABLED=0 build trimpath -trimpath
CGO_ENABLED=1 build cgoext -ldflags=-linkmode=external
CGO_ENABLED=1 build cgopie -buildmode=pie -ldflags=-linkmode=external
CGO_ENABLED=1 build race -race
# arm64 (read here, not run): binutils' strip knows only this machine's format.
strip=llvm-strip GOARCH=arm64 CGO_ENABLED=0 build arm64

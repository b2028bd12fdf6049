// work does a fixed amount of CPU work on W goroutines and prints the wall time it took
// in nanoseconds: the target whose slowdown bench/cpu_overhead measures.
//
// usage: work [-iters N] [-workers W] [-cpuprofile FILE]
// With -cpuprofile, Go's own CPU profiler (100 Hz) runs during the work.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sync"
	"time"
)

var sink [64]uint64

//go:noinline
func step(x uint64) uint64 {
	for i := 0; i < 1000; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func main() {
	iters := flag.Int("iters", 200000, "work units per worker")
	workers := flag.Int("workers", 2, "goroutines")
	cpuprofile := flag.String("cpuprofile", "", "run Go's CPU profiler, writing here")
	flag.Parse()
	if *cpuprofile != "" {
		var w io.Writer = io.Discard
		if *cpuprofile != "-" {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				panic(err)
			}
			defer f.Close()
			w = f
		}
		if err := pprof.StartCPUProfile(w); err != nil {
			panic(err)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			x := uint64(w + 1)
			for i := 0; i < *iters; i++ {
				x = step(x)
			}
			sink[w*8] = x
		}(w)
	}
	wg.Wait()
	fmt.Println(time.Since(start).Nanoseconds())
}

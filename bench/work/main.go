// work does a fixed amount of CPU work with allocations on W goroutines and prints the
// wall time it took in nanoseconds: the target whose slowdown bench/cpu_overhead measures.
// It reads a heap profile reader (-cpuprofile's pprof import keeps memory profiling on).
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

var keep [64][]byte

//go:noinline
func step(x uint64, w int) uint64 {
	for i := 0; i < 1000; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	// Allocation churn (about 200k allocations a second), so the heap, GC and
	// goroutine hooks have work; most of it dies young.
	b := make([]byte, 64+x%512)
	b[0] = byte(x)
	keep[w*8] = b
	return x
}

func main() {
	iters := flag.Int("iters", 200000, "work units per worker")
	workers := flag.Int("workers", 2, "goroutines")
	cpuprofile := flag.String("cpuprofile", "", "run Go's CPU profiler, writing here")
	heapprofile := flag.Bool("heapprofile", false, "write Go's heap profile to stderr at the end")
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
				x = step(x, w)
			}
			sink[w*8] = x
		}(w)
	}
	wg.Wait()
	fmt.Println(time.Since(start).Nanoseconds())
	if *heapprofile {
		pprof.Lookup("heap").WriteTo(os.Stderr, 0) // also keeps memory profiling linked in
	}
}

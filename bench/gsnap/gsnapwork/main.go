// gsnapwork: the target of bench/gsnap. Parks P goroutines (a channel receive that never
// completes), reads a line on stdin, then runs a fixed CPU work (N rounds of a hash on
// one goroutine, on a locked thread) and prints "work WALL_SECONDS CPU_SECONDS". With -selfprofile it also writes its own
// goroutine profile (runtime/pprof "goroutine", what /debug/pprof/goroutine serves)
// every second while it works: the anchor, the Go way of getting the same data.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"
)

// threadCPU: CPU time of the calling thread (RUSAGE_THREAD), seconds.
func threadCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

var never = make(chan struct{})

//go:noinline
func parked() { <-never }

//go:noinline
func work(n int) uint64 {
	h := uint64(1469598103934665603)
	for i := 0; i < n; i++ {
		h ^= uint64(i)
		h *= 1099511628211
	}
	return h
}

func main() {
	p := flag.Int("p", 10000, "parked goroutines")
	n := flag.Int("n", 1000000000, "work rounds")
	self := flag.Bool("selfprofile", false, "write the goroutine profile every second")
	flag.Parse()
	for i := 0; i < *p; i++ {
		go parked()
	}
	bufio.NewReader(os.Stdin).ReadString('\n')
	stop := make(chan struct{})
	if *self {
		go func() {
			t := time.NewTicker(time.Second)
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					pprof.Lookup("goroutine").WriteTo(io.Discard, 0)
				}
			}
		}()
	}
	// the work on one locked thread: its CPU time does not count waiting for a CPU the
	// machine's other processes hold, only what the work itself needed
	runtime.LockOSThread()
	t0, c0 := time.Now(), threadCPU()
	h := work(*n)
	d, c := time.Since(t0), threadCPU()-c0
	close(stop)
	fmt.Printf("work %.6f %.6f %d\n", d.Seconds(), c, h&1)
}

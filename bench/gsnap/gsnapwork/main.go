// gsnapwork: the target of bench/gsnap. Parks P goroutines (a channel receive that never
// completes), reads a line on stdin, then runs a fixed CPU work (N rounds of a hash on
// one goroutine) and prints "work SECONDS". With -selfprofile it also writes its own
// goroutine profile (runtime/pprof "goroutine", what /debug/pprof/goroutine serves)
// every second while it works: the anchor, the Go way of getting the same data.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"
)

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
	t0 := time.Now()
	h := work(*n)
	d := time.Since(t0)
	close(stop)
	fmt.Printf("work %.6f %d\n", d.Seconds(), h&1)
}

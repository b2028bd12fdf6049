// traced simulates a service that handles requests under OpenTelemetry-style trace
// context: each request runs in pprof.Do with its trace and span IDs as pprof labels
// (alternately the trace_id/span_id and the otel.traceid/otel.spanid conventions) and
// burns CPU in main.handleRequest. A profiler that links samples to spans must link
// every sample of main.handleRequest to one of the spans printed here.
//
// usage: traced [-seconds S] [-request-ms MS]
// Prints "ready", then "span KEY TRACE_ID SPAN_ID" after each request, then "done".
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"runtime/pprof"
	"time"
)

var sink uint64

//go:noinline
func handleRequest(d time.Duration) {
	end := time.Now().Add(d)
	x := sink | 1
	for time.Now().Before(end) {
		for i := 0; i < 10000; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	sink = x
}

func newID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func main() {
	seconds := flag.Float64("seconds", 2, "how long to serve")
	requestMs := flag.Int("request-ms", 150, "CPU time per request")
	flag.Parse()
	fmt.Println("ready")
	end := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	ctx := context.Background()
	for i := 0; time.Now().Before(end); i++ {
		keys := [2]string{"trace_id", "span_id"}
		if i%2 == 1 {
			keys = [2]string{"otel.traceid", "otel.spanid"}
		}
		trace, span := newID(16), newID(8)
		pprof.Do(ctx, pprof.Labels(keys[0], trace, keys[1], span), func(context.Context) {
			handleRequest(time.Duration(*requestMs) * time.Millisecond)
		})
		fmt.Printf("span %s %s %s\n", keys[0], trace, span)
	}
	fmt.Println("done")
}

// demo-app is the service libgoprof's demo profiles: an HTTP server on loopback with a
// built-in load generator, so that every capability has something to show - CPU work,
// allocations, many goroutines, a deliberately contended channel, and HTTP requests.
//
// usage: demo-app [-addr 127.0.0.1:0] [-clients 4] [-duration 0]
// It prints "listening ADDR pid PID" once the server accepts connections.
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"time"
)

// hashWork burns CPU: the endpoint a CPU profile should point at.
func hashWork(rounds int) [32]byte {
	sum := sha256.Sum256([]byte("libgoprof"))
	for i := 0; i < rounds; i++ {
		sum = sha256.Sum256(sum[:])
	}
	return sum
}

// sortWork allocates and sorts: shows up in heap and CPU profiles.
func sortWork(n int) int {
	vals := make([]int, n)
	for i := range vals {
		vals[i] = rand.Intn(1 << 20)
	}
	sort.Ints(vals)
	return vals[n/2]
}

// slowQueue is unbuffered and drained slowly: senders block on it, which the blocking
// profile and the channel table should point to.
var slowQueue = make(chan int)

func slowConsumer() {
	for v := range slowQueue {
		_ = v
		time.Sleep(2 * time.Millisecond)
	}
}

var (
	mu      sync.Mutex
	counter int
)

func handleHash(w http.ResponseWriter, r *http.Request) {
	rounds, _ := strconv.Atoi(r.URL.Query().Get("rounds"))
	if rounds <= 0 {
		rounds = 20000
	}
	var sum [32]byte
	pprof.Do(r.Context(), pprof.Labels("endpoint", "/hash"), func(context.Context) {
		sum = hashWork(rounds)
	})
	fmt.Fprintf(w, "%x\n", sum[:8])
}

func handleSort(w http.ResponseWriter, r *http.Request) {
	var median int
	pprof.Do(r.Context(), pprof.Labels("endpoint", "/sort"), func(context.Context) {
		median = sortWork(50000)
	})
	fmt.Fprintf(w, "%d\n", median)
}

func handleEnqueue(w http.ResponseWriter, r *http.Request) {
	slowQueue <- 1
	mu.Lock()
	counter++
	n := counter
	mu.Unlock()
	fmt.Fprintf(w, "%d\n", n)
}

func handleFanout(w http.ResponseWriter, r *http.Request) {
	var wg sync.WaitGroup
	results := make(chan int, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 100 * time.Microsecond)
			results <- sortWork(2000)
		}(i)
	}
	wg.Wait()
	close(results)
	total := 0
	for v := range results {
		total += v
	}
	fmt.Fprintf(w, "%d\n", total)
}

// handleHeap serves Go's own heap profile; having a reader of heap profiles in the binary
// is also what keeps the runtime's memory profiling (and so libgoprof's heap profile) on.
func handleHeap(w http.ResponseWriter, r *http.Request) {
	runtime.GC()
	pprof.Lookup("heap").WriteTo(w, 1)
}

// leakyWatch starts a goroutine per request that waits on a channel nobody closes: the
// goroutine leak the demo's leak report points at.
var leakSink = make(chan struct{})

func handleWatch(w http.ResponseWriter, r *http.Request) {
	go func() { <-leakSink }()
	fmt.Fprintln(w, "watching")
}

func handleMissing(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "no such thing", http.StatusNotFound)
}

// loadClient sends a mix of requests until stop is closed.
func loadClient(base string, stop <-chan struct{}, id int) {
	client := &http.Client{Timeout: 5 * time.Second}
	paths := []string{"/hash", "/sort", "/enqueue", "/fanout", "/missing", "/hash?rounds=5000", "/watch"}
	for i := id; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		req, err := http.NewRequest("GET", base+paths[i%len(paths)], nil)
		if err != nil {
			panic(err)
		}
		// Every 20th request on a connection of its own, so that connection set-up and
		// teardown show up too (goprof record --tcp).
		req.Close = i%20 == 0
		resp, err := client.Do(req)
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	clients := flag.Int("clients", 4, "built-in load generator clients (0: none)")
	duration := flag.Duration("duration", 0, "exit after this long (0: run until killed)")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo-app:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hash", handleHash)
	mux.HandleFunc("/sort", handleSort)
	mux.HandleFunc("/enqueue", handleEnqueue)
	mux.HandleFunc("/fanout", handleFanout)
	mux.HandleFunc("/missing", handleMissing)
	mux.HandleFunc("/debug/heap", handleHeap)
	mux.HandleFunc("/watch", handleWatch)
	go slowConsumer()
	go http.Serve(ln, mux)
	fmt.Printf("listening %s pid %d\n", ln.Addr(), os.Getpid())

	stop := make(chan struct{})
	base := "http://" + ln.Addr().String()
	for i := 0; i < *clients; i++ {
		go loadClient(base, stop, i)
	}
	if *duration > 0 {
		time.Sleep(*duration)
		close(stop)
		return
	}
	select {}
}

// chanwork is channel-heavy fixed work for bench/block: a token passed back and forth
// between two goroutines over unbuffered channels (every operation parks one of them)
// plus a producer/consumer pair over a small buffered channel. Waits for a line on
// stdin, runs, prints the work's wall time in nanoseconds.
//
// usage: chanwork [-n ROUNDS]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"
)

//go:noinline
func pingPong(n int) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	close(ping)
}

//go:noinline
func pipeline(n int) {
	q := make(chan int, 8)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range q {
		}
	}()
	for i := 0; i < n; i++ {
		q <- i
	}
	close(q)
	wg.Wait()
}

func main() {
	n := flag.Int("n", 200000, "rounds")
	flag.Parse()
	bufio.NewReader(os.Stdin).ReadString('\n')
	start := time.Now()
	pingPong(*n)
	pipeline(*n)
	fmt.Println(time.Since(start).Nanoseconds())
}

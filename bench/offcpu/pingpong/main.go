// pingpong switches threads as fast as the kernel lets it: two goroutines, each locked
// to its own OS thread, pass one byte back and forth over two blocking pipes (raw
// syscalls: every read blocks the thread in the kernel). Prints "ready", waits for a
// line on stdin, does ROUNDS round trips and prints the wall time they took in
// nanoseconds: the target whose slowdown bench/offcpu measures.
//
// usage: pingpong ROUNDS
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

//go:noinline
func player(in, out int, rounds int, serve bool, done chan<- struct{}) {
	runtime.LockOSThread()
	b := []byte{0}
	for i := 0; i < rounds; i++ {
		if serve {
			syscall.Write(out, b)
			syscall.Read(in, b)
		} else {
			syscall.Read(in, b)
			syscall.Write(out, b)
		}
	}
	done <- struct{}{}
}

func main() {
	rounds, _ := strconv.Atoi(os.Args[1])
	var ab, ba [2]int
	if syscall.Pipe(ab[:]) != nil || syscall.Pipe(ba[:]) != nil {
		panic("pipe")
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	done := make(chan struct{}, 2)
	t0 := time.Now()
	go player(ba[0], ab[1], rounds, true, done)
	go player(ab[0], ba[1], rounds, false, done)
	<-done
	<-done
	fmt.Println(time.Since(t0).Nanoseconds())
}

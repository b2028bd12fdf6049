// gooffsets prints the offsets of the Go runtime fields libgoprof reads, from a Go
// binary's own DWARF (the ground truth for libgoprof's per-release table).
//
// usage: gooffsets BINARY
// Output: one "struct.field OFFSET" line each ("g.goid", "http.Request.Method"), then
// "version goX.Y.Z".
package main

import (
	"debug/buildinfo"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
	"strings"
)

var wanted = map[string][]string{
	"runtime.g": {"m", "goid", "labels", "atomicstatus"},
	"runtime.m": {"curg"},
	"runtime.hchan": {"lock"},
	// runtime statistics read from memory (lib/go/rt_layout.c): sched, memstats, gcController,
	// with the fields the stripped-binary locator matches against instruction operands
	"runtime.schedt": {"lock", "gcwaiting", "stopwait", "stopnote", "sysmonwait", "timeToRun",
		"stwStoppingTimeGC", "stwStoppingTimeOther", "stwTotalTimeGC", "stwTotalTimeOther"},
	"runtime.mstats": {"last_gc_unix", "pause_total_ns", "pause_ns", "pause_end", "numgc",
		"numforcedgc", "gc_cpu_fraction", "last_gc_nanotime", "lastHeapInUse", "enablegc",
		"gcPauseDist"},
	"runtime.gcControllerState": {"gcPercent", "memoryLimit", "heapMinimum", "runway",
		"gcPercentHeapGoal", "sweepDistMinTrigger", "triggered", "lastHeapGoal", "heapLive",
		"heapScan", "heapMarked", "heapInUse", "heapReleased", "heapFree", "totalAlloc",
		"totalFree", "mappedReady"},
	// net/http request tracing (GOPROF_FEATURE_HTTP)
	"net/http.Request":  {"Method", "URL", "ProtoMajor", "ContentLength", "Host", "RequestURI"},
	"net/url.URL":       {"Host", "Path", "RawQuery"},
	"net/http.response": {"conn", "req", "written", "status"},
	"net/http.conn":     {"hijackedv"},
	"net/http.Response": {"StatusCode"},
	// HTTP/2 (the bundled server): *http2responseWriter{rws} -> state
	"net/http.http2responseWriter":      {"rws"},
	"net/http.http2responseWriterState": {"req", "status", "wroteBytes"},
	// Go 1.27 moved the bundled HTTP/2 server into its own package.
	"net/http/internal/http2.responseWriter":      {"rws"},
	"net/http/internal/http2.responseWriterState": {"req", "status", "wroteBytes"},
	// ... whose req is a ServerRequest value from then on
	"net/http/internal/http2.ServerRequest": {"URL"},
}

// aliases: one name per concept in the output, whatever package holds the type.
var aliases = map[string]string{
	"net/http/internal/http2.responseWriter":      "net/http.http2responseWriter",
	"net/http/internal/http2.responseWriterState": "net/http.http2responseWriterState",
}

// shortName: "g" for runtime.g, "http.Request" for net/http.Request.
func shortName(name string) string {
	if a, ok := aliases[name]; ok {
		name = a
	}
	if strings.HasPrefix(name, "runtime.") {
		return name[len("runtime."):]
	}
	return name[strings.LastIndex(name, "/")+1:]
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gooffsets BINARY")
		os.Exit(2)
	}
	f, err := elf.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d, err := f.DWARF()
	if err != nil {
		fmt.Fprintln(os.Stderr, "no DWARF:", err)
		os.Exit(1)
	}
	r := d.Reader()
	found := 0
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		fields, ok := wanted[name]
		if !ok {
			r.SkipChildren()
			continue
		}
		t, err := d.Type(e.Offset)
		if err != nil {
			continue
		}
		st, ok := t.(*dwarf.StructType)
		if !ok {
			continue
		}
		for _, field := range st.Field {
			for _, w := range fields {
				if field.Name == w {
					fmt.Printf("%s.%s %d\n", shortName(name), w, field.ByteOffset)
					found++
				}
			}
		}
		delete(wanted, name)
		r.SkipChildren()
	}
	bi, err := buildinfo.ReadFile(os.Args[1])
	if err == nil {
		fmt.Printf("version %s\n", bi.GoVersion)
	}
	if found == 0 {
		os.Exit(1)
	}
}

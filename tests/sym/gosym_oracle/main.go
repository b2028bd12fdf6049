// gosym_oracle prints Go's own answers (debug/gosym) for a list of PCs, as ground truth
// for libgoprof's symbolizer tests. It is deliberately naive: it reads the pclntab the way
// Go's tools do (section, else runtime.pclntab symbols) and takes the text start from the
// runtime.text symbol (or the table header), which Go's addr2line gets wrong for
// externally linked binaries.
//
// usage: gosym_oracle BINARY [funcs]    PCs (hex) on stdin, one per line
// output per PC: "<pc>\t<function|?>\t<file>\t<line>" (outermost function, innermost line)
// With "funcs": prints "<entry>\t<end>\t<name>" for every function instead.
package main

import (
	"bufio"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func die(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "gosym_oracle: "+f+"\n", a...)
	os.Exit(2)
}

func symbol(f *elf.File, name string) (uint64, bool) {
	syms, _ := f.Symbols()
	for _, s := range syms {
		if s.Name == name {
			return s.Value, true
		}
	}
	return 0, false
}

func pclntab(f *elf.File) []byte {
	for _, n := range []string{".gopclntab", ".data.rel.ro.gopclntab"} {
		if s := f.Section(n); s != nil {
			d, err := s.Data()
			if err == nil {
				return d
			}
		}
	}
	start, ok1 := symbol(f, "runtime.pclntab")
	end, ok2 := symbol(f, "runtime.epclntab")
	if !ok1 || !ok2 {
		die("no pclntab section or symbols")
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && start >= p.Vaddr && end <= p.Vaddr+p.Filesz {
			d := make([]byte, end-start)
			if _, err := p.ReadAt(d, int64(start-p.Vaddr)); err != nil {
				die("read pclntab: %v", err)
			}
			return d
		}
	}
	die("pclntab not in a segment")
	return nil
}

func main() {
	if len(os.Args) < 2 {
		die("usage: gosym_oracle BINARY [funcs]")
	}
	f, err := elf.Open(os.Args[1])
	if err != nil {
		die("%v", err)
	}
	// Text start: the runtime.text symbol; without symbols, the table header's textStart
	// (Go 1.18+, zero on disk in PIE builds); last, the .text section, which is wrong when
	// C code comes first (what go tool addr2line does on such binaries).
	tabData := pclntab(f)
	text, ok := symbol(f, "runtime.text")
	if !ok && len(tabData) >= 40 && tabData[7] == 8 &&
		(binary.LittleEndian.Uint32(tabData) == 0xfffffff0 || binary.LittleEndian.Uint32(tabData) == 0xfffffff1) {
		text = binary.LittleEndian.Uint64(tabData[24:])
		ok = text != 0
	}
	if !ok {
		text = f.Section(".text").Addr
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(tabData, text))
	if err != nil {
		die("%v", err)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	if len(os.Args) > 2 && os.Args[2] == "funcs" {
		for _, fn := range tab.Funcs {
			fmt.Fprintf(out, "%x\t%x\t%s\n", fn.Entry, fn.End, fn.Name)
		}
		return
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		s := strings.TrimPrefix(strings.TrimSpace(in.Text()), "0x")
		if s == "" {
			continue
		}
		pc, err := strconv.ParseUint(s, 16, 64)
		if err != nil {
			die("bad pc %q", s)
		}
		file, line, fn := tab.PCToLine(pc)
		name := "?"
		if fn != nil {
			name = fn.Name
		}
		fmt.Fprintf(out, "%x\t%s\t%s\t%d\n", pc, name, file, line)
	}
}

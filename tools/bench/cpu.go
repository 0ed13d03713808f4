package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: the kernel's
// USER_HZ, 100 on Linux whatever tick rate the kernel itself runs at.
const userHZ = 100

// procCPU is the CPU time (user+system, seconds) process pid has used so
// far, from fields 14 and 15 of /proc/PID/stat: every thread of it, not
// its children.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Field 2, the command name in parentheses, may hold spaces and
	// parentheses itself: count fields from the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no ')' in %q", pid, s)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(f))
	}
	var ticks int64
	for _, v := range f[11:13] { // fields 14 (utime) and 15 (stime)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %v", pid, err)
		}
		ticks += n
	}
	return float64(ticks) / userHZ, nil
}

// selfCPU is the CPU time (user+system, seconds) this process has used so
// far: every goroutine of the benchmark, the reads it times among them.
func selfCPU() (float64, error) { return rusageCPU(syscall.RUSAGE_SELF) }

// childrenCPU is the CPU time (user+system, seconds) of this process's
// children that have ended and been waited for: the commands a timed part
// runs (cp, pan123fs sync), counted once they exit.
func childrenCPU() (float64, error) { return rusageCPU(syscall.RUSAGE_CHILDREN) }

func rusageCPU(who int) (float64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return tvSeconds(ru.Utime) + tvSeconds(ru.Stime), nil
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

// psCPU is the CPU time (user+system, seconds) a child used, from the
// rusage its wait returned.
func psCPU(ps *os.ProcessState) float64 {
	if ps == nil {
		return 0
	}
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}

// cpuSource is one process whose CPU time a timed part counts.
type cpuSource struct {
	name string
	read func() (float64, error)
}

func procSource(name string, pid int) cpuSource {
	return cpuSource{name, func() (float64, error) { return procCPU(pid) }}
}

func selfSource(name string) cpuSource { return cpuSource{name, selfCPU} }

func childrenSource(name string) cpuSource { return cpuSource{name, childrenCPU} }

// startCPU reads each source's CPU time now; the function it returns reads
// them again and gives what each used in between, in seconds (to the
// millisecond: /proc counts in 10 ms ticks anyway).
func startCPU(srcs ...cpuSource) (func() (map[string]float64, error), error) {
	before := make([]float64, len(srcs))
	for i, s := range srcs {
		v, err := s.read()
		if err != nil {
			return nil, fmt.Errorf("CPU time of the %s: %w", s.name, err)
		}
		before[i] = v
	}
	return func() (map[string]float64, error) {
		used := make(map[string]float64, len(srcs))
		for i, s := range srcs {
			v, err := s.read()
			if err != nil {
				return nil, fmt.Errorf("CPU time of the %s: %w", s.name, err)
			}
			used[s.name] = round3(v - before[i])
		}
		return used, nil
	}, nil
}

// round3 rounds to three decimals: seconds to the millisecond, milliseconds
// to the microsecond.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// cpuText prints used as "emulator 0.55 + curl 0.50", in the order of names.
func cpuText(used map[string]float64, names ...string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %.2f", n, used[n])
	}
	return strings.Join(parts, " + ")
}

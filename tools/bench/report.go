package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// row is one target of one scenario.
type row struct {
	ID       string   `json:"id"`       // "1", "2a", ...
	Scenario string   `json:"scenario"` // short title
	Measures string   `json:"measures"` // exactly what the figure is
	Figure   float64  `json:"figure"`
	Unit     string   `json:"unit"`
	Baseline *float64 `json:"baseline,omitempty"`
	BaseText string   `json:"baseline_text"`
	Ratio    *float64 `json:"ratio,omitempty"` // as the target states it
	Target   string   `json:"target"`
	Met      bool     `json:"met"`
	Info     bool     `json:"info,omitempty"` // no target: shown for what it explains
	Error    string   `json:"error,omitempty"`
	// The same scenario on rclone mount, --vfs-cache-mode off and writes.
	RcloneOff    string         `json:"rclone_off,omitempty"`
	RcloneWrites string         `json:"rclone_writes,omitempty"`
	Details      map[string]any `json:"details,omitempty"`
	Text         string         `json:"figure_text"`
}

func fp(v float64) *float64 { return &v }

// failed is a row for a scenario that could not be measured.
func failed(id, title, target string, err error) row {
	return row{ID: id, Scenario: title, Target: target, Error: err.Error(), Text: "ERROR", BaseText: "-"}
}

type report struct {
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	Command  string    `json:"command"`
	Backend  string    `json:"backend"`
	Quick    bool      `json:"quick"`
	Machine  machine   `json:"machine"`
	Rclone   string    `json:"rclone"`
	Probes   []probe   `json:"probes,omitempty"` // the machine's limits, measured first
	Rows     []row     `json:"rows"`
	Failures int       `json:"targets_not_met"`
}

type machine struct {
	NProc     int    `json:"nproc"`
	MemTotal  string `json:"mem_total"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
}

func thisMachine() machine {
	m := machine{NProc: runtime.NumCPU(), GoVersion: runtime.Version()}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		var b strings.Builder
		for _, c := range u.Release {
			if c == 0 {
				break
			}
			b.WriteByte(byte(c))
		}
		m.Kernel = b.String()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				fmt.Sscan(strings.TrimSpace(v), &kb)
				m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return m
}

// print writes the table, the probes of the machine, then one line per row
// on what was measured.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\npan123fs benchmark — %s, %d CPUs, %s RAM, Linux %s, %s\n", r.Started.Format(time.RFC3339),
		r.Machine.NProc, r.Machine.MemTotal, r.Machine.Kernel, r.Machine.GoVersion)
	fmt.Fprintf(w, "command: %s\n", r.Command)
	fmt.Fprintf(w, "backend: %s\n", r.Backend)
	if r.Rclone != "" {
		fmt.Fprintf(w, "rclone: %s\n", r.Rclone)
	}
	fmt.Fprintln(w)
	cols := []string{"#", "scenario", "figure", "baseline (same run)", "ratio", "target", "met"}
	withRclone := r.Rclone != "" && !strings.HasPrefix(r.Rclone, "rclone not installed")
	if withRclone {
		cols = append(cols, "rclone mount, cache off", "rclone mount, cache writes")
	}
	cells := [][]string{cols}
	for _, x := range r.Rows {
		ratio := "-"
		if x.Ratio != nil {
			ratio = fmt.Sprintf("%.2f", *x.Ratio)
		}
		met := "no"
		switch {
		case x.Info:
			met = "-"
		case x.Met:
			met = "yes"
		}
		line := []string{x.ID, x.Scenario, x.Text, x.BaseText, ratio, x.Target, met}
		if withRclone {
			line = append(line, or(x.RcloneOff, "-"), or(x.RcloneWrites, "-"))
		}
		cells = append(cells, line)
	}
	width := make([]int, len(cols))
	for _, c := range cells {
		for i, s := range c {
			width[i] = max(width[i], len([]rune(s)))
		}
	}
	for n, c := range cells {
		var b strings.Builder
		for i, s := range c {
			b.WriteString("| " + s + strings.Repeat(" ", width[i]-len([]rune(s))) + " ")
		}
		fmt.Fprintln(w, b.String()+"|")
		if n == 0 {
			b.Reset()
			for i := range c {
				b.WriteString("|" + strings.Repeat("-", width[i]+2))
			}
			fmt.Fprintln(w, b.String()+"|")
		}
	}
	fmt.Fprintln(w)
	if len(r.Probes) > 0 {
		for _, p := range r.Probes {
			fmt.Fprintf(w, "probe %s: %s\n", p.ID, p.Text)
		}
		fmt.Fprintln(w)
	}
	for _, x := range r.Rows {
		if x.Error != "" {
			fmt.Fprintf(w, "%s: ERROR %s\n", x.ID, x.Error)
			continue
		}
		fmt.Fprintf(w, "%s: %s\n", x.ID, x.Measures)
	}
	targets := 0
	for _, x := range r.Rows {
		if !x.Info {
			targets++
		}
	}
	fmt.Fprintf(w, "\n%d of %d targets met; %.0f s in all\n", targets-r.Failures, targets, r.Seconds)
}

func (r *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

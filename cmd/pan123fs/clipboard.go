package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
)

// clipboardTools are the programs --copy knows, each with the arguments
// that make it take stdin as the clipboard's content; wl-copy comes first
// under Wayland, last otherwise (it needs a Wayland session).
var clipboardTools = [][]string{
	{"xclip", "-selection", "clipboard"},
	{"xsel", "--clipboard", "--input"},
}

// toClipboard puts text on the clipboard through the first clipboard tool
// on PATH, and names it; an error says when there is none or it failed.
func toClipboard(text []byte) (string, error) {
	tools := append([][]string{}, clipboardTools...)
	wl := []string{"wl-copy"}
	if os.Getenv("WAYLAND_DISPLAY") != "" {
		tools = append([][]string{wl}, tools...)
	} else {
		tools = append(tools, wl)
	}
	for _, t := range tools {
		path, err := exec.LookPath(t[0])
		if err != nil {
			continue
		}
		cmd := exec.Command(path, t[1:]...)
		// No pipe for its output: xclip and wl-copy leave a child behind
		// that holds the clipboard, and Run would wait for it to close
		// the pipe.
		cmd.Stdin = bytes.NewReader(text)
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("--copy: %s: %w", t[0], err)
		}
		return t[0], nil
	}
	return "", fmt.Errorf("--copy: no clipboard tool found (install wl-clipboard, xclip or xsel); nothing copied")
}

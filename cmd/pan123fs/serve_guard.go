package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/pan123fs/pan123fs/config"
)

// The PicGo API takes paths of local files and uploads them to a public
// image host, so who may call it matters as much as the address it listens
// on. A web page open in a browser can send a POST to 127.0.0.1 (it cannot
// read the answer, but the upload would be done), a DNS name rebound to
// 127.0.0.1 can do more, and another user of the machine can connect to
// loopback and name files only this user may read. serveGuard refuses all
// three: requests with an Origin (browsers send one with every cross-site
// POST; editors' uploaders send none) unless allowed, a Host that is not
// loopback, and connections from another uid.

// obsidianOrigin is the Origin Obsidian's requests carry; its image
// upload plugin is one of the PicGo clients serve is for.
const obsidianOrigin = "app://obsidian.md"

// serveGuard wraps next with the refusals above. With allowRemote the
// Host and uid checks are off (a remote peer has no local uid).
func serveGuard(next http.Handler, allowRemote bool, origins []string) http.Handler {
	allowed := map[string]bool{obsidianOrigin: true}
	for _, o := range origins {
		allowed[strings.TrimSuffix(o, "/")] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := func(why string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(picgoAnswer{Message: why})
		}
		if o := r.Header.Get("Origin"); o != "" && !allowed[o] {
			refuse(fmt.Sprintf("request from the web page %s refused (a page cannot upload through pan123fs; --allow-origin %s permits it)", o, o))
			return
		}
		if allowRemote {
			next.ServeHTTP(w, r)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		if !config.IsLoopback(host) {
			refuse(fmt.Sprintf("Host %q is not loopback: refused", r.Host))
			return
		}
		uid, err := peerUID(r)
		if err != nil {
			refuse("cannot tell who is connecting: " + err.Error())
			return
		}
		if uid != os.Geteuid() {
			refuse(fmt.Sprintf("connection from uid %d refused: only uid %d, who runs pan123fs serve, may upload", uid, os.Geteuid()))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// peerUID is the uid owning the other end of r's loopback TCP connection,
// from the kernel's socket tables (/proc/net/tcp and tcp6): the socket
// whose local port is the peer's and whose remote port is ours.
func peerUID(r *http.Request) (int, error) {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return 0, fmt.Errorf("no local address")
	}
	_, ourPort, err := net.SplitHostPort(local.String())
	if err != nil {
		return 0, err
	}
	_, peerPort, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return 0, err
	}
	want := [2]string{hexPort(peerPort), hexPort(ourPort)}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if uid, found, err := findSocketUID(table, want); err != nil || found {
			return uid, err
		}
	}
	return 0, fmt.Errorf("connection %s not in /proc/net/tcp", r.RemoteAddr)
}

// hexPort writes a decimal port as /proc/net/tcp does (4 hex digits).
func hexPort(p string) string {
	n, _ := strconv.Atoi(p)
	return fmt.Sprintf("%04X", n)
}

// findSocketUID scans one socket table for the socket whose local and
// remote ports are ports, and gives its uid.
func findSocketUID(table string, ports [2]string) (int, bool, error) {
	f, err := os.Open(table)
	if os.IsNotExist(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		// fs[3] "01" is ESTABLISHED: not a TIME_WAIT row of an older pair
		if len(fs) < 8 || fs[3] != "01" || !strings.HasSuffix(fs[1], ":"+ports[0]) || !strings.HasSuffix(fs[2], ":"+ports[1]) {
			continue
		}
		uid, err := strconv.Atoi(fs[7])
		return uid, true, err
	}
	return 0, false, sc.Err()
}

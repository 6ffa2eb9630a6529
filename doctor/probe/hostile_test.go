package probe

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// readRecord reads one TLS record (the ClientHello) from c.
func readRecord(c net.Conn) bool {
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return false
	}
	_, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint16(hdr[3:])))
	return err == nil
}

// endless writes rec until the peer goes away.
func endless(c net.Conn, rec []byte) {
	for {
		if _, err := c.Write(rec); err != nil {
			return
		}
	}
}

// hugeChainServer is a real TLS server whose Certificate message is about
// 10 MB: the leaf followed by ten 1 MB "certificates".
func hugeChainServer(t *testing.T, maxVersion uint16) int {
	w := getWorld(t)
	pair := pairOf(t, w.srv)
	blob := make([]byte, 1<<20)
	copy(blob, []byte{0x30, 0x83, 0x0f, 0xff, 0xfc}) // SEQUENCE, length 1 MB - 4
	for i := 0; i < 10; i++ {
		pair.Certificate = append(pair.Certificate, blob)
	}
	return tlsServer(t, &tls.Config{Certificates: []tls.Certificate{pair}, MaxVersion: maxVersion}, dockerHandler())
}

// hostileServers are loopback endpoints that misbehave on purpose; each
// must give a named outcome within the probe's timeout.
func hostileServers(t *testing.T) []struct {
	name string
	port int
	want []Outcome
} {
	// A handshake record announcing a 16 MB ServerHello, then endless bytes.
	hugeRecord := []byte{0x16, 0x03, 0x03, 0x40, 0x00, 0x02, 0xff, 0xff, 0xff}
	hugeRecord = append(hugeRecord, make([]byte, 0x4000-4)...)
	// A warning alert (no_renegotiation), again and again.
	alert := []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 100}
	// A HelloRequest, again and again: the server keeps asking the client
	// to start over instead of answering its ClientHello.
	helloRequest := []byte{0x16, 0x03, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00}
	// A fatal alert stream from a server that refuses everything.
	fatal := []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40}
	return []struct {
		name string
		port int
		want []Outcome
	}{
		{"10 MB certificate chain (TLS 1.3)", hugeChainServer(t, 0), []Outcome{OutcomeHandshakeFailed}},
		{"10 MB certificate chain (TLS 1.2)", hugeChainServer(t, tls.VersionTLS12), []Outcome{OutcomeHandshakeFailed}},
		{"record claiming a 16 MB handshake message", rawServer(t, func(c net.Conn) {
			if readRecord(c) {
				endless(c, hugeRecord)
			}
		}), []Outcome{OutcomeHandshakeFailed}},
		{"endless warning alerts", rawServer(t, func(c net.Conn) {
			if readRecord(c) {
				endless(c, alert)
			}
		}), []Outcome{OutcomeHandshakeFailed}},
		{"endless fatal alerts", rawServer(t, func(c net.Conn) {
			if readRecord(c) {
				endless(c, fatal)
			}
		}), []Outcome{OutcomeHandshakeFailed, OutcomeTLSVersion}},
		{"endless renegotiation (HelloRequest)", rawServer(t, func(c net.Conn) {
			if readRecord(c) {
				endless(c, helloRequest)
			}
		}), []Outcome{OutcomeHandshakeFailed}},
		{"accepts and says nothing", rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) }), []Outcome{OutcomeSilent}},
		{"reads the hello, then silence", rawServer(t, func(c net.Conn) {
			readRecord(c)
			io.Copy(io.Discard, c)
		}), []Outcome{OutcomeSilent}},
		{"slow drip", rawServer(t, func(c net.Conn) { readRecord(c); slowDrip(c) }), []Outcome{OutcomeSilent, OutcomeNotTLS}},
		{"endless garbage", rawServer(t, func(c net.Conn) {
			readRecord(c)
			endless(c, []byte("\x00\x01garbage garbage garbage "))
		}), []Outcome{OutcomeNotTLS}},
		{"closes mid-handshake", rawServer(t, func(c net.Conn) { readRecord(c) }), []Outcome{OutcomeHandshakeFailed}},
		{"TLS, then no HTTP answer", tlsServer(t, &tls.Config{Certificates: []tls.Certificate{pairOf(t, getWorld(t).srv)}},
			http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })), []Outcome{OutcomeHTTPError}},
		{"TLS, then an endless HTTP answer", tlsServer(t, &tls.Config{Certificates: []tls.Certificate{pairOf(t, getWorld(t).srv)}},
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
				w.Header().Set("Api-Version", "1.47")
				for r.Context().Err() == nil {
					if _, err := w.Write(make([]byte, 1<<14)); err != nil {
						return
					}
				}
			})), []Outcome{OutcomeHTTPError, OutcomeOK}},
	}
}

// TestProbeHostileEndpoints: every hostile endpoint ends within the
// timeout (plus slack for the docker-client error rendering) with a named
// outcome, a cause and a fix, for a daemon and a registry target.
func TestProbeHostileEndpoints(t *testing.T) {
	w := getWorld(t)
	const timeout = time.Second
	// Generous for a loaded 2-core CI machine: what matters is that an
	// endless stream or a silent peer ends at all, near the timeout.
	const slack = 2 * time.Second
	for _, role := range []Role{RoleDaemon, RoleRegistry} {
		for _, s := range hostileServers(t) {
			t.Run(string(role)+"/"+s.name, func(t *testing.T) {
				if raceDetector && strings.HasPrefix(s.name, "10 MB") {
					// Parsing 10 MB of handshake takes longer than the 1 s
					// timeout under the race detector's instrumentation; make
					// unit runs it without -race.
					t.Skip("timing: a 10 MB handshake does not fit the 1 s timeout under -race (run without -race by make unit)")
				}
				start := time.Now()
				r := Probe(context.Background(), Target{Role: role, Host: "127.0.0.1", Port: s.port}, daemonClient(t, w.caA.Cert, w.cliA), Options{Timeout: timeout})
				took := time.Since(start)
				if took > timeout+slack {
					t.Errorf("took %s, more than the %s timeout (+%s)", took, timeout, slack)
				}
				ok := false
				for _, o := range s.want {
					ok = ok || r.Outcome == o
				}
				if !ok {
					t.Errorf("outcome %s (stage %s, err %q), want one of %v", r.Outcome, r.Stage, r.Err, s.want)
				}
				if r.Cause == "" || (!r.Outcome.OK() && r.Fix == "") {
					t.Errorf("no cause or fix: %+v", r)
				}
				if len(r.Err) > 4096 || len(r.DockerError) > 4096 || len(r.Evidence.Banner) > 1024 {
					t.Errorf("unbounded evidence: err %d bytes, docker %d, banner %d", len(r.Err), len(r.DockerError), len(r.Evidence.Banner))
				}
				t.Logf("%s in %s: %s", r.Outcome, took.Round(time.Millisecond), r.Err)
			})
		}
	}
}

// TestProbeHostileLeavesNoGoroutines: after probing every hostile endpoint,
// the goroutines the probe started have all ended.
func TestProbeHostileLeavesNoGoroutines(t *testing.T) {
	w := getWorld(t)
	servers := hostileServers(t)
	before := runtime.NumGoroutine()
	for _, s := range servers {
		Probe(context.Background(), Target{Role: RoleDaemon, Host: "127.0.0.1", Port: s.port}, daemonClient(t, w.caA.Cert, w.cliA), Options{Timeout: 300 * time.Millisecond})
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestProbeTargetWithZoneDoesNotPanic: a registry target whose host does
// not fit in a URL (an IPv6 zone) once made the docker-error rendering
// send a nil request and panic. ParseTarget now refuses such hosts; the
// probe itself must still cope with a Target built by hand.
func TestProbeTargetWithZoneDoesNotPanic(t *testing.T) {
	for _, in := range []string{"https://[fe80::1%25eth0]:443", "[fe80::1%eth0]:2376", "a%zz:5000", "h@x:1"} {
		if _, err := ParseTarget(in, false); err == nil || !strings.Contains(err.Error(), "is not a host name or IP address") {
			t.Errorf("ParseTarget(%q) = %v", in, err)
		}
	}
	for _, role := range []Role{RoleDaemon, RoleRegistry} {
		r := Probe(context.Background(), Target{Role: role, Host: "fe80::1%lo", Port: closedPort(t)}, Client{TLS: true, SkipVerify: true}, Options{Timeout: 500 * time.Millisecond})
		if r.Outcome.OK() || r.Outcome == "" {
			t.Errorf("%s: outcome %q", role, r.Outcome)
		}
	}
}

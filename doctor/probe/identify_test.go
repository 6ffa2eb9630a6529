package probe

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func hostPort(t *testing.T, url string) (string, int) {
	t.Helper()
	u := strings.TrimPrefix(strings.TrimPrefix(url, "https://"), "http://")
	h, p, err := net.SplitHostPort(u)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

func TestIdentify(t *testing.T) {
	daemon := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("Api-Version", "1.41")
			w.Write([]byte("OK"))
			return
		}
		http.NotFound(w, r)
	})
	registry := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
			w.Write([]byte("{}"))
			return
		}
		http.NotFound(w, r)
	})
	other := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx/1.25")
		http.NotFound(w, r)
	})
	cases := []struct {
		name    string
		h       http.Handler
		tls     bool
		mtls    bool
		role    Role
		answer  string
		wantTLS bool
	}{
		{"plain daemon", daemon, false, false, RoleDaemon, "/_ping answered with Api-Version 1.41", false},
		{"TLS daemon", daemon, true, false, RoleDaemon, "https://", true},
		{"plain registry", registry, false, false, RoleRegistry, "/v2/ answered with Docker-Distribution-Api-Version registry/2.0", false},
		{"TLS registry", registry, true, false, RoleRegistry, "https://", true},
		{"web server", other, false, false, "", "/_ping: 404 Not Found from nginx/1.25; /v2/: 404 Not Found from nginx/1.25", false},
		// A server that demands a client certificate and speaks HTTP/2
		// (the distribution registry) is a registry; one that picks
		// http/1.1 (dockerd, below) stays open.
		{"mTLS HTTP/2 server", registry, true, true, RoleRegistry, "demands a client certificate (remote error: tls: certificate required); it negotiated HTTP/2 (ALPN h2), which dockerd's API never does: a registry", true},
		{"mTLS HTTP/1.1 server", registry, true, true, "", "demands a client certificate", true},
	}
	for _, c := range cases {
		srv := httptest.NewUnstartedServer(c.h)
		if c.tls {
			if c.mtls {
				srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert}
				if c.role == RoleRegistry {
					srv.EnableHTTP2 = true
				}
			}
			srv.StartTLS()
		} else {
			srv.Start()
		}
		h, p := hostPort(t, srv.URL)
		id := Identify(context.Background(), h, p, Options{Timeout: 2 * time.Second})
		srv.Close()
		if id.Role != c.role || id.TLS != c.wantTLS || !strings.Contains(id.Answer, c.answer) {
			t.Errorf("%s: got %+v, want role %q TLS %v answer containing %q", c.name, id, c.role, c.wantTLS, c.answer)
		}
	}
	// dockerd's API listener (go-connections sockets.NewTCPSocket:
	// NextProtos http/1.1) demanding a client certificate, with TLS 1.3
	// and 1.2: the kind stays open.
	for _, maxV := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		ref := httptest.NewUnstartedServer(daemon)
		ref.StartTLS()
		cert := ref.TLS.Certificates
		ref.Close()
		raw, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln := tls.NewListener(raw, &tls.Config{Certificates: cert, ClientAuth: tls.RequireAndVerifyClientCert, MaxVersion: maxV, NextProtos: []string{"http/1.1"}})
		hs := &http.Server{Handler: daemon, ErrorLog: log.New(io.Discard, "", 0)}
		go hs.Serve(ln)
		h, p := hostPort(t, "https://"+raw.Addr().String())
		id := Identify(context.Background(), h, p, Options{Timeout: 2 * time.Second})
		hs.Close()
		if id.Role != "" || !id.TLS || !id.NeedsClientCert || strings.Contains(id.Answer, "ALPN") {
			t.Errorf("dockerd-like listener (max TLS %x): %+v", maxV, id)
		}
	}
	// Nothing listening.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	h, p := hostPort(t, "http://"+ln.Addr().String())
	ln.Close()
	if id := Identify(context.Background(), h, p, Options{Timeout: time.Second}); id.Role != "" || !id.Unreached || !strings.Contains(id.Answer, "connection refused") {
		t.Errorf("closed port: %+v", id)
	}
}

// docker's quoted line carries the installed CLI's API version.
func TestDockerLineAPIVersion(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	h, p := hostPort(t, srv.URL)
	for _, v := range []string{"1.50", "1.41"} {
		res := Probe(context.Background(), Target{Role: RoleDaemon, Host: h, Port: p}, Client{TLS: true, SkipVerify: true}, Options{Timeout: 2 * time.Second, APIVersion: func() string { return v }})
		if !strings.Contains(res.DockerError, "/v"+v+"/") {
			t.Errorf("APIVersion %s: docker line %q", v, res.DockerError)
		}
	}
}

// A plain client meeting an HTTP error is not told that TLS worked.
func TestPlainHTTPErrorWording(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusInternalServerError)
	}))
	defer srv.Close()
	h, p := hostPort(t, srv.URL)
	res := Probe(context.Background(), Target{Role: RoleDaemon, Host: h, Port: p}, Client{}, Options{Timeout: 2 * time.Second})
	if res.Outcome != OutcomeHTTPError || !strings.HasPrefix(res.Cause, "the plain-HTTP request failed (no TLS was spoken): ") ||
		strings.Contains(res.Fix, "the the") || !strings.Contains(res.Fix, "check that this port belongs to the daemon") {
		t.Errorf("outcome %s cause %q fix %q", res.Outcome, res.Cause, res.Fix)
	}
}

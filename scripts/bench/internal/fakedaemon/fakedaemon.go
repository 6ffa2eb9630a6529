// Package fakedaemon is the stand-in dockerd of the doctor benchmarks
// (scripts/bench/fakedockerd, scripts/bench/fleet): dockerd's TLS server
// profile (go-connections' server defaults, TLS 1.2 minimum, Docker's
// cipher list, RequireAndVerifyClientCert against ca.pem, HTTP/1.1 on a
// tls.NewListener as dockerd serves it) and the two answers a `docker
// version` needs: /_ping and /v1.X/version, with the headers and body a
// Docker Engine 27.5 (API 1.47) sends.
package fakedaemon

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/docker/go-connections/tlsconfig"
)

// APIVersion is the API version the fake daemon announces (Docker 27.5).
const APIVersion = "1.47"

const engineVersion = "27.5.1"

// versionBody is what dockerd 27.5.1 answers to GET /v1.47/version
// (moby api/types.Version), one line as dockerd writes it.
const versionBody = `{"Platform":{"Name":"Docker Engine - Community"},"Components":[` +
	`{"Name":"Engine","Version":"27.5.1","Details":{"ApiVersion":"1.47","Arch":"amd64","BuildTime":"2025-01-22T13:41:17.000000000+00:00","Experimental":"false","GitCommit":"4c9b3b0","GoVersion":"go1.22.11","KernelVersion":"6.8.0-51-generic","MinAPIVersion":"1.24","Os":"linux"}},` +
	`{"Name":"containerd","Version":"1.7.25","Details":{"GitCommit":"bcc810d6b9066471b0b6fa75f557a15a1cbf31bb"}},` +
	`{"Name":"runc","Version":"1.2.4","Details":{"GitCommit":"v1.2.4-0-g6c52b3f"}},` +
	`{"Name":"docker-init","Version":"0.19.0","Details":{"GitCommit":"de40ad0"}}],` +
	`"Version":"27.5.1","ApiVersion":"1.47","MinAPIVersion":"1.24","GitCommit":"4c9b3b0","GoVersion":"go1.22.11","Os":"linux","Arch":"amd64","KernelVersion":"6.8.0-51-generic","BuildTime":"2025-01-22T13:41:17.000000000+00:00"}` + "\n"

var versioned = regexp.MustCompile(`^/v[0-9]+\.[0-9]+(/.*)$`)

// Counters of what the servers answered (for the log line at exit).
var pings, versions, others atomic.Int64

// Handler answers like dockerd's router: /_ping (GET and HEAD) and
// /version, with or without a /vX.Y prefix; anything else is dockerd's 404.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		path := r.URL.Path
		if m := versioned.FindStringSubmatch(path); m != nil {
			path = m[1]
		}
		h.Set("Server", "Docker/"+engineVersion+" (linux)")
		switch {
		case path == "/_ping" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			pings.Add(1)
			h.Set("Api-Version", APIVersion)
			h.Set("Builder-Version", "2")
			h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
			h.Set("Docker-Experimental", "false")
			h.Set("Ostype", "linux")
			h.Set("Pragma", "no-cache")
			h.Set("Swarm", "inactive")
			h.Set("Content-Type", "text/plain; charset=utf-8")
			if r.Method == http.MethodHead {
				h.Set("Content-Length", "0")
				return
			}
			io.WriteString(w, "OK")
		case path == "/version" && r.Method == http.MethodGet:
			versions.Add(1)
			h.Set("Api-Version", APIVersion)
			h.Set("Docker-Experimental", "false")
			h.Set("Ostype", "linux")
			h.Set("Content-Type", "application/json")
			io.WriteString(w, versionBody)
		default:
			others.Add(1)
			h.Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"page not found"}`+"\n")
		}
	})
}

// TLSConfig is dockerd's server configuration for --tlsverify with the
// given files: go-connections' ServerDefault, client certificates required
// and verified against the CA.
func TLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	cfg := tlsconfig.ServerDefault()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	cfg.Certificates = []tls.Certificate{pair}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s: no certificate", caFile)
	}
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	return cfg, nil
}

// Main is the whole program: listen on -n loopback ports (port 0: the
// kernel picks free ones), write the targets (tcp://127.0.0.1:PORT, one a
// line) to -targets once every listener is up, serve until SIGINT/SIGTERM,
// until the parent process goes away, or until -lifetime is over.
func Main(name string, defN int) {
	log.SetFlags(0)
	log.SetPrefix(name + ": ")
	certs := flag.String("certs", "", "directory with ca.pem, server-cert.pem, server-key.pem (docker-tls init --out)")
	n := flag.Int("n", defN, "number of ports to listen on")
	host := flag.String("host", "127.0.0.1", "address to listen on")
	targets := flag.String("targets", "", "write tcp://HOST:PORT of every listener to this file (one a line) when all are up")
	lifetime := flag.Duration("lifetime", 2*time.Hour, "exit after this long in any case")
	flag.Parse()
	if *certs == "" || *targets == "" || *n < 1 {
		flag.Usage()
		os.Exit(2)
	}
	cfg, err := TLSConfig(filepath.Join(*certs, "ca.pem"), filepath.Join(*certs, "server-cert.pem"), filepath.Join(*certs, "server-key.pem"))
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler:           Handler(),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // handshake failures are the clients' business
	}
	var lines strings.Builder
	lns := make([]net.Listener, 0, *n)
	for range *n {
		ln, err := net.Listen("tcp", net.JoinHostPort(*host, "0"))
		if err != nil {
			log.Fatalf("listening on port %d of %d: %v (ulimit -n is too low?)", len(lns)+1, *n, err)
		}
		lns = append(lns, ln)
		fmt.Fprintf(&lines, "tcp://%s\n", ln.Addr())
	}
	for _, ln := range lns {
		go func() {
			if err := srv.Serve(tls.NewListener(ln, cfg)); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Print(err)
			}
		}()
	}
	tmp := *targets + ".tmp"
	if err := os.WriteFile(tmp, []byte(lines.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename(tmp, *targets); err != nil {
		log.Fatal(err)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	parent := os.Getppid()
	tick := time.NewTicker(time.Second)
	deadline := time.After(*lifetime)
	for done := false; !done; {
		select {
		case <-sig:
			done = true
		case <-deadline:
			log.Printf("-lifetime %s is over", *lifetime)
			done = true
		case <-tick.C:
			if os.Getppid() != parent {
				log.Print("the parent process went away")
				done = true
			}
		}
	}
	srv.Close()
	log.Printf("%d listeners served %d pings, %d versions, %d other requests", len(lns), pings.Load(), versions.Load(), others.Load())
}

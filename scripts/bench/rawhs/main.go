// Command rawhs is the baseline of the doctor's fleet benchmark
// (scripts/bench/run.sh): the same TLS connections the doctor makes to a
// list of daemon endpoints, with nothing around them. Each endpoint gets a
// TCP connection and a full TLS handshake with the docker client's TLS
// profile (go-connections' client defaults), the server verified against
// ca.pem and the client certificate cert.pem/key.pem sent, at most
// -parallel endpoints at a time. The material is loaded once.
//
//	rawhs -targets FILE [-certs DIR] [-parallel 32] [-mode hs|ping|full]
//
// -mode hs (default) stops after the handshake; ping then sends GET /_ping
// on the connection and reads the answer; full sends GET /_ping and GET
// /v1.47/version (decoding the JSON), the two requests of the doctor's
// ladder, on the same connection. DIR defaults to $DOCKER_CERT_PATH. Any
// failure makes the exit status 1.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/go-connections/tlsconfig"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rawhs:", err)
		os.Exit(1)
	}
}

func run() error {
	targets := flag.String("targets", "", "file of targets, tcp://HOST:PORT or HOST:PORT, one a line (# comments)")
	certs := flag.String("certs", os.Getenv("DOCKER_CERT_PATH"), "directory with ca.pem, cert.pem, key.pem")
	parallel := flag.Int("parallel", 32, "connections at a time")
	mode := flag.String("mode", "hs", "hs: handshake only; ping: + GET /_ping; full: + GET /_ping and GET /v1.47/version")
	timeout := flag.Duration("timeout", 5*time.Second, "timeout of each connection")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the connections here")
	flag.Parse()
	if *targets == "" || *certs == "" || *parallel < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if *mode != "hs" && *mode != "ping" && *mode != "full" {
		return fmt.Errorf("-mode %q: want hs, ping or full", *mode)
	}
	addrs, err := readTargets(*targets)
	if err != nil {
		return err
	}
	cfg, err := clientConfig(*certs)
	if err != nil {
		return err
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	work := make(chan string)
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr error
	var mu sync.Mutex
	for range min(*parallel, len(addrs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				if err := one(a, cfg, *mode, *timeout); err != nil {
					failed.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: %w", a, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, a := range addrs {
		work <- a
	}
	close(work)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d endpoints failed; first: %v", n, len(addrs), firstErr)
	}
	fmt.Printf("%d endpoints: %s ok\n", len(addrs), *mode)
	return nil
}

func readTargets(file string) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimPrefix(strings.TrimSpace(line), "tcp://")
		if line == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(line); err != nil {
			return nil, fmt.Errorf("%s: %q: %v", file, line, err)
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no target", file)
	}
	return out, nil
}

// clientConfig is the docker CLI's TLS configuration for DOCKER_TLS_VERIFY=1.
func clientConfig(dir string) (*tls.Config, error) {
	cfg := tlsconfig.ClientDefault()
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("ca.pem: no certificate")
	}
	cfg.RootCAs = pool
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		return nil, err
	}
	cfg.Certificates = []tls.Certificate{pair}
	return cfg, nil
}

func one(addr string, base *tls.Config, mode string, timeout time.Duration) error {
	host, _, _ := net.SplitHostPort(addr)
	cfg := base.Clone()
	cfg.ServerName = host
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: cfg}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if mode == "hs" {
		return nil
	}
	// With TLS 1.3 the server's verdict on the client certificate arrives
	// with the first read: the ping proves the whole handshake.
	br := bufio.NewReader(c)
	if err := get(c, br, host, "/_ping", "OK"); err != nil {
		return err
	}
	if mode == "ping" {
		return nil
	}
	return get(c, br, host, "/v1.47/version", "")
}

func get(c net.Conn, br *bufio.Reader, host, path, want string) error {
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: rawhs\r\n\r\n", path, host); err != nil {
		return err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if want != "" {
		if string(body) != want {
			return fmt.Errorf("GET %s: body %q, want %q", path, body, want)
		}
		return nil
	}
	var v struct{ Version, ApiVersion string }
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("GET %s: %v", path, err)
	}
	if v.Version == "" || v.ApiVersion == "" {
		return fmt.Errorf("GET %s: no Version/ApiVersion in %q", path, body)
	}
	return nil
}

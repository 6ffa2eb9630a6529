package probe

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/pki"
)

func pairOf(t *testing.T, iss *pki.Issued, chain ...*x509.Certificate) tls.Certificate {
	der := [][]byte{iss.Cert.Raw}
	for _, c := range chain {
		der = append(der, c.Raw)
	}
	return tls.Certificate{Certificate: der, PrivateKey: iss.Key, Leaf: iss.Cert}
}

func poolOf(cas ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range cas {
		p.AddCert(c)
	}
	return p
}

// dockerHandler answers like dockerd: /_ping and /vX/version.
func dockerHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.47")
		w.Header().Set("Ostype", "linux")
		switch {
		case strings.HasSuffix(r.URL.Path, "/_ping"):
			fmt.Fprint(w, "OK")
		case strings.HasSuffix(r.URL.Path, "/version"):
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"Version":"99.0.0-test","ApiVersion":"1.47","Os":"linux"}`)
		default:
			http.NotFound(w, r)
		}
	})
}

func registryHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		if r.URL.Path == "/v2/" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, "{}")
			return
		}
		http.NotFound(w, r)
	})
}

// tlsServer starts a loopback HTTPS server with cfg; it stops at test end.
func tlsServer(t *testing.T, cfg *tls.Config, h http.Handler) int {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.TLS = cfg
	s.Config.ErrorLog = nullLog()
	s.StartTLS()
	t.Cleanup(s.Close)
	return portOf(t, s.Listener.Addr())
}

func plainServer(t *testing.T, h http.Handler) int {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return portOf(t, s.Listener.Addr())
}

// rawServer accepts connections and hands each to fn; it stops at test end
// and waits for its handlers.
func rawServer(t *testing.T, fn func(net.Conn)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); fn(c) }()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return portOf(t, l.Addr())
}

func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := portOf(t, l.Addr())
	l.Close()
	return p
}

func portOf(t *testing.T, a net.Addr) int {
	_, p, _ := net.SplitHostPort(a.String())
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func nullLog() *log.Logger { return log.New(io.Discard, "", 0) }

// slowDrip writes a byte at a time, forever, until the peer goes away.
func slowDrip(c net.Conn) {
	for {
		if _, err := c.Write([]byte{0x16}); err != nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

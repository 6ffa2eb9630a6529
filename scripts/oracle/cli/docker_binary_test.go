package clioracle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// sniffer accepts connections and records whether the first bytes are a
// TLS ClientHello or plain HTTP, then hangs up.
type sniffer struct {
	ln   net.Listener
	mu   sync.Mutex
	seen []string
}

func newSniffer(t *testing.T) *sniffer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sniffer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				b := make([]byte, 1)
				if n, _ := c.Read(b); n == 1 {
					kind := "plain"
					if b[0] == 0x16 {
						kind = "tls"
					}
					s.mu.Lock()
					s.seen = append(s.seen, kind)
					s.mu.Unlock()
				}
			}()
		}
	}()
	return s
}

func (s *sniffer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.seen
	s.seen = nil
	return out
}

// retarget points the case's 127.0.0.1:2376 endpoints at addr.
func retarget(t *testing.T, c *tcase, addr string) {
	from := "127.0.0.1:2376"
	for k, v := range c.env {
		c.env[k] = strings.ReplaceAll(v, from, addr)
	}
	for i, h := range c.flags.Hosts {
		c.flags.Hosts[i] = strings.ReplaceAll(h, from, addr)
	}
	filepath.Walk(c.dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == "meta.json" {
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.ReplaceAll(b, []byte(from), []byte(addr)), 0o600)
		}
		return nil
	})
}

func (c *tcase) runDocker(t *testing.T, bin string, args ...string) (string, string) {
	cmd := exec.Command(bin, append(c.args(), args...)...)
	cmd.Dir = c.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
	}()
	cmd.Run()
	close(done)
	return out.String(), errb.String()
}

// TestDockerBinary confirms the model against the docker binary on PATH
// (28.2 here) where its behaviour could differ from v29's code: the
// context chosen, the host, TLS or plain on the wire, the files loaded and
// the line docker prints when it fails before connecting.
func TestDockerBinary(t *testing.T) {
	bin, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("no docker binary on PATH")
	}
	sn := newSniffer(t)
	addr := sn.ln.Addr().String()
	n := 80
	if testing.Short() {
		n = 15
	}
	agreed := 0
	wireChecks := map[string]int{}
	for i := 0; i < n; i++ {
		c := build(t, t.TempDir(), &chooser{b: seedStream(int64(5000+i), 96)})
		if strings.Contains(fmt.Sprint(c.env, c.flags.Hosts), "ssh://") {
			continue // docker would run ssh
		}
		if i%2 == 0 {
			// Half the cases talk to the sniffer through DOCKER_HOST.
			c.env["DOCKER_HOST"] = "tcp://127.0.0.1:2376"
			c.flags.Hosts, c.flags.Context = nil, ""
		}
		retarget(t, c, addr)
		m := model(c)
		var problems []string
		// 1. The line docker prints before connecting (or none).
		sn.take()
		_, stderr := c.runDocker(t, bin, "ps", "-q")
		wire := sn.take()
		switch {
		case m.Err != "" && !strings.Contains(stderr, m.Err):
			problems = append(problems, fmt.Sprintf("docker printed %q, model says %q", strings.TrimSpace(stderr), m.Err))
		case m.Err == "" && (strings.Contains(stderr, "Failed to initialize") || strings.Contains(stderr, "conflicting options")):
			problems = append(problems, fmt.Sprintf("docker failed before connecting: %q; model: no error", strings.TrimSpace(stderr)))
		}
		// 2. TLS or plain on the wire, when the endpoint is the sniffer.
		if m.Err == "" && (m.Host == "tcp://"+addr) {
			want := "plain"
			if m.TLS {
				want = "tls"
			}
			wireChecks[want]++
			if len(wire) == 0 || wire[0] != want {
				problems = append(problems, fmt.Sprintf("on the wire docker spoke %v, model says %s", wire, want))
			}
		}
		// 3. The context, host and TLS files, as docker context inspect
		// shows the current context.
		if m.Err == "" {
			out, stderr := c.runDocker(t, bin, "context", "inspect")
			var insp []struct {
				Name      string
				Endpoints map[string]struct {
					Host          string
					SkipTLSVerify bool
				}
				TLSMaterial map[string][]string
			}
			if err := json.Unmarshal([]byte(out), &insp); err != nil || len(insp) != 1 {
				problems = append(problems, fmt.Sprintf("docker context inspect: %v %s", err, stderr))
			} else {
				got := insp[0]
				host := got.Endpoints["docker"].Host
				if host == "" {
					host = "unix:///var/run/docker.sock"
				}
				if got.Name != m.Context || host != m.Host {
					problems = append(problems, fmt.Sprintf("context inspect: %s at %s; model: %s at %s", got.Name, host, m.Context, m.Host))
				}
				files := map[string]bool{}
				for _, f := range got.TLSMaterial["docker"] {
					files[f] = true
				}
				if files["ca.pem"] != (m.CA != "") || files["cert.pem"] != (m.Cert != "") || files["key.pem"] != (m.Key != "") {
					problems = append(problems, fmt.Sprintf("context inspect TLS material %v; model ca=%v cert=%v key=%v", got.TLSMaterial["docker"], m.CA != "", m.Cert != "", m.Key != ""))
				}
			}
		}
		if len(problems) > 0 {
			mj, _ := json.MarshalIndent(m, "  ", "  ")
			t.Errorf("docker binary and model disagree:\n%s\ninputs:\n%s\nmodel:\n  %s", strings.Join(problems, "\n"), c.describe(), mj)
			continue
		}
		agreed++
	}
	t.Logf("%d cases agree with %s (wire checks: %v)", agreed, bin, wireChecks)
	if !testing.Short() && (wireChecks["tls"] == 0 || wireChecks["plain"] == 0) {
		t.Errorf("no TLS or no plain case reached the sniffer (%v): the generator no longer covers them", wireChecks)
	}
}

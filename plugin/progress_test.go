package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// silentServer accepts connections and never answers: every probe step
// after connect waits for its timeout.
func silentServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln.Addr().String()
}

// onTerminal runs docker-tls under a pseudo-terminal (script(1)) and
// returns what the terminal showed.
func onTerminal(t *testing.T, cfg string, args ...string) string {
	t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) (util-linux) is needed for a pseudo-terminal")
	}
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, "-qfec", binary+" "+strings.Join(q, " "), "/dev/null")
	cmd.Env = []string{"HOME=" + filepath.Dir(cfg), "DOCKER_CONFIG=" + cfg, "PATH=" + os.Getenv("PATH"), "TERM=xterm", "NO_COLOR=1"}
	out, _ := cmd.CombinedOutput()
	return strings.ReplaceAll(string(out), "\r\n", "\n")
}

// A probe step over a second shows "probing ADDR… STEP" on a terminal's
// stderr; never with a machine format, never without a terminal.
func TestProgressLine(t *testing.T) {
	addr := silentServer(t)
	cfg := filepath.Join(t.TempDir(), ".docker")
	want := "probing " + addr + "… http" // the plain client's request waits
	out := onTerminal(t, cfg, "doctor", "--daemon", "--timeout", "1500ms", addr)
	if !strings.Contains(out, want) {
		t.Errorf("terminal output lacks %q:\n%s", want, out)
	}
	for _, f := range []string{"json", "sarif", "junit"} {
		if out := onTerminal(t, cfg, "doctor", "--daemon", "--timeout", "1500ms", "--format", f, addr); strings.Contains(out, "probing ") {
			t.Errorf("--format %s on a terminal printed a progress line:\n%s", f, out)
		}
	}
	r := run(t, cfg, "doctor", "--daemon", "--timeout", "1500ms", addr)
	if strings.Contains(r.stderr+r.stdout, "probing ") {
		t.Errorf("without a terminal: progress line printed:\n%s%s", r.stdout, r.stderr)
	}
	// A fast probe prints none.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	if out := onTerminal(t, cfg, "doctor", "--daemon", closed); strings.Contains(out, "probing ") {
		t.Errorf("fast probe printed a progress line:\n%s", out)
	}
}

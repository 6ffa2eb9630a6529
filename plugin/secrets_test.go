package main

import (
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// keyBodies is every private key the plugin tests have seen on disk, by
// file, as its base64 body without line breaks: command output is checked
// against all of them.
var keyBodies struct {
	sync.Mutex
	byFile map[string]string // path+content hash key → body
	bodies map[string]bool
}

// secretWindow is the length of a piece of a key's base64 body that counts
// as leaked when it appears in output.
const secretWindow = 32

// registerKeys records the private keys in file p, or in the files under
// directory p whose names mention "key".
func registerKeys(p string) {
	fi, err := os.Stat(p)
	if err != nil {
		return
	}
	if !fi.IsDir() {
		registerKeyFile(p, fi)
		return
	}
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(strings.ToLower(d.Name()), "key") {
			return nil
		}
		if fi, err := os.Stat(q); err == nil {
			registerKeyFile(q, fi)
		}
		return nil
	})
}

func registerKeyFile(p string, fi fs.FileInfo) {
	if !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
		return
	}
	data, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(data), "PRIVATE KEY") {
		return
	}
	keyBodies.Lock()
	defer keyBodies.Unlock()
	if keyBodies.bodies == nil {
		keyBodies.bodies = map[string]bool{}
	}
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if strings.Contains(b.Type, "PRIVATE KEY") {
			var sb strings.Builder
			for _, l := range strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: "X", Bytes: b.Bytes})), "\n") {
				if !strings.HasPrefix(l, "-----") {
					sb.WriteString(l)
				}
			}
			keyBodies.bodies[sb.String()] = true
		}
	}
}

// checkNoSecrets fails the test when a command's output carries private
// key material: a PEM private key, or any 32-character piece of the base64
// body of a key file found in the test's DOCKER_CONFIG or named (as a file
// or directory) in the command's arguments. It runs after every command
// the plugin tests run.
func checkNoSecrets(t *testing.T, cfg string, args []string, r result) {
	t.Helper()
	registerKeys(cfg)
	for _, a := range args {
		if _, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
			a = v
		}
		if filepath.IsAbs(a) {
			registerKeys(a)
		}
	}
	if leak := secretLeak(r.stdout + r.stderr); leak != "" {
		t.Errorf("docker-tls %s printed %s:\n%s%s", strings.Join(args, " "), leak, r.stdout, r.stderr)
	}
}

// secretLeak describes the private key material in out, or returns "".
func secretLeak(out string) string {
	if strings.Contains(out, "PRIVATE KEY-----") {
		return "a PEM private key"
	}
	flat := strings.NewReplacer("\n", "", "\r", "", " ", "").Replace(out)
	if len(flat) < secretWindow {
		return ""
	}
	windows := make(map[string]bool, len(flat))
	for i := 0; i+secretWindow <= len(flat); i++ {
		windows[flat[i:i+secretWindow]] = true
	}
	keyBodies.Lock()
	defer keyBodies.Unlock()
	for body := range keyBodies.bodies {
		for i := 0; i+secretWindow <= len(body); i++ {
			if w := body[i : i+secretWindow]; windows[w] {
				return fmt.Sprintf("a piece of a private key (%q)", w)
			}
		}
	}
	return ""
}

// TestSecretScanCatchesLeaks: the scan run() does finds a key piece split
// over lines, and a PEM header, and lets ordinary output through.
func TestSecretScanCatchesLeaks(t *testing.T) {
	cfg := newConfig(t)
	dir := t.TempDir()
	mustRun(t, cfg, "init", "--san", "localhost", "--out", dir)
	registerKeys(dir)
	data, _ := os.ReadFile(filepath.Join(dir, "key.pem"))
	lines := strings.Split(string(data), "\n")
	piece := lines[1][40:] + "\n" + lines[2][:20] // 44 characters across a line break
	for out, want := range map[string]bool{
		"error: " + piece + " trailing":        true,
		string(data):                           true,
		"created key.pem (client private key)": false,
		lines[1][:secretWindow-1]:              false,
	} {
		if got := secretLeak(out) != ""; got != want {
			t.Errorf("secretLeak(%q) = %v, want %v", out, got, want)
		}
	}
}

// TestNoSecretsInDebugOutput runs the commands that touch private keys with
// the docker CLI's --debug (-D) flag, successes and failures, so that debug
// logging is covered by the output scan run() does after every command.
func TestNoSecretsInDebugOutput(t *testing.T) {
	cfg := newConfig(t)
	mat, other := t.TempDir(), t.TempDir()
	m := func(n string) string { return filepath.Join(mat, n) }
	mustRun(t, cfg, "--debug", "init", "--san", "localhost", "--out", mat)
	mustRun(t, cfg, "-D", "init", "--san", "localhost", "--out", other, "--key", "rsa-2048")
	mustRun(t, cfg, "-D", "ca", "create")
	mustRun(t, cfg, "-D", "issue", "client", "--name", "dbg", "--out", t.TempDir())
	mustRun(t, cfg, "-D", "inspect", m("cert.pem"), m("key.pem"), m("ca-key.pem"))
	mustRun(t, cfg, "-D", "inspect", "--format", "json", m("server-cert.pem"), m("server-key.pem"))
	mustRun(t, cfg, "-D", "install", "client", "--ca", m("ca.pem"), "--cert", m("cert.pem"), "--key", m("key.pem"), "--cert-path", t.TempDir())
	mustRun(t, cfg, "-D", "install", "client", "--ca", m("ca.pem"), "--cert", m("cert.pem"), "--key", m("key.pem"), "--context", "dbg", "--host", "tcp://localhost:2376")
	mustRun(t, cfg, "-D", "install", "daemon", "--cert", m("server-cert.pem"), "--key", m("server-key.pem"), "--client-ca", m("ca.pem"), "--dir", t.TempDir(), "--root", t.TempDir())
	// Failures that handle key files: swapped, mismatched, a key where a
	// certificate belongs, a key as the CA.
	for _, args := range [][]string{
		{"install", "client", "--ca", m("ca.pem"), "--cert", m("key.pem"), "--key", m("cert.pem"), "--cert-path", t.TempDir()},
		{"install", "client", "--ca", m("ca.pem"), "--cert", m("cert.pem"), "--key", filepath.Join(other, "key.pem"), "--cert-path", t.TempDir()},
		{"install", "client", "--ca", m("ca-key.pem"), "--cert", m("cert.pem"), "--key", m("key.pem"), "--cert-path", t.TempDir()},
		{"install", "daemon", "--cert", m("server-key.pem"), "--key", m("server-key.pem"), "--dir", t.TempDir(), "--root", t.TempDir()},
		{"issue", "server", "--san", "x", "--ca-cert", m("ca-key.pem"), "--ca-key", m("ca.pem"), "--out", t.TempDir()},
		{"issue", "server", "--san", "x", "--ca-cert", m("ca.pem"), "--ca-key", filepath.Join(other, "ca-key.pem"), "--out", t.TempDir()},
		{"inspect", m("key.pem"), filepath.Join(other, "cert.pem")},
	} {
		r := run(t, cfg, append([]string{"-D"}, args...)...)
		if r.code == 0 && args[0] != "inspect" {
			t.Errorf("docker-tls -D %s: exit 0, expected a refusal\n%s", strings.Join(args, " "), r.stdout)
		}
	}
	keyBodies.Lock()
	n := len(keyBodies.bodies)
	keyBodies.Unlock()
	if n < 6 {
		t.Errorf("only %d private keys were registered for the output scan", n)
	}
}

package main

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// killedRun starts docker-tls like run does and SIGKILLs it after delay
// (unless it has ended by then). killed is false when it exited by itself.
func killedRun(t *testing.T, cfg string, delay time.Duration, args ...string) (r result, killed bool) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"HOME=" + filepath.Dir(cfg), "DOCKER_CONFIG=" + cfg, "PATH=" + os.Getenv("PATH")}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
	err := cmd.Wait()
	timer.Stop()
	r = result{stdout: o.String(), stderr: e.String()}
	checkNoSecrets(t, cfg, args, r)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return r, true
		}
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r, false
}

// TestCrashSafeInstalls runs `install daemon --force` and `install client
// --cert-path … --force` again and again, alternating two materials, and
// SIGKILLs each run after a random delay. After every run each target file
// is the complete old or the complete new version (never partial, never
// missing once it existed, with its mode), every backup is a complete
// version, and a run that completes leaves no temp files behind. A final
// normal run recovers.
func TestCrashSafeInstalls(t *testing.T) {
	if testing.Short() {
		t.Skip("kills ~400 subprocesses")
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("DOCKER_TLS_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("seed %d (rerun with DOCKER_TLS_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))

	cfg := newConfig(t)
	matA, matB := t.TempDir(), t.TempDir()
	mustRun(t, cfg, "init", "--san", "localhost", "--out", matA)
	mustRun(t, cfg, "init", "--san", "localhost", "--key", "rsa-2048", "--out", matB)
	root := t.TempDir() // no systemd unit

	kinds := []struct {
		name    string
		targets map[string]os.FileMode
		args    func(mat, dir string) []string
	}{
		{"daemon", map[string]os.FileMode{"ca.pem": 0o644, "server-cert.pem": 0o644, "server-key.pem": 0o600, "daemon.json": 0o644},
			func(mat, dir string) []string {
				return []string{"install", "daemon", "--cert", filepath.Join(mat, "server-cert.pem"), "--key", filepath.Join(mat, "server-key.pem"),
					"--client-ca", filepath.Join(mat, "ca.pem"), "--dir", dir, "--root", root, "--force"}
			}},
		{"client", map[string]os.FileMode{"ca.pem": 0o644, "cert.pem": 0o644, "key.pem": 0o600},
			func(mat, dir string) []string {
				return []string{"install", "client", "--ca", filepath.Join(mat, "ca.pem"), "--cert", filepath.Join(mat, "cert.pem"),
					"--key", filepath.Join(mat, "key.pem"), "--cert-path", dir, "--force"}
			}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "target")
			// The complete versions, from uninterrupted runs into the same
			// directory (daemon.json names the directory).
			start := time.Now()
			mustRun(t, cfg, k.args(matA, dir)...)
			took := time.Since(start)
			versions := map[string][2][]byte{}
			readAll := func() map[string][]byte {
				out := map[string][]byte{}
				for name := range k.targets {
					b, err := os.ReadFile(filepath.Join(dir, name))
					if err == nil {
						out[name] = b
					}
				}
				return out
			}
			a := readAll()
			mustRun(t, cfg, k.args(matB, dir)...)
			b := readAll()
			for name := range k.targets {
				versions[name] = [2][]byte{a[name], b[name]}
			}
			if bytes.Equal(a["ca.pem"], b["ca.pem"]) {
				t.Fatal("the two materials have the same CA")
			}
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}

			maxDelay := max(20*time.Millisecond, took+took/2)
			t.Logf("an uninterrupted run takes %s; killing after 0–%s", took, maxDelay)
			existed := map[string]bool{}
			var killed, completed, mixed, withTemps int
			deadline := time.Now().Add(90 * time.Second)
			for i := 0; i < 200 && time.Now().Before(deadline); i++ {
				mat := matA
				if i%2 == 1 {
					mat = matB
				}
				delay := time.Duration(rng.Int63n(int64(maxDelay)))
				r, wasKilled := killedRun(t, cfg, delay, k.args(mat, dir)...)
				if wasKilled {
					killed++
				} else {
					completed++
					if r.code != 0 {
						t.Fatalf("run %d (%s, not killed): exit %d\n%s%s", i, filepath.Base(mat), r.code, r.stdout, r.stderr)
					}
				}
				seenA, seenB, temps := checkCrashState(t, i, dir, k.targets, versions, existed)
				if seenA && seenB {
					mixed++
				}
				if temps > 0 {
					withTemps++
					if !wasKilled {
						t.Errorf("run %d completed but left %d temp files", i, temps)
					}
				}
				if t.Failed() {
					t.Fatalf("run %d (material %s, killed after %s: %v) broke the files", i, filepath.Base(mat), delay, wasKilled)
				}
			}
			t.Logf("%d runs killed, %d completed; %d left a mix of old and new files, %d left temp files", killed, completed, mixed, withTemps)

			// A normal run recovers: every file is the new version, no temp
			// file remains.
			mustRun(t, cfg, k.args(matA, dir)...)
			for name, v := range versions {
				if got, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(got, v[0]) {
					t.Errorf("after recovery %s is not the installed version", name)
				}
			}
			if _, _, temps := checkCrashState(t, -1, dir, k.targets, versions, existed); temps != 0 {
				t.Errorf("after recovery %d temp files remain", temps)
			}
		})
	}
}

// checkCrashState checks the target directory after run i and returns
// whether material A and B versions were seen and how many temp files
// there are.
func checkCrashState(t *testing.T, i int, dir string, targets map[string]os.FileMode, versions map[string][2][]byte, existed map[string]bool) (seenA, seenB bool, temps int) {
	t.Helper()
	which := func(b []byte, name string) int {
		for j, v := range versions[name] {
			if bytes.Equal(b, v) {
				return j
			}
		}
		return -1
	}
	for name, mode := range targets {
		p := filepath.Join(dir, name)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			if existed[name] {
				t.Errorf("run %d: %s disappeared", i, name)
			}
			continue
		}
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("run %d: %s: %v %v", i, name, fi, err)
			continue
		}
		existed[name] = true
		if fi.Mode().Perm() != mode {
			t.Errorf("run %d: %s has mode %04o, want %04o", i, name, fi.Mode().Perm(), mode)
		}
		b, _ := os.ReadFile(p)
		same := bytes.Equal(versions[name][0], versions[name][1])
		switch which(b, name) {
		case 0:
			seenA = seenA || !same
		case 1:
			seenB = seenB || !same
		default:
			t.Errorf("run %d: %s is neither complete version (%d bytes):\n%s", i, name, len(b), b)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n := e.Name()
		fi, _ := e.Info()
		for name, mode := range targets {
			switch {
			case strings.HasPrefix(n, name+".bak-"):
				b, _ := os.ReadFile(filepath.Join(dir, n))
				if which(b, name) < 0 {
					t.Errorf("run %d: backup %s is not a complete version (%d bytes)", i, n, len(b))
				}
				if fi.Mode().Perm() != mode {
					t.Errorf("run %d: backup %s has mode %04o, want %04o", i, n, fi.Mode().Perm(), mode)
				}
			case strings.HasPrefix(n, "."+name+".docker-tls-tmp-"):
				temps++
				if fi.Mode().Perm()&^mode != 0 {
					t.Errorf("run %d: temp file %s has mode %04o, more open than %04o", i, n, fi.Mode().Perm(), mode)
				}
			}
		}
	}
	return seenA, seenB, temps
}

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var binary string

// TestMain builds the real binary once: the commands are tested as a user
// runs them, through the plugin framework, with their exit codes.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "docker-tls-test-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "docker-tls")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.Exit(3)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// run executes docker-tls standalone with a private DOCKER_CONFIG.
func run(t *testing.T, cfg string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	env := []string{"HOME=" + filepath.Dir(cfg), "DOCKER_CONFIG=" + cfg, "PATH=" + os.Getenv("PATH")}
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := result{stdout: o.String(), stderr: e.String()}
	checkNoSecrets(t, cfg, args, r)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustRun(t *testing.T, cfg string, args ...string) string {
	t.Helper()
	r := run(t, cfg, args...)
	if r.code != 0 {
		t.Fatalf("docker-tls %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func newConfig(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), ".docker")
}

func TestStandaloneArgs(t *testing.T) {
	for in, want := range map[string]string{
		"docker-tls init --san x":                     "docker-tls tls init --san x",
		"docker-tls -H tcp://h:1 doctor":              "docker-tls -H tcp://h:1 tls doctor",
		"docker-tls --context=c --debug doctor":       "docker-tls --context=c --debug tls doctor",
		"docker-tls tls init":                         "docker-tls tls init",
		"docker-tls docker-cli-plugin-metadata":       "docker-tls docker-cli-plugin-metadata",
		"docker-tls":                                  "docker-tls tls",
		"docker-tls --tlscacert ca.pem --tls inspect": "docker-tls --tlscacert ca.pem --tls tls inspect",
	} {
		if got := strings.Join(standaloneArgs(strings.Fields(in), false), " "); got != want {
			t.Errorf("standaloneArgs(%q) = %q, want %q", in, got, want)
		}
	}
	if got := standaloneArgs([]string{"docker-tls", "-H", "x", "tls", "init"}, true); len(got) != 5 {
		t.Errorf("via docker the args must stay as they are: %q", got)
	}
}

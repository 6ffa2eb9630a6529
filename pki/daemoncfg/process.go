package daemoncfg

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Process is a running dockerd as /proc shows it: the command line it was
// started with and the environment variables that change its TLS defaults
// (moby cmd/dockerd/options.go: DOCKER_CERT_PATH, else DOCKER_CONFIG, else
// $HOME/.docker holds the default ca.pem, cert.pem and key.pem;
// DOCKER_TLS_VERIFY set to anything turns --tlsverify on).
type Process struct {
	PID  int
	Argv []string
	Env  map[string]string
	// MountNS is the process's mount namespace (the /proc/PID/ns/mnt
	// link), "" when unreadable: paths in its flags mean the files of
	// that namespace.
	MountNS string
}

// processEnvVars are the environment variables of dockerd that matter here.
var processEnvVars = []string{"DOCKER_CERT_PATH", "DOCKER_CONFIG", "HOME", "DOCKER_TLS_VERIFY"}

// CertDir is the directory dockerd takes its default TLS files from.
func (p Process) CertDir(rootHome string) string {
	if v := p.Env["DOCKER_CERT_PATH"]; v != "" {
		return v
	}
	if v := p.Env["DOCKER_CONFIG"]; v != "" {
		return v
	}
	home := p.Env["HOME"]
	if home == "" {
		home = rootHome
	}
	return filepath.ToSlash(filepath.Join(home, ".docker"))
}

// TLSVerifyFromEnv reports whether DOCKER_TLS_VERIFY in dockerd's
// environment turns verification on (any non-empty value does).
func (p Process) TLSVerifyFromEnv() bool { return p.Env["DOCKER_TLS_VERIFY"] != "" }

// RunningDockerds lists the dockerd processes under procDir (/proc), in
// PID order. Processes that cannot be read (another user's, gone) are
// left out, and so are the children of a dockerd (forks about to exec a
// helper) and of the caller.
func RunningDockerds(procDir string) []Process {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return nil
	}
	var out []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		dir := filepath.Join(procDir, e.Name())
		comm, err := os.ReadFile(filepath.Join(dir, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "dockerd" {
			continue
		}
		ppid := parentPID(dir)
		if ppid == os.Getpid() {
			// The caller's own child (`dockerd --version`, asked for the
			// installed version) is no daemon, and has the caller's env.
			continue
		}
		if ppid > 0 && isDockerd(procDir, ppid) {
			// A child of a dockerd is no second daemon: dockerd forks to
			// run helpers (runc --version and docker-init --version on
			// every /info, a check at start), and between fork and exec
			// the child has dockerd's comm, exe and command line.
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		p := Process{PID: pid, Argv: splitNUL(cmdline), Env: map[string]string{}}
		p.MountNS, _ = os.Readlink(filepath.Join(dir, "ns", "mnt"))
		if env, err := os.ReadFile(filepath.Join(dir, "environ")); err == nil {
			for _, kv := range splitNUL(env) {
				k, v, _ := strings.Cut(kv, "=")
				for _, want := range processEnvVars {
					if k == want {
						p.Env[k] = v
					}
				}
			}
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// isDockerd reports whether process pid under procDir is named dockerd.
func isDockerd(procDir string, pid int) bool {
	comm, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "comm"))
	return err == nil && strings.TrimSpace(string(comm)) == "dockerd"
}

// parentPID is the PPid of the process whose /proc directory is dir, from
// its stat file ("pid (comm) state ppid …"; comm may hold spaces and
// parentheses), or 0 when it cannot be read.
func parentPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// SameMountNS keeps the processes that see this process's files: those in
// the mount namespace of self (/proc/self), or all when it is unknown. A
// dockerd in another mount namespace (a container, a test harness) names
// files this process cannot see as it does.
func SameMountNS(procDir string, ps []Process) []Process {
	self, err := os.Readlink(filepath.Join(procDir, "self", "ns", "mnt"))
	if err != nil || self == "" {
		return ps
	}
	var out []Process
	for _, p := range ps {
		if p.MountNS == self {
			out = append(out, p)
		}
	}
	return out
}

func splitNUL(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	var out []string
	for _, f := range bytes.Split(b, []byte{0}) {
		out = append(out, string(f))
	}
	return out
}

//go:build linux

// Package e2e is the end-to-end test harness for docker-tls. It starts real
// dockerd, containerd and docker-registry processes, isolated from the host's
// Docker installation, and stops them again by PID.
//
// # Isolation model
//
// Every test gets a [Namespace]: a private mount namespace, kept alive by a
// "sleep infinity" holder process, in which
//
//   - /etc/docker is a bind mount of a temp dir (Namespace.EtcDocker), so
//     dockerd's certs.d (/etc/docker/certs.d/<host:port>/), its default
//     daemon.json and the key.json that dockerd 20.10 always writes to
//     /etc/docker never touch the real /etc/docker;
//   - /etc/hosts is a bind mount of a temp copy of the real one
//     (Namespace.HostsFile), so registries can get a test host name;
//   - /etc/systemd/system is an empty tmpfs, so a drop-in that a test makes
//     docker-tls write (install daemon, provision) never reaches the host;
//   - /run (and so /var/run) is an empty tmpfs, so nothing in the namespace can
//     reach the host's /var/run/docker.sock or /run/containerd, and files that
//     dockerd/containerd insist on creating there (/run/docker/plugins, shim
//     sockets in /run/containerd/s) vanish with the namespace.
//
// containerd, dockerd, docker-registry and docker CLI commands are all run in
// the same namespace with nsenter(1), so they share one consistent view (for
// example dockerd may listen on the default unix:///var/run/docker.sock and a
// plain "docker" inside the namespace reaches it). Mounts made by dockerd stay
// inside the namespace. When the test ends every process still inside the
// namespace is killed; that also catches strays such as containerd shims.
//
// # Findings for this sandbox (Debian bookworm, dockerd 20.10.24, containerd 1.6.20)
//
//   - dockerd runs fine as root with: --config-file, --data-root, --exec-root,
//     --pidfile, --containerd, --iptables=false, --ip-forward=false,
//     --bridge=none, --userland-proxy=false, --storage-driver=vfs. No cgroup
//     flags are needed (cgroup v1 hierarchies are mounted; dockerd only warns
//     "Your kernel does not support cgroup blkio weight").
//   - --iptables=false/--ip-forward=false/--bridge=none keep dockerd away from
//     the host's network namespace (no iptables rules, no docker0, no sysctl
//     writes). --userland-proxy=false is belt and braces: nothing publishes
//     ports.
//   - "hosts" must come only from daemon.json: dockerd refuses a directive given
//     both as a flag and in the config file, so no -H is passed. Likewise the
//     caller's daemon.json must not set data-root, exec-root, pidfile,
//     containerd, iptables, ip-forward, bridge, userland-proxy or
//     storage-driver.
//   - We run our own containerd (config version 2) instead of letting dockerd
//     spawn one, because containerd's "opt" plugin otherwise creates
//     /opt/containerd on the host and dockerd's generated containerd.toml
//     cannot move it. With a dedicated containerd per dockerd the containerd
//     namespace ("moby") cannot clash, so --containerd-namespace is not needed.
//   - Unix socket paths are limited to 107 bytes; containerd's socket and
//     dockerd's exec-root sockets (libnetwork/<id>.sock) therefore live in a
//     short directory directly under /tmp, not in t.TempDir(), whose name
//     contains the (possibly long) test name.
//   - dockerd needs about one second to come up; readiness is the
//     "API listen on ..." log line, which dockerd prints only after the daemon
//     finished initialising and the API is being served.
//   - dockerd treats registries that resolve into 127.0.0.0/8 as insecure
//     (plain HTTP allowed, certs.d ignored), and from 28 on ::1 too. So
//     registry tests use NewNetNamespace: the namespace also gets a network
//     namespace of its own whose loopback carries a unique local address
//     (NamespaceIP); registries listen on [NamespaceIP]:PORT and get a test
//     name (default registry.e2e.test) mapped to it in the namespace's
//     /etc/hosts. Real TLS verification including certs.d then happens.
//     dockerd, the registry and every client of them run inside; the
//     network namespace ends with the namespace's last process.
//   - Which dockerd, containerd, ctr and registry run is the test's matrix
//     Cell (see matrix.go): Debian's 20.10 set, or dockerd 28.5 with
//     containerd 2.4 and registry 3, with the classic or the containerd
//     image store.
//   - util-linux mount writes its utab under /run/mount; the wrapper runs mount
//     with -n so that nothing is created on the host's /run.
//
// # Findings for dockerd v28.5.2 with containerd v2.4.2 (built from source)
//
//   - The same flags work, plus --ip6tables=false (28 defaults to true, which
//     would want ip6tables). containerd 2 gets a version 3 config with the
//     CRI, sandbox and NRI plugins disabled and its opt and image-verifier
//     dirs moved off /opt.
//   - The containerd image store is --feature=containerd-snapshotter (a flag,
//     so the test's daemon.json stays the product's); the storage driver then
//     names the snapshotter, so --storage-driver=vfs is left out and
//     containerd's default overlayfs is used. dockerd logs "Starting daemon
//     with containerd snapshotter integration enabled", which StartDockerd
//     checks.
//   - With the containerd store, dockerd resolves registries with containerd's
//     hosts rules rooted at /etc/docker/certs.d: HOST/hosts.toml when present,
//     else containerd's loadCertFiles fallback (*.crt, *.cert/*.key), and
//     push errors come from containerd's resolver (a blob HEAD, not the /v2/
//     ping).
//   - A missing client certificate gets "certificate required" from Go ≥ 1.21
//     servers (dockerd 28, registry 3) where 20.10 and registry 2.8 say "bad
//     certificate"; the docker CLI adds its --tlsverify hint only to the
//     latter.
//
// Nothing here touches /var/lib/docker, /var/run/docker.sock, the real
// /etc/docker, /opt or the host's iptables.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts used by the harness.
const (
	startTimeout   = 60 * time.Second // for a daemon to become ready
	stopGrace      = 15 * time.Second // between SIGTERM and SIGKILL
	commandTimeout = 2 * time.Minute  // for one docker CLI command
)

// DefaultRegistryHostname is the name under which StartRegistry makes a
// registry reachable inside its namespace.
const DefaultRegistryHostname = "registry.e2e.test"

// ---------------------------------------------------------------------------
// Requirements and tools

// tools maps a tool name to the environment variable that may override its
// path. Without an override the tool is looked up in PATH and then in the
// sbin directories (dockerd lives in /usr/sbin, which is not always in PATH).
var tools = map[string]string{
	"dockerd":         "E2E_DOCKERD",
	"containerd":      "E2E_CONTAINERD",
	"docker-registry": "E2E_DOCKER_REGISTRY",
	"docker":          "E2E_DOCKER", // the CLI; /usr/local/bin/docker (28.x) comes first in PATH here
	"ctr":             "E2E_CTR",    // containerd 1.6's, for the dockerd-20.10 cell
	"ip":              "",
	"nsenter":         "",
	"mount":           "",
	"sleep":           "",
	"sh":              "",
}

var (
	toolsOnce  sync.Once
	toolPaths  map[string]string
	toolErrors []string
)

func resolveTools() {
	toolPaths = map[string]string{}
	for name, envVar := range tools {
		if envVar != "" && os.Getenv(envVar) != "" {
			p := os.Getenv(envVar)
			if _, err := os.Stat(p); err != nil {
				toolErrors = append(toolErrors, fmt.Sprintf("%s=%s: %v", envVar, p, err))
				continue
			}
			toolPaths[name] = p
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			toolPaths[name] = p
			continue
		}
		found := false
		for _, dir := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				toolPaths[name], found = p, true
				break
			}
		}
		if !found {
			toolErrors = append(toolErrors, fmt.Sprintf("%s not found in PATH", name))
		}
	}
}

// Tool returns the path of one of the programs the harness runs ("dockerd",
// "containerd", "docker-registry", "docker", ...). It fails the test if the
// program is missing.
func Tool(t testing.TB, name string) string {
	t.Helper()
	toolsOnce.Do(resolveTools)
	p, ok := toolPaths[name]
	if !ok {
		t.Fatalf("e2e: required program %q is not available (%s)", name, strings.Join(toolErrors, "; "))
	}
	return p
}

// Require checks that end-to-end tests can run: it skips the test if the
// environment variable E2E is "0", and otherwise fails it (never skips) when
// not running as root or when a required program is missing.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv("E2E") == "0" {
		t.Skip("e2e: skipped because E2E=0")
	}
	noteFailure(t)
	if os.Geteuid() != 0 {
		t.Fatalf("e2e: tests must run as root (they start dockerd and create mount namespaces); uid is %d. Set E2E=0 to skip them.", os.Geteuid())
	}
	toolsOnce.Do(resolveTools)
	if len(toolErrors) > 0 {
		t.Fatalf("e2e: missing programs: %s. Set E2E=0 to skip these tests.", strings.Join(toolErrors, "; "))
	}
}

// FreePort returns a TCP port that is currently free on the given IP
// ("127.0.0.1", "::1", ...). The port is only probably still free when it is
// used, which is good enough for tests.
func FreePort(t testing.TB, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("e2e: finding a free port on %s: %v", ip, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// shortTempDir creates a directory directly under /tmp (not $TMPDIR, not
// t.TempDir()) so that unix socket paths below it stay well under the 107
// byte limit. It is removed when the test ends.
func shortTempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "e2e-"+prefix)
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("e2e: removing %s: %v", dir, err)
		}
	})
	return dir
}

// ---------------------------------------------------------------------------
// Processes

// process is a started long-running program whose combined output goes to a
// log file.
type process struct {
	name      string
	test      string // the test that started it
	cmd       *exec.Cmd
	logPath   string
	startTime string // field 22 of /proc/PID/stat, guards against PID reuse
	done      chan struct{}
	waitErr   error // valid once done is closed
	stopOnce  sync.Once
}

// live records every process the harness started, for LeakedProcesses.
var (
	liveMu sync.Mutex
	live   = map[*process]struct{}{}
)

// startProcess starts cmd with stdout and stderr going to logPath and
// registers cleanups that stop it when the test ends and then, if the test
// failed, print the end of its log. The process also gets SIGKILL if the test
// binary dies (Pdeathsig), so even a test timeout, which skips cleanups, does
// not leave daemons behind.
func startProcess(t testing.TB, name, logPath string, cmd *exec.Cmd) *process {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	// An *os.File (not a pipe) as stdout/stderr: Wait then returns as soon as
	// the process exits, even if children still hold the file open.
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("e2e: starting %s: %v", name, err)
	}
	p := &process{name: name, test: t.Name(), cmd: cmd, logPath: logPath, done: make(chan struct{})}
	p.startTime, _ = procStartTime(cmd.Process.Pid)
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	liveMu.Lock()
	live[p] = struct{}{}
	liveMu.Unlock()
	t.Logf("e2e: started %s (pid %d), log %s", name, cmd.Process.Pid, logPath)
	// Cleanups run last-in first-out: first stop, then show the log, which
	// then includes the shutdown messages.
	t.Cleanup(func() {
		if t.Failed() && p.logTail(1) != "" {
			t.Logf("e2e: %s FAILED; last lines of its %s log (%s):\n%s", t.Name(), p.name, p.logPath, p.logTail(60))
		}
	})
	t.Cleanup(func() { p.stop(t, stopGrace) })
	return p
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace, then sends SIGKILL and waits for the
// process to be reaped. The PID cannot be reused before that, because only
// the Wait goroutine reaps it. Safe to call more than once.
func (p *process) stop(t testing.TB, grace time.Duration) {
	p.stopOnce.Do(func() {
		defer func() {
			liveMu.Lock()
			delete(live, p)
			liveMu.Unlock()
		}()
		if p.exited() {
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			t.Logf("e2e: %s (pid %d) ignored SIGTERM for %s, sending SIGKILL", p.name, p.pid(), grace)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// logTail returns the last n lines of the process's log.
func (p *process) logTail(n int) string {
	data, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func procStartTime(pid int) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	// The command name (field 2) may contain spaces; fields after ")" are plain.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", fmt.Errorf("bad /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return "", fmt.Errorf("bad /proc/%d/stat", pid)
	}
	return fields[19], nil // field 22 overall: starttime
}

// failed collects the names of failed tests that called Require, for
// FailedTests.
var (
	failedMu sync.Mutex
	failed   []string
	watched  sync.Map // testing.TB -> struct{}
)

func noteFailure(t testing.TB) {
	if _, dup := watched.LoadOrStore(t, struct{}{}); dup {
		return
	}
	t.Cleanup(func() {
		watched.Delete(t)
		if t.Failed() {
			failedMu.Lock()
			failed = append(failed, t.Name())
			failedMu.Unlock()
		}
	})
}

// FailedTests lists the e2e tests that failed so far (each test or subtest
// that called Require, directly or through the harness), in the order they
// finished. TestMain prints them last, so the names survive long logs.
// A parent that failed only because a subtest did is left out.
func FailedTests() []string {
	failedMu.Lock()
	defer failedMu.Unlock()
	var leaves []string
next:
	for _, name := range failed {
		for _, other := range failed {
			if strings.HasPrefix(other, name+"/") {
				continue next
			}
		}
		leaves = append(leaves, name)
	}
	return leaves
}

// LeakedProcesses describes every process started by the harness that is
// still running. Call it after all tests (in TestMain) to make sure the
// cleanups worked.
func LeakedProcesses() []string {
	liveMu.Lock()
	defer liveMu.Unlock()
	var leaked []string
	for p := range live {
		if st, err := procStartTime(p.pid()); err == nil && st == p.startTime && !p.exited() {
			leaked = append(leaked, fmt.Sprintf("%s (pid %d, started by %s)", p.name, p.pid(), p.test))
		}
	}
	return leaked
}

// ---------------------------------------------------------------------------
// Mount namespace

// Namespace is a private mount namespace with its own /etc/docker, /etc/hosts
// and /run (see the package documentation). Create one with NewNamespace; it
// and every process inside it are torn down when the test ends.
type Namespace struct {
	// Dir is a temp dir holding EtcDocker and HostsFile.
	Dir string
	// EtcDocker is the host path of the directory mounted on /etc/docker.
	// Registry certificates go to EtcDocker/certs.d/<host:port>/.
	EtcDocker string
	// HostsFile is the host path of the file mounted on /etc/hosts. It starts
	// as a copy of the real /etc/hosts; use AddHost to add entries.
	HostsFile string

	// IP is NamespaceIP for a namespace with its own network (see
	// NewNetNamespace), else empty: processes then share the host's
	// network, and listeners on 127.0.0.1 are reachable from the test.
	IP string

	holder *process
	// mntNS is the readlink of /proc/PID/ns/mnt, e.g. "mnt:[4026532201]".
	// The number alone does not name a namespace for ever: the kernel frees
	// it when the namespace's last process exits and hands the same number
	// to the next namespace created on the host (the lowest free one). nsPin
	// is an open file of the namespace, which keeps it, and so its number,
	// alive until close has finished killing what was left in it; without
	// it, close could kill another test's (or another test run's) processes
	// whose new namespace got the number.
	mntNS     string
	nsPin     *os.File
	closeOnce sync.Once
	hostMu    sync.Mutex
	nextPort  int // for servers inside a network namespace
}

// nsSetupScript runs as "sh -c SCRIPT sh ETC_DOCKER HOSTS_FILE CMD ARGS..." in
// a fresh mount namespace whose propagation Go already made private
// (SysProcAttr.Unshareflags=CLONE_NEWNS remounts / with MS_REC|MS_PRIVATE).
// mount -n: do not write /run/mount/utab (it would land on the host's /run
// for the first mount). With a network namespace ($3 is the ip(8) binary,
// $4 the address), loopback comes up and gets the namespace's own address.
const nsSetupScript = `set -e
mount -n -t tmpfs -o mode=0755 e2e-run /run
mount -n --bind "$1" /etc/docker
mount -n --bind "$2" /etc/hosts
# systemd units and drop-ins that a test writes (install daemon --write-dropin,
# provision resolving -H fd://) land in the namespace, never on the host.
if [ -d /etc/systemd/system ]; then mount -n -t tmpfs -o mode=0755 e2e-units /etc/systemd/system; fi
if [ -n "$3" ]; then
  "$3" link set lo up
  "$3" -6 addr add "$4/128" dev lo nodad
fi
shift 4
exec "$@"`

// NamespaceIP is the address that a network namespace made by
// NewNetNamespace has on its loopback interface, a unique local address
// (fd00::/8). Every such namespace is separate, so they all use the same one.
// It is not in 127.0.0.0/8 or ::1, which dockerd (from 28 on, ::1 too)
// treats as insecure registries: without TLS checks and without reading
// certs.d.
const NamespaceIP = "fd00:e2e::1"

// NewNamespace creates a mount namespace for one test. Its processes share
// the host's network.
func NewNamespace(t testing.TB) *Namespace {
	t.Helper()
	return newNamespace(t, false)
}

// NewNetNamespace creates a mount namespace with its own network namespace
// too: only loopback, up, with 127.0.0.1, ::1 and NamespaceIP. Registries
// need it (see NamespaceIP). Everything the test runs against processes in
// it must run in it (Command, RunDocker, Dockerd.Docker, docker-tls via
// dockerTLSInNamespace); the test process itself cannot reach them. The
// network namespace has no name and no file under /run/netns: it ends with
// its last process, which the namespace's cleanup kills.
func NewNetNamespace(t testing.TB) *Namespace {
	t.Helper()
	return newNamespace(t, true)
}

func newNamespace(t testing.TB, network bool) *Namespace {
	t.Helper()
	Require(t)
	dir := t.TempDir()
	ns := &Namespace{
		Dir:       dir,
		EtcDocker: filepath.Join(dir, "etc-docker"),
		HostsFile: filepath.Join(dir, "hosts"),
	}
	if err := os.Mkdir(ns.EtcDocker, 0o755); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	hosts, err := os.ReadFile("/etc/hosts")
	if err != nil {
		hosts = []byte("127.0.0.1 localhost\n::1 localhost\n")
	}
	if len(hosts) > 0 && !bytes.HasSuffix(hosts, []byte("\n")) {
		hosts = append(hosts, '\n')
	}
	if err := os.WriteFile(ns.HostsFile, hosts, 0o644); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	// The bind mount target /etc/docker must exist on the host. On this
	// machine it does (docker-registry ships /etc/docker/registry); refuse to
	// create it rather than leave a trace.
	if st, err := os.Stat("/etc/docker"); err != nil || !st.IsDir() {
		t.Fatalf("e2e: /etc/docker must exist as a directory to serve as a mount point in the test namespace (create it once with mkdir /etc/docker): %v", err)
	}

	ipTool, flags := "", uintptr(syscall.CLONE_NEWNS)
	if network {
		ipTool, ns.IP, ns.nextPort = Tool(t, "ip"), NamespaceIP, 5000
		flags |= syscall.CLONE_NEWNET
	}
	cmd := exec.Command(Tool(t, "sh"), "-c", nsSetupScript, "sh",
		ns.EtcDocker, ns.HostsFile, ipTool, NamespaceIP, Tool(t, "sleep"), "infinity")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: flags}
	ns.holder = startProcess(t, "namespace holder", filepath.Join(dir, "holder.log"), cmd)
	t.Cleanup(func() { ns.close(t) })

	// The holder is ready once sh has exec'd sleep, i.e. after the mounts.
	sleepPath, _ := filepath.EvalSymlinks(Tool(t, "sleep"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ns.holder.exited() {
			t.Fatalf("e2e: setting up the mount namespace failed: %v\n%s", ns.holder.waitErr, ns.holder.logTail(20))
		}
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", ns.holder.pid()))
		if exe == sleepPath {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("e2e: mount namespace holder did not come up (exe %q)", exe)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Pin the namespace before reading its number (see Namespace.nsPin).
	// The holder is not reaped before its Wait goroutine closes done, so
	// while it has not exited the PID is still the holder's.
	ns.nsPin, err = os.Open(fmt.Sprintf("/proc/%d/ns/mnt", ns.holder.pid()))
	if err == nil && ns.holder.exited() {
		err = errors.New("the holder exited")
	}
	if err != nil {
		t.Fatalf("e2e: pinning the test mount namespace: %v", err)
	}
	ns.mntNS, err = os.Readlink(fmt.Sprintf("/proc/self/fd/%d", ns.nsPin.Fd()))
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	if self, _ := os.Readlink("/proc/self/ns/mnt"); self == ns.mntNS {
		t.Fatalf("e2e: holder is not in a new mount namespace")
	}
	if network {
		netNS, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", ns.holder.pid()))
		if self, _ := os.Readlink("/proc/self/ns/net"); netNS == "" || self == netNS {
			t.Fatalf("e2e: holder is not in a new network namespace")
		}
	}
	return ns
}

// close stops the holder and kills every process left in the namespace,
// then releases the namespace (nsPin). Only the first call does anything:
// once the pin is released the number may belong to another namespace.
func (ns *Namespace) close(t testing.TB) {
	ns.closeOnce.Do(func() { ns.closeNow(t) })
}

func (ns *Namespace) closeNow(t testing.TB) {
	ns.holder.stop(t, stopGrace)
	if ns.nsPin == nil {
		return
	}
	defer ns.nsPin.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := pidsInMountNS(ns.mntNS)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("e2e: processes still running in test mount namespace: %v", pids)
			return
		}
		for _, pid := range pids {
			t.Logf("e2e: killing leftover process %d in test namespace", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pidsInMountNS lists the live processes in the given mount namespace.
// Zombies have no namespace links and are not listed.
func pidsInMountNS(mntNS string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid)); err == nil && link == mntNS {
			pids = append(pids, pid)
		}
	}
	return pids
}

// HolderPID returns the PID of the process that keeps the namespace alive.
// /proc/HolderPID/root is the namespace's view of the file system.
func (ns *Namespace) HolderPID() int { return ns.holder.pid() }

// HostPath translates a path as seen inside the namespace into one usable by
// the test process: /etc/docker/... maps into EtcDocker, /etc/hosts to
// HostsFile, /run/... and /var/run/... to /proc/HOLDER/root/...; every other
// path is the same inside and outside.
func (ns *Namespace) HostPath(p string) string {
	p = filepath.Clean(p)
	switch {
	case p == "/etc/hosts":
		return ns.HostsFile
	case p == "/etc/docker" || strings.HasPrefix(p, "/etc/docker/"):
		return filepath.Join(ns.EtcDocker, strings.TrimPrefix(p, "/etc/docker"))
	case p == "/var/run" || strings.HasPrefix(p, "/var/run/"):
		// /var/run is a symlink to /run. An absolute symlink below
		// /proc/PID/root resolves against our root, not the namespace's, so
		// translate it here.
		return ns.HostPath("/run" + strings.TrimPrefix(p, "/var/run"))
	case p == "/run" || strings.HasPrefix(p, "/run/"):
		return fmt.Sprintf("/proc/%d/root%s", ns.holder.pid(), p)
	default:
		return p
	}
}

// CertsDir returns the host path of /etc/docker/certs.d/<hostPort> inside the
// namespace, where dockerd looks for ca.crt, *.cert and *.key of a registry.
// The directory is not created.
func (ns *Namespace) CertsDir(hostPort string) string {
	return filepath.Join(ns.EtcDocker, "certs.d", hostPort)
}

// AddHost appends "ip name..." to the namespace's /etc/hosts. The file is
// modified in place: it is bind-mounted, so replacing it would leave the
// namespace looking at the old inode.
func (ns *Namespace) AddHost(t testing.TB, ip string, names ...string) {
	t.Helper()
	ns.hostMu.Lock()
	defer ns.hostMu.Unlock()
	f, err := os.OpenFile(ns.HostsFile, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s %s\n", ip, strings.Join(names, " ")); err != nil {
		t.Fatalf("e2e: %v", err)
	}
}

// nsenterArgs returns the argv that runs name+args inside the namespace, in
// the working directory of the nsenter process itself (exec.Cmd.Dir, or the
// test's directory): "--wd=." opens "." before entering the namespace.
// nsenter execs the program directly (it forks only for PID namespaces), so
// the started PID is the program's PID.
func (ns *Namespace) nsenterArgs(name string, args []string) []string {
	argv := []string{fmt.Sprintf("--mount=/proc/%d/ns/mnt", ns.holder.pid())}
	if ns.IP != "" {
		argv = append(argv, fmt.Sprintf("--net=/proc/%d/ns/net", ns.holder.pid()))
	}
	argv = append(argv, "--wd=.", "--", name)
	return append(argv, args...)
}

// Command returns an exec.Cmd that runs name with args inside the namespace.
// Setting Dir on the result selects the working directory as usual.
func (ns *Namespace) Command(name string, args ...string) *exec.Cmd {
	toolsOnce.Do(resolveTools)
	return exec.Command(toolPaths["nsenter"], ns.nsenterArgs(name, args)...)
}

// CommandContext is Command with a context.
func (ns *Namespace) CommandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	toolsOnce.Do(resolveTools)
	return exec.CommandContext(ctx, toolPaths["nsenter"], ns.nsenterArgs(name, args)...)
}

// ---------------------------------------------------------------------------
// docker CLI

// dockerConfigs holds the default DOCKER_CONFIG directory of each test.
var dockerConfigs sync.Map // testing.TB -> string

// DockerConfigDir returns the DOCKER_CONFIG directory that RunDocker uses for
// this test when env does not set DOCKER_CONFIG. CLI plugins go into its
// cli-plugins subdirectory.
func DockerConfigDir(t testing.TB) string {
	t.Helper()
	if dir, ok := dockerConfigs.Load(t); ok {
		return dir.(string)
	}
	dir := filepath.Join(t.TempDir(), "docker-config")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	actual, loaded := dockerConfigs.LoadOrStore(t, dir)
	if !loaded {
		t.Cleanup(func() { dockerConfigs.Delete(t) })
	}
	return actual.(string)
}

// RunDocker runs the docker CLI on the host (outside any test namespace) with
// the given extra environment ("KEY=value"; it wins over inherited values).
// DOCKER_* variables of the test process are not inherited, and DOCKER_CONFIG
// defaults to DockerConfigDir(t), so the user's ~/.docker is never used. A
// non-zero exit is returned, not reported; failing to run the CLI at all, or
// a command running longer than two minutes, fails the test.
func RunDocker(t testing.TB, env []string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return runDocker(t, nil, env, args)
}

// RunDocker is like the package-level RunDocker but runs the CLI inside the
// namespace, where /etc/docker, /etc/hosts and /run are the namespace's.
func (ns *Namespace) RunDocker(t testing.TB, env []string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return runDocker(t, ns, env, args)
}

func runDocker(t testing.TB, ns *Namespace, env []string, args []string) (string, string, int) {
	t.Helper()
	docker := Tool(t, "docker")
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	var cmd *exec.Cmd
	if ns != nil {
		cmd = ns.CommandContext(ctx, docker, args...)
	} else {
		cmd = exec.CommandContext(ctx, docker, args...)
	}
	cmd.Env = dockerEnv(t, env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	exitCode := 0
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("e2e: docker %s: timed out after %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), commandTimeout, stdout.String(), stderr.String())
	case errors.As(err, &exitErr):
		exitCode = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("e2e: running docker %s: %v", strings.Join(args, " "), err)
	}
	where := "host"
	if ns != nil {
		where = "namespace"
	}
	t.Logf("e2e: [%s] docker %s -> exit %d\nstdout: %s\nstderr: %s", where, strings.Join(args, " "), exitCode,
		strings.TrimSpace(stdout.String()), strings.TrimSpace(stderr.String()))
	return stdout.String(), stderr.String(), exitCode
}

// dockerEnv builds the CLI environment: the test's environment without
// DOCKER_*, then DOCKER_CONFIG, then extra.
func dockerEnv(t testing.TB, extra []string) []string {
	t.Helper()
	env := cleanEnv("DOCKER_")
	hasConfig := false
	for _, kv := range extra {
		if strings.HasPrefix(kv, "DOCKER_CONFIG=") {
			hasConfig = true
		}
	}
	if !hasConfig {
		env = append(env, "DOCKER_CONFIG="+DockerConfigDir(t))
	}
	return append(env, extra...)
}

// ---------------------------------------------------------------------------
// dockerd

// DockerdOpts configures StartDockerd.
type DockerdOpts struct {
	// Cell selects the dockerd and containerd binaries and the image store
	// (see Cell). Nil means DefaultCell.
	Cell *Cell
	// Namespace to run containerd and dockerd in. Nil creates a new one.
	Namespace *Namespace
	// ConfigFile is the daemon.json passed as --config-file, as a path inside
	// the namespace. It defaults to /etc/docker/daemon.json, which is
	// Namespace.EtcDocker/daemon.json on the host. It must exist and should set
	// "hosts" (dockerd's default is unix:///var/run/docker.sock, which is the
	// namespace's private /run). It must not set any of the flags that
	// StartDockerd passes (see the package documentation).
	ConfigFile string
	// Args are extra dockerd command-line flags.
	Args []string
	// ClientEnv is added to the environment of Dockerd.Docker commands, e.g.
	// DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH=dir.
	ClientEnv []string
}

// Dockerd is a running dockerd together with its own containerd.
type Dockerd struct {
	// Cell is the matrix cell: which binaries, which image store.
	Cell *Cell
	// NS is the namespace dockerd runs in.
	NS *Namespace
	// Hosts are the "hosts" from daemon.json (or dockerd's default).
	Hosts []string
	// Host is the address clients should use: the first tcp:// host (with a
	// wildcard IP replaced by loopback), else the first host. Dockerd.Docker
	// sets DOCKER_HOST to it.
	Host string
	// Dir is the short temp dir below which everything else lives.
	Dir                         string
	DataRoot, ExecRoot, PIDFile string
	ConfigFile                  string // as passed to --config-file (namespace path)
	LogFile, ContainerdLog      string
	ContainerdSocket            string
	// DockerConfig is the DOCKER_CONFIG used by Dockerd.Docker.
	DockerConfig string
	// ClientEnv is added to the environment of Dockerd.Docker commands.
	ClientEnv []string

	t          testing.TB
	proc       *process
	containerd *process
}

// StartDockerd starts a containerd and a dockerd using it, in the namespace,
// and waits until dockerd serves its API. Both are stopped when the test
// ends (or by Stop). Several dockerds may run at the same time, in the same
// or in different namespaces, as long as their hosts differ.
func StartDockerd(t testing.TB, opts DockerdOpts) *Dockerd {
	t.Helper()
	Require(t)
	cell := opts.Cell
	if cell == nil {
		cell = DefaultCell(t)
	}
	cell.Require(t)
	ns := opts.Namespace
	if ns == nil {
		ns = NewNamespace(t)
	}
	dir := shortTempDir(t, "d")
	d := &Dockerd{
		Cell:             cell,
		NS:               ns,
		Dir:              dir,
		DataRoot:         filepath.Join(dir, "data"),
		ExecRoot:         filepath.Join(dir, "exec"),
		PIDFile:          filepath.Join(dir, "dockerd.pid"),
		ConfigFile:       opts.ConfigFile,
		LogFile:          filepath.Join(dir, "dockerd.log"),
		ContainerdLog:    filepath.Join(dir, "containerd.log"),
		ContainerdSocket: filepath.Join(dir, "containerd", "c.sock"),
		DockerConfig:     filepath.Join(dir, "docker-config"),
		ClientEnv:        opts.ClientEnv,
		t:                t,
	}
	if d.ConfigFile == "" {
		d.ConfigFile = "/etc/docker/daemon.json"
	}
	if err := os.Mkdir(d.DockerConfig, 0o700); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	d.Hosts = daemonHosts(t, ns.HostPath(d.ConfigFile))
	d.Host = clientHost(d.Hosts)

	// Cleanups run last-in first-out, so dockerd will stop before containerd.
	d.containerd = startContainerd(t, ns, cell, filepath.Dir(d.ContainerdSocket), d.ContainerdLog)

	args := []string{
		"--config-file", d.ConfigFile,
		"--data-root", d.DataRoot,
		"--exec-root", d.ExecRoot,
		"--pidfile", d.PIDFile,
		"--containerd", d.ContainerdSocket,
		"--iptables=false",
		"--ip-forward=false",
		"--bridge=none",
		"--userland-proxy=false",
	}
	args = append(args, cell.dockerdFlags()...)
	args = append(args, opts.Args...)
	cmd := ns.Command(cell.Dockerd, args...)
	cmd.Env = cleanEnv("DOCKER_")
	d.proc = startProcess(t, "dockerd", d.LogFile, cmd)

	d.waitReady(t)
	if cell.ContainerdStore && countLines(d.LogFile, "containerd snapshotter integration enabled") == 0 {
		t.Fatalf("e2e: cell %s: dockerd did not enable the containerd image store\n%s", cell.Name, d.proc.logTail(30))
	}
	return d
}

// daemonHosts reads "hosts" from daemon.json.
func daemonHosts(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("e2e: reading daemon config: %v", err)
	}
	var cfg struct {
		Hosts []string `json:"hosts"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("e2e: parsing daemon config %s: %v", path, err)
	}
	if len(cfg.Hosts) == 0 {
		return []string{"unix:///var/run/docker.sock"}
	}
	return cfg.Hosts
}

// clientHost picks the address a client should connect to.
func clientHost(hosts []string) string {
	for _, h := range hosts {
		rest, ok := strings.CutPrefix(h, "tcp://")
		if !ok {
			continue
		}
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			return h
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1"
		}
		return "tcp://" + net.JoinHostPort(host, port)
	}
	return hosts[0]
}

// waitReady waits for one "API listen on" log line per host; dockerd prints
// them only after initialisation, when the API is actually served.
func (d *Dockerd) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		if d.proc.exited() {
			t.Fatalf("e2e: dockerd exited during startup: %v\n%s", d.proc.waitErr, d.proc.logTail(30))
		}
		if countLines(d.LogFile, "API listen on ") >= len(d.Hosts) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("e2e: dockerd not ready after %s\n%s", startTimeout, d.proc.logTail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func countLines(path, substr string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			n++
		}
	}
	return n
}

// cleanEnv returns the test's environment without variables that start with
// any of the given prefixes.
func cleanEnv(prefixes ...string) []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}

// PID returns dockerd's PID.
func (d *Dockerd) PID() int { return d.proc.pid() }

// ContainerdPID returns the PID of dockerd's containerd.
func (d *Dockerd) ContainerdPID() int { return d.containerd.pid() }

// Log returns dockerd's log so far.
func (d *Dockerd) Log() string {
	data, _ := os.ReadFile(d.LogFile)
	return string(data)
}

// Env returns the client environment for this daemon: DOCKER_HOST=d.Host,
// DOCKER_CONFIG=d.DockerConfig and then d.ClientEnv.
func (d *Dockerd) Env() []string {
	env := []string{"DOCKER_HOST=" + d.Host, "DOCKER_CONFIG=" + d.DockerConfig}
	return append(env, d.ClientEnv...)
}

// Docker runs the docker CLI inside dockerd's namespace with d.Env(); explicit
// -H/--host or TLS flags in args override the environment as usual. Problems
// running the CLI at all are reported to the test that started dockerd; from
// a subtest use d.NS.RunDocker(t, d.Env(), args...) instead.
func (d *Dockerd) Docker(args ...string) (stdout, stderr string, exitCode int) {
	d.t.Helper()
	return d.NS.RunDocker(d.t, d.Env(), args...)
}

// Stop stops dockerd (SIGTERM, SIGKILL after 15s) and then its containerd.
// It is called automatically when the test ends; calling it earlier allows
// starting another dockerd with the same hosts, e.g. to pick up a changed
// daemon.json.
func (d *Dockerd) Stop() {
	d.proc.stop(d.t, stopGrace)
	d.containerd.stop(d.t, stopGrace)
}

// dockerdFlags are the cell's own dockerd flags: the image store and what
// the daemon version needs to stay off the host's network configuration.
func (c *Cell) dockerdFlags() []string {
	var args []string
	if c.GoTLS121 {
		// dockerd 28 defaults to ip6tables=true, which wants iptables.
		args = append(args, "--ip6tables=false")
	}
	if c.ContainerdStore {
		// The storage driver names the containerd snapshotter; the default,
		// overlayfs, is what Docker 29 users get.
		args = append(args, "--feature=containerd-snapshotter")
	} else {
		args = append(args, "--storage-driver=vfs")
	}
	return args
}

// startContainerd runs a containerd whose state, root, socket and opt dirs are
// all below dir.
func startContainerd(t testing.TB, ns *Namespace, cell *Cell, dir, logPath string) *process {
	t.Helper()
	if err := os.MkdirAll(dir, 0o711); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	socket := filepath.Join(dir, "c.sock")
	q := strconv.Quote // TOML basic strings use the same escapes
	config := fmt.Sprintf(`version = 2
root = %s
state = %s
# cri is dockerd-irrelevant and would want CNI and more.
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %s

[plugins."io.containerd.internal.v1.opt"]
  # default /opt/containerd would be created on the host
  path = %s
`, q(filepath.Join(dir, "root")), q(filepath.Join(dir, "state")), q(socket), q(filepath.Join(dir, "opt")))
	if cell.ContainerdV2 {
		config = fmt.Sprintf(containerdV2Config, q(filepath.Join(dir, "root")), q(filepath.Join(dir, "state")), q(socket),
			q(filepath.Join(dir, "opt")), q(filepath.Join(dir, "verifiers")))
	}
	configPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	cmd := ns.Command(cell.Containerd, "--config", configPath)
	cmd.Env = cleanEnv("CONTAINERD_")
	p := startProcess(t, "containerd", logPath, cmd)

	deadline := time.Now().Add(startTimeout)
	for {
		if p.exited() {
			t.Fatalf("e2e: containerd exited during startup: %v\n%s", p.waitErr, p.logTail(30))
		}
		if conn, err := net.Dial("unix", socket); err == nil {
			conn.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("e2e: containerd not ready after %s\n%s", startTimeout, p.logTail(30))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// Registry

// RegistryOpts configures StartRegistry.
type RegistryOpts struct {
	// Cell selects the registry binary (distribution 2.8 for dockerd-20.10,
	// 3.x for the others). Nil means DefaultCell.
	Cell *Cell
	// Namespace the registry runs in, made by NewNetNamespace; its
	// /etc/hosts gets "NamespaceIP Hostname". Required: dockerd must run in
	// the same namespace to reach and resolve the registry.
	Namespace *Namespace
	// Hostname defaults to DefaultRegistryHostname.
	Hostname string
	// CertFile and KeyFile are the server certificate (valid for Hostname)
	// and key in PEM. Required.
	CertFile, KeyFile string
	// ClientCAs, if set, makes the registry require a client certificate
	// signed by one of these CA certificates (PEM files).
	ClientCAs []string
	// Plain serves plain HTTP on 127.0.0.1 of the namespace's network (the
	// usual CI registry on localhost); no certificate is needed.
	Plain bool
	// Loopback serves TLS on 127.0.0.1 of the namespace's network, where
	// dockerd treats the registry as insecure.
	Loopback bool
	// NoHTTP2 turns HTTP/2 off (http.http2.disabled): the registry picks
	// http/1.1 by ALPN, as one behind an HTTP/1.1-only proxy does.
	NoHTTP2 bool
	// Htpasswd, if set, is an htpasswd file (bcrypt): the registry asks
	// for basic-auth credentials (auth.htpasswd).
	Htpasswd string
}

// Registry is a running distribution registry serving HTTPS.
type Registry struct {
	// Hostname is the test name of the registry.
	Hostname string
	// Port is the TCP port on NamespaceIP.
	Port int
	// Host is "Hostname:Port": the prefix of image references and the name of
	// the registry's directory in /etc/docker/certs.d.
	Host string
	// Addr is the listen address, "[NamespaceIP]:Port".
	Addr string
	// RootDir is the registry's storage; ConfigFile its config.yml.
	RootDir, ConfigFile, LogFile string

	ns   *Namespace
	t    testing.TB
	proc *process
}

// StartRegistry starts a TLS registry on the next port of NamespaceIP in
// the namespace's own network and maps opts.Hostname to that address in the
// namespace's /etc/hosts (see NamespaceIP for why not a loopback address). It
// returns when the registry says it listens; it is stopped when the test
// ends.
func StartRegistry(t testing.TB, opts RegistryOpts) *Registry {
	t.Helper()
	Require(t)
	if opts.Namespace == nil || opts.Namespace.IP == "" {
		t.Fatal("e2e: RegistryOpts.Namespace is required and must have its own network (NewNetNamespace)")
	}
	cell := opts.Cell
	if cell == nil {
		cell = DefaultCell(t)
	}
	cell.Require(t)
	if !opts.Plain && (opts.CertFile == "" || opts.KeyFile == "") {
		t.Fatal("e2e: RegistryOpts.CertFile and KeyFile are required")
	}
	if opts.Hostname == "" {
		opts.Hostname = DefaultRegistryHostname
	}
	dir := t.TempDir()
	ns := opts.Namespace
	ns.hostMu.Lock()
	port := ns.nextPort
	ns.nextPort++
	ns.hostMu.Unlock()
	ip := ns.IP
	if opts.Plain || opts.Loopback {
		ip = "127.0.0.1"
	}
	r := &Registry{
		Hostname:   opts.Hostname,
		Port:       port,
		Host:       net.JoinHostPort(opts.Hostname, strconv.Itoa(port)),
		Addr:       net.JoinHostPort(ip, strconv.Itoa(port)),
		RootDir:    filepath.Join(dir, "storage"),
		ConfigFile: filepath.Join(dir, "config.yml"),
		LogFile:    filepath.Join(dir, "registry.log"),
		ns:         opts.Namespace,
		t:          t,
	}
	// YAML accepts JSON-quoted strings, which strconv.Quote produces for
	// ordinary paths.
	q := strconv.Quote
	var cfg strings.Builder
	fmt.Fprintf(&cfg, `version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: e2e-not-secret
`, q(r.RootDir), q(r.Addr))
	if opts.NoHTTP2 {
		cfg.WriteString("  http2:\n    disabled: true\n")
	}
	if !opts.Plain {
		fmt.Fprintf(&cfg, "  tls:\n    certificate: %s\n    key: %s\n", q(opts.CertFile), q(opts.KeyFile))
	}
	if len(opts.ClientCAs) > 0 {
		cfg.WriteString("    clientcas:\n")
		for _, ca := range opts.ClientCAs {
			fmt.Fprintf(&cfg, "      - %s\n", q(ca))
		}
	}
	if opts.Htpasswd != "" {
		fmt.Fprintf(&cfg, "auth:\n  htpasswd:\n    realm: e2e\n    path: %s\n", q(opts.Htpasswd))
	}
	if err := os.WriteFile(r.ConfigFile, []byte(cfg.String()), 0o644); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	opts.Namespace.AddHost(t, ip, opts.Hostname)

	cmd := opts.Namespace.Command(cell.Registry, "serve", r.ConfigFile)
	// REGISTRY_* would override config.yml; registry 3 would export traces
	// to an OTLP collector unless told not to.
	cmd.Env = append(cleanEnv("REGISTRY_", "OTEL_"), "OTEL_TRACES_EXPORTER=none")
	r.proc = startProcess(t, "docker-registry", r.LogFile, cmd)

	deadline := time.Now().Add(startTimeout)
	for {
		if r.proc.exited() {
			t.Fatalf("e2e: docker-registry exited during startup: %v\n%s", r.proc.waitErr, r.proc.logTail(30))
		}
		// The listener is in the namespace's network, out of the test
		// process's reach; distribution logs "listening on ADDR" once it
		// listens (2.8 and 3.x alike).
		if countLines(r.LogFile, "listening on ") > 0 {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("e2e: docker-registry not ready after %s\n%s", startTimeout, r.proc.logTail(30))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// PID returns the registry's PID.
func (r *Registry) PID() int { return r.proc.pid() }

// CertsDir returns the host path of the namespace's
// /etc/docker/certs.d/<Host>, where dockerd looks for this registry's
// ca.crt, client.cert and client.key. It is not created.
func (r *Registry) CertsDir() string { return r.ns.CertsDir(r.Host) }

// Log returns the registry's log so far.
func (r *Registry) Log() string {
	data, _ := os.ReadFile(r.LogFile)
	return string(data)
}

// Stop stops the registry; it is called automatically when the test ends.
func (r *Registry) Stop() { r.proc.stop(r.t, stopGrace) }

// containerdV2Config is containerd 2's config (version 3) for startContainerd:
// root, state and socket below the test's dir; CRI (dockerd-irrelevant, and
// it would want CNI and more) and NRI off; the opt dir (default
// /opt/containerd, created at start) and the image verifiers' dir moved off
// the host's /opt. Arguments: root, state, socket, opt dir, verifier dir.
const containerdV2Config = `version = 3
root = %s
state = %s
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.cri.v1.images",
  "io.containerd.cri.v1.runtime",
  "io.containerd.podsandbox.controller.v1.podsandbox",
  "io.containerd.nri.v1.nri",
]

[grpc]
  address = %s

[plugins."io.containerd.internal.v1.opt"]
  path = %s

[plugins."io.containerd.image-verifier.v1.bindir"]
  bin_dir = %s
`

//go:build linux

package e2e

// A "remote host" for provision tests: Debian's OpenSSH server and a dockerd
// that the server's sessions can restart, both inside a test namespace, so
// that /etc/docker seen over ssh is the namespace's.
//
// Findings (OpenSSH 9.2, Debian bookworm):
//   - sshd refuses to start without its privilege separation directory
//     /run/sshd; the namespace's /run is an empty tmpfs, so it is created
//     there first.
//   - ssh reads ~/.ssh/config from the password database's home directory,
//     not $HOME: tests give the client configuration with -F (provision's
//     --ssh-config) instead.
//   - A session's children inherit sshd's mount namespace: commands run over
//     ssh see the namespace's /etc/docker and /run.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SSHD is a running sshd in a namespace, reachable on 127.0.0.1:Port by
// the ssh alias Alias through ConfigFile.
type SSHD struct {
	Port int
	// ConfigFile is the ssh client configuration (for ssh -F): Host Alias
	// with the test's key, known_hosts and StrictHostKeyChecking yes.
	ConfigFile string
	Alias      string
	Dir        string
	userDir    string // home of the AddSudoUser user
	proc       *process
}

func sshTool(t testing.TB, name string) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/" + name, "/usr/bin/" + name} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Fatalf("e2e: %s not found: install openssh-server and openssh-client (apt-get install openssh-server)", name)
	return ""
}

// StartSSHD starts sshd in ns on a free loopback port with its own host key,
// accepting root logins with a key generated for the test.
func StartSSHD(t testing.TB, ns *Namespace) *SSHD {
	t.Helper()
	Require(t)
	sshd, keygen := sshTool(t, "sshd"), sshTool(t, "ssh-keygen")
	sshTool(t, "ssh")
	dir := t.TempDir()
	s := &SSHD{Port: FreePort(t, "127.0.0.1"), Dir: dir, Alias: "e2e-remote", ConfigFile: filepath.Join(dir, "ssh_config")}
	for _, k := range []string{"host_key", "client_key"} {
		if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "e2e-"+k, "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("e2e: ssh-keygen: %v\n%s", err, out)
		}
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(data))
	}
	write := func(name, content string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("authorized_keys", read("client_key.pub")+"\n", 0o600)
	// A non-root user (AddSudoUser) reads its keys as itself: they live in
	// a directory it can reach.
	userDir := shortTempDir(t, "sshuser")
	s.userDir = userDir
	if err := os.Chmod(userDir, 0o755); err != nil {
		t.Fatal(err)
	}
	userKeys := filepath.Join(userDir, "authorized_keys")
	if err := os.WriteFile(userKeys, []byte(read("client_key.pub")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostPub := strings.Fields(read("host_key.pub"))
	write("known_hosts", fmt.Sprintf("[127.0.0.1]:%d %s %s\n", s.Port, hostPub[0], hostPub[1]), 0o600)
	write("sshd_config", fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel VERBOSE
Match User e2eadmin
  AuthorizedKeysFile %s
`, s.Port, filepath.Join(dir, "host_key"), filepath.Join(dir, "sshd.pid"), filepath.Join(dir, "authorized_keys"), userKeys), 0o600)
	write("ssh_config", fmt.Sprintf(`Host %s
  HostName 127.0.0.1
  Port %d
  User root
  IdentityFile %s
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile %s
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
`, s.Alias, s.Port, filepath.Join(dir, "client_key"), filepath.Join(dir, "known_hosts")), 0o600)

	if out, err := ns.Command("mkdir", "-p", "-m", "0755", "/run/sshd").CombinedOutput(); err != nil {
		t.Fatalf("e2e: creating /run/sshd in the namespace: %v\n%s", err, out)
	}
	cmd := ns.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	cmd.Env = cleanEnv("DOCKER_")
	s.proc = startProcess(t, "sshd", filepath.Join(dir, "sshd.log"), cmd)
	deadline := time.Now().Add(startTimeout)
	for {
		if s.proc.exited() {
			t.Fatalf("e2e: sshd exited during startup: %v\n%s", s.proc.waitErr, s.proc.logTail(30))
		}
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("e2e: sshd not listening after %s\n%s", startTimeout, s.proc.logTail(30))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// SSH runs a command on the remote host through the test's configuration.
func (s *SSHD) SSH(t testing.TB, command string) (string, error) {
	t.Helper()
	out, err := exec.Command(sshTool(t, "ssh"), "-F", s.ConfigFile, s.Alias, command).CombinedOutput()
	return string(out), err
}

// RemoteDockerd is a dockerd in a namespace that a script restarts by PID,
// the way "systemctl restart docker" restarts a systemd-managed one: the
// script stops the running dockerd, starts a new one with the same flags
// and exits 0 once it serves its API, or 1 with the end of its log when it
// exits during startup.
type RemoteDockerd struct {
	NS *Namespace
	// RestartScript is the command line for provision --restart-cmd.
	RestartCmd string
	// LogFile is dockerd's log (appended to by every start).
	LogFile string
	PIDFile string
	Dir     string
}

const restartScript = `#!/bin/sh
# Restart the test dockerd by PID (no systemd in the test namespace).
pidfile=%[1]s
log=%[2]s
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    i=0
    while [ -d /proc/"$pid" ] && [ "$(cut -d' ' -f3 /proc/"$pid"/stat 2>/dev/null)" != Z ]; do
      i=$((i+1))
      if [ $i -gt 150 ]; then kill -9 "$pid" 2>/dev/null; fi
      sleep 0.1
    done
  fi
fi
echo "--- dockerd restart $(date +%%s) ---" >> "$log"
start=$(wc -l < "$log")
setsid %[3]s >> "$log" 2>&1 < /dev/null &
new=$!
i=0
while :; do
  st=$(cut -d' ' -f3 /proc/$new/stat 2>/dev/null)
  if [ -z "$st" ] || [ "$st" = Z ]; then
    echo "dockerd exited during startup:"
    tail -n +$((start+1)) "$log" | tail -n 15
    exit 1
  fi
  if tail -n +$((start+1)) "$log" | grep -q "API listen on"; then exit 0; fi
  i=$((i+1))
  if [ $i -gt 600 ]; then echo "dockerd not ready after 60s:"; tail -n 15 "$log"; exit 1; fi
  sleep 0.1
done
`

// StartRemoteDockerd starts containerd and, through the restart script, a
// dockerd reading /etc/docker/daemon.json of ns (which must exist), with
// extra command-line flags (as an init script's DOCKER_OPTS would add).
func StartRemoteDockerd(t testing.TB, ns *Namespace, extra ...string) *RemoteDockerd {
	t.Helper()
	Require(t)
	dir := shortTempDir(t, "r")
	d := &RemoteDockerd{NS: ns, Dir: dir, LogFile: filepath.Join(dir, "dockerd.log"), PIDFile: filepath.Join(dir, "dockerd.pid")}
	sock := filepath.Join(dir, "containerd", "c.sock")
	cell := DefaultCell(t)
	startContainerd(t, ns, cell, filepath.Dir(sock), filepath.Join(dir, "containerd.log"))
	args := []string{cell.Dockerd,
		"--config-file", "/etc/docker/daemon.json",
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", d.PIDFile,
		"--containerd", sock,
		"--iptables=false", "--ip-forward=false", "--bridge=none", "--userland-proxy=false",
	}
	args = append(args, cell.dockerdFlags()...)
	args = append(args, extra...)
	script := filepath.Join(dir, "restart-dockerd.sh")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(restartScript, d.PIDFile, d.LogFile, strings.Join(args, " "))), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.LogFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d.RestartCmd = "sh " + script
	t.Cleanup(func() { d.stop(t) })
	if out, err := ns.Command("sh", script).CombinedOutput(); err != nil {
		t.Fatalf("e2e: starting dockerd: %v\n%s", err, out)
	}
	return d
}

// PID is the running dockerd's PID (0 when none).
func (d *RemoteDockerd) PID() int {
	data, err := os.ReadFile(d.PIDFile)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

// stop ends the dockerd the script started, by PID.
func (d *RemoteDockerd) stop(t testing.TB) {
	pid := d.PID()
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(stopGrace)
	for {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(data), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			t.Logf("e2e: dockerd (pid %d) ignored SIGTERM, sending SIGKILL", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log is dockerd's log so far.
func (d *RemoteDockerd) Log() string {
	data, _ := os.ReadFile(d.LogFile)
	return string(data)
}

// AddSudoUser makes a non-root login user known inside the namespace only
// (bind mounts over /etc/passwd, /etc/group and /etc/sudoers there), with
// the test's key. With nopasswd its sudo needs no password; otherwise sudo
// asks for one. It returns the user name; SetSudo changes the rule later.
func (s *SSHD) AddSudoUser(t testing.TB, ns *Namespace, nopasswd bool) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/sudo"); err != nil {
		t.Fatalf("e2e: sudo is required (apt-get install sudo): %v", err)
	}
	const user = "e2eadmin"
	home := s.userDir
	for _, f := range []struct{ etc, line string }{
		{"/etc/passwd", fmt.Sprintf("%s:x:4242:4242:e2e:%s:/bin/sh\n", user, home)},
		{"/etc/group", fmt.Sprintf("%s:x:4242:\n", user)},
	} {
		data, err := os.ReadFile(f.etc)
		if err != nil {
			t.Fatal(err)
		}
		copyPath := filepath.Join(s.Dir, filepath.Base(f.etc))
		if err := os.WriteFile(copyPath, append(data, f.line...), 0o644); err != nil {
			t.Fatal(err)
		}
		s.bind(t, ns, copyPath, f.etc)
	}
	// sudo's PAM account check wants a shadow entry: a shadow of our own
	// (no password hashes: "*" for every account, as the host's are not
	// copied), seen only in the namespace.
	passwd, err := os.ReadFile(filepath.Join(s.Dir, "passwd"))
	if err != nil {
		t.Fatal(err)
	}
	var shadow strings.Builder
	for _, l := range strings.Split(string(passwd), "\n") {
		if name, _, ok := strings.Cut(l, ":"); ok && name != "" {
			fmt.Fprintf(&shadow, "%s:*:19000:0:99999:7:::\n", name)
		}
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "shadow"), []byte(shadow.String()), 0o640); err != nil {
		t.Fatal(err)
	}
	s.bind(t, ns, filepath.Join(s.Dir, "shadow"), "/etc/shadow")
	sudoers := filepath.Join(s.Dir, "sudoers")
	if err := os.WriteFile(sudoers, nil, 0o440); err != nil {
		t.Fatal(err)
	}
	s.SetSudo(t, nopasswd)
	s.bind(t, ns, sudoers, "/etc/sudoers")
	return user
}

// SetSudo rewrites the namespace's sudoers rule for the test user.
func (s *SSHD) SetSudo(t testing.TB, nopasswd bool) {
	t.Helper()
	rule := "e2eadmin ALL=(root) ALL\n"
	if nopasswd {
		rule = "e2eadmin ALL=(root) NOPASSWD: ALL\n"
	}
	// Rewritten in place: the bind mount shows the same inode.
	if err := os.WriteFile(filepath.Join(s.Dir, "sudoers"), []byte("Defaults !lecture\nroot ALL=(ALL:ALL) ALL\n"+rule), 0o440); err != nil {
		t.Fatal(err)
	}
}

func (s *SSHD) bind(t testing.TB, ns *Namespace, src, dst string) {
	t.Helper()
	if out, err := ns.Command("mount", "-n", "--bind", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("e2e: bind-mounting %s on %s in the namespace: %v\n%s", src, dst, err, out)
	}
}

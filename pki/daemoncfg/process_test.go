package daemoncfg

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestRunningDockerds(t *testing.T) {
	proc := t.TempDir()
	put := func(pid, name, data string) {
		d := filepath.Join(proc, pid)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("42", "comm", "dockerd\n")
	put("42", "cmdline", "/usr/bin/dockerd\x00-H\x00tcp://0.0.0.0:2376\x00--tlsverify\x00")
	put("42", "environ", "PATH=/bin\x00DOCKER_CERT_PATH=/etc/dk\x00SECRET=x\x00")
	put("7", "comm", "containerd\n")
	put("7", "cmdline", "containerd\x00")
	put("9", "comm", "dockerd\n")
	put("9", "cmdline", "dockerd\x00")
	put("self", "comm", "dockerd\n")
	// The caller's own `dockerd --version` child is no daemon.
	put("77", "comm", "dockerd\n")
	put("77", "cmdline", "dockerd\x00--version\x00")
	put("77", "stat", fmt.Sprintf("77 (dockerd) R %d 77 1 0 -1", os.Getpid()))
	put("9", "stat", "9 (dockerd) S 1 9 9 0 -1")
	// dockerd 9 forking to run `runc --version` (on /info): until the
	// exec, the child has the daemon's comm and command line.
	put("10", "comm", "dockerd\n")
	put("10", "cmdline", "dockerd\x00")
	put("10", "stat", "10 (dockerd) R 9 9 9 0 -1")
	got := RunningDockerds(proc)
	if len(got) != 2 || got[0].PID != 9 || got[1].PID != 42 {
		t.Fatalf("RunningDockerds = %+v", got)
	}
	if want := []string{"/usr/bin/dockerd", "-H", "tcp://0.0.0.0:2376", "--tlsverify"}; !reflect.DeepEqual(got[1].Argv, want) {
		t.Errorf("argv = %q, want %q", got[1].Argv, want)
	}
	if !reflect.DeepEqual(got[1].Env, map[string]string{"DOCKER_CERT_PATH": "/etc/dk"}) {
		t.Errorf("env = %v (only dockerd's TLS variables are kept)", got[1].Env)
	}
	if d := got[1].CertDir("/root"); d != "/etc/dk" {
		t.Errorf("CertDir = %s", d)
	}
	if d := got[0].CertDir("/root"); d != "/root/.docker" {
		t.Errorf("CertDir without env = %s", d)
	}
	if RunningDockerds(filepath.Join(proc, "nope")) != nil {
		t.Error("a missing /proc lists dockerds")
	}
	// Only the dockerds of this mount namespace are kept.
	ps := []Process{{PID: 1, MountNS: "mnt:[1]"}, {PID: 2, MountNS: "mnt:[2]"}}
	if err := os.MkdirAll(filepath.Join(proc, "self", "ns"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("mnt:[2]", filepath.Join(proc, "self", "ns", "mnt")); err != nil {
		t.Fatal(err)
	}
	if got := SameMountNS(proc, ps); len(got) != 1 || got[0].PID != 2 {
		t.Errorf("SameMountNS = %+v", got)
	}
	if got := SameMountNS(filepath.Join(proc, "nope"), ps); len(got) != 2 {
		t.Errorf("SameMountNS without /proc/self = %+v", got)
	}
}

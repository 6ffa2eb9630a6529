package remote

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ in, user, host, port, err string }{
		{in: "ssh://host", host: "host"},
		{in: "ssh://me@host:2222", user: "me", host: "host", port: "2222"},
		{in: "ssh://root@[fd00::1]:22", user: "root", host: "fd00::1", port: "22"},
		{in: "tcp://host:2376", err: `invalid ssh URL "tcp://host:2376": expected ssh://[user@]host[:port]`},
		{in: "ssh://me:secret@host", err: "a password in the URL is not supported"},
		{in: "ssh://host/path", err: "extra path, query or fragment"},
		{in: "ssh://", err: "no host name"},
	} {
		got, err := ParseURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.User != tc.user || got.Host != tc.host || got.Port != tc.port {
			t.Errorf("%s: got %+v, %v", tc.in, got, err)
		}
	}
}

// The framing of ReadFiles, run by a real sh on local files.
func TestReadFilesScriptFraming(t *testing.T) {
	dir := t.TempDir()
	sh := func(script string) []byte {
		out, err := exec.Command("sh", "-c", script).Output()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	content := "line one\nno newline at the end, and a 'quote' and F 99"
	sh("printf '%s' " + Quote(content) + " > " + dir + "/a; chmod 640 " + dir + "/a; ln -s a " + dir + "/link; mkdir " + dir + "/d")
	paths := []string{dir + "/a", dir + "/missing", dir + "/link", dir + "/d", dir + "/a"}
	files, err := parseFiles(paths, sh(readScript(paths)))
	if err != nil {
		t.Fatal(err)
	}
	if f := files[dir+"/a"]; !f.Exists || string(f.Data) != content || f.Mode != 0o640 {
		t.Errorf("a: %+v", f)
	}
	if f := files[dir+"/missing"]; f.Exists {
		t.Errorf("missing: %+v", f)
	}
	if f := files[dir+"/link"]; !strings.Contains(f.Problem, "symbolic link") {
		t.Errorf("link: %+v", f)
	}
	if f := files[dir+"/d"]; f.Problem != "it is a directory" {
		t.Errorf("d: %+v", f)
	}
	if _, err := parseFiles([]string{"x"}, []byte("F 10\nshort")); err == nil || !strings.Contains(err.Error(), `bad size "F 10"`) {
		t.Errorf("truncated output: %v", err)
	}
}

func TestParseFacts(t *testing.T) {
	f := parseFacts([]byte("hostname vm\nfqdn vm.example.com\nip 192.0.2.2\nip fe80::1\nip 127.0.0.1\nip fd00::2\nip garbage\n"))
	if f.Hostname != "vm" || f.FQDN != "vm.example.com" || len(f.IPs) != 2 || f.IPs[0].String() != "192.0.2.2" || f.IPs[1].String() != "fd00::2" {
		t.Errorf("got %+v", f)
	}
}

func TestQuote(t *testing.T) {
	for _, s := range []string{"", "plain", "it's", `a"b$c\d` + "`e`\nf"} {
		out, err := exec.Command("sh", "-c", "printf '%s' "+Quote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("Quote(%q) came back as %q (%v)", s, out, err)
		}
	}
}

// The write script, run by a real sh on local files: atomic replace with a
// backup, creation with the mode asked for, removal, links refused before
// anything is written.
func TestWriteScript(t *testing.T) {
	dir := t.TempDir()
	run := func(files []Write) (string, error) {
		script, err := writeScript(files, "STAMP")
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("sh", "-c", script).CombinedOutput()
		return string(out), err
	}
	must := func(p, want string) {
		t.Helper()
		data, err := os.ReadFile(p)
		if err != nil || string(data) != want {
			t.Errorf("%s: %q, %v; want %q", p, data, err, want)
		}
	}
	if out, err := run([]Write{{Path: dir + "/sub/new.pem", Data: []byte("it's new\n"), Mode: 0o600}, {Path: dir + "/old.json", Data: []byte("{}"), Mode: 0o644}}); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	must(dir+"/sub/new.pem", "it's new\n")
	if fi, _ := os.Stat(dir + "/sub/new.pem"); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	if out, err := run([]Write{{Path: dir + "/old.json", Data: []byte(`{"a":1}`), Mode: 0o644}}); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	must(dir+"/old.json", `{"a":1}`)
	must(dir+"/old.json.bak-STAMP", "{}")
	if err := os.Symlink(dir+"/old.json", dir+"/link"); err != nil {
		t.Fatal(err)
	}
	out, err := run([]Write{{Path: dir + "/sub/new.pem", Data: []byte("changed"), Mode: 0o600}, {Path: dir + "/link", Data: []byte("x"), Mode: 0o644}})
	if err == nil || !strings.Contains(out, dir+"/link: refusing to write through a symbolic link") {
		t.Fatalf("a link was not refused: %v %s", err, out)
	}
	must(dir+"/sub/new.pem", "it's new\n")
	if out, err := run([]Write{{Path: dir + "/sub/new.pem", Remove: true}}); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if _, err := os.Stat(dir + "/sub/new.pem"); !os.IsNotExist(err) {
		t.Errorf("not removed: %v", err)
	}
	if entries, _ := os.ReadDir(dir + "/sub"); len(entries) != 0 {
		t.Errorf("left temporary files: %v", entries)
	}
	if _, err := writeScript([]Write{{Path: "x", Data: []byte{0}}}, ""); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("NUL content: %v", err)
	}
}

// Resolve asks the real ssh client (ssh -G) what a Host alias means.
func TestResolveThroughSSHConfig(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Fatalf("the ssh client is required (apt-get install openssh-client): %v", err)
	}
	cfg := t.TempDir() + "/config"
	if err := os.WriteFile(cfg, []byte("Host prod\n  HostName 192.0.2.7\n  User deploy\n  Port 2222\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tg, _ := ParseURL("ssh://prod")
	tg.ConfigFile = cfg
	r, err := tg.Resolve(context.Background())
	if err != nil || r.HostName != "192.0.2.7" || r.User != "deploy" || r.Port != "2222" {
		t.Errorf("alias: %+v %v", r, err)
	}
	tg, _ = ParseURL("ssh://root@prod:22")
	tg.ConfigFile = cfg
	if r, err := tg.Resolve(context.Background()); err != nil || r.User != "root" || r.Port != "22" {
		t.Errorf("URL user and port win over the config: %+v %v", r, err)
	}
	tg.ConfigFile = t.TempDir() + "/missing"
	if _, err := tg.Resolve(context.Background()); err == nil || !strings.Contains(err.Error(), "ssh://root@prod:22: ssh -G: ") {
		t.Errorf("missing config file: %v", err)
	}
}

// The facts script, run by a real sh on this machine, finds its host name.
func TestFactsScriptHere(t *testing.T) {
	out, err := exec.Command("sh", "-c", factsScript).Output()
	if err != nil {
		t.Fatal(err)
	}
	f := parseFacts(out)
	host, _ := os.Hostname()
	if f.Hostname != host {
		t.Errorf("hostname %q, want %q (output %q)", f.Hostname, host, out)
	}
	for _, ip := range f.IPs {
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			t.Errorf("address %s should have been left out", ip)
		}
	}
}

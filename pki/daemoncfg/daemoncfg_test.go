package daemoncfg

import (
	"io/fs"
	"net"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMergeKeepsOtherKeysAndOrder(t *testing.T) {
	in := `{
  "log-driver": "journald",
  "tls": false,
  "registry-mirrors": ["https://m.example"],
  "default-address-pools": [{"base": "10.10.0.0/16", "size": 24}]
}`
	o, err := Parse("daemon.json", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	o.Set(KeyTLS, true)
	o.Set(KeyHosts, []string{"unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"})
	o.Delete("registry-mirrors")
	want := `{
  "log-driver": "journald",
  "tls": true,
  "default-address-pools": [
    {
      "base": "10.10.0.0/16",
      "size": 24
    }
  ],
  "hosts": [
    "unix:///var/run/docker.sock",
    "tcp://0.0.0.0:2376"
  ]
}
`
	if got := string(o.Marshal()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	s, err := o.TLS()
	if err != nil || s.TLS == nil || !*s.TLS || len(s.Hosts) != 2 {
		t.Errorf("TLS() = %+v, %v", s, err)
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		`[1]`:                  "daemon.json: expected a JSON object ({…}), found [",
		`{"a": 1,}`:            "daemon.json: invalid JSON: invalid character '}' looking for beginning of object key string",
		`{"a": 1} {"b": 2}`:    "daemon.json: unexpected data after the JSON object",
		`{"tls": 1, "tls": 2}`: `daemon.json: key "tls" appears twice; dockerd would refuse this file`,
	} {
		if _, err := Parse("daemon.json", []byte(in)); err == nil || err.Error() != want {
			t.Errorf("Parse(%s) = %v, want %q", in, err, want)
		}
	}
	o, _ := Parse("daemon.json", []byte(`{"tlsverify": "yes"}`))
	if _, err := o.TLS(); err == nil || !strings.Contains(err.Error(), `key "tlsverify"`) {
		t.Errorf("type error: %v", err)
	}
	if o, err := Parse("daemon.json", []byte("  \n")); err != nil || string(o.Marshal()) != "{}\n" {
		t.Errorf("empty: %v", err)
	}
}

func TestEffectiveExecStart(t *testing.T) {
	unit := UnitFile{Name: "/lib/systemd/system/docker.service", Data: []byte(`[Unit]
Description=Docker
[Service]
Type=notify
ExecStart=/usr/bin/dockerd -H fd:// \
  --containerd=/run/containerd/containerd.sock
ExecReload=/bin/kill -s HUP $MAINPID
`)}
	e, ok := EffectiveExecStart([]UnitFile{unit})
	if !ok || !reflect.DeepEqual(e.Args, []string{"/usr/bin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"}) {
		t.Fatalf("unit: %+v %v", e, ok)
	}
	if got := FlagsAlsoInFile(e.Args, []string{"hosts", "tls"}); !reflect.DeepEqual(got, []string{"hosts"}) {
		t.Errorf("conflicts = %v", got)
	}
	dropIn := UnitFile{Name: "/etc/systemd/system/docker.service.d/docker-tls.conf", Data: []byte(DropIn(e.Args, []string{"hosts"}))}
	e, ok = EffectiveExecStart([]UnitFile{unit, dropIn})
	if !ok || !reflect.DeepEqual(e.Args, []string{"/usr/bin/dockerd", "--containerd=/run/containerd/containerd.sock"}) || e.Source != dropIn.Name {
		t.Errorf("with drop-in: %+v %v", e, ok)
	}
	if got := FlagsAlsoInFile(e.Args, []string{"hosts"}); len(got) != 0 {
		t.Errorf("conflicts after drop-in = %v", got)
	}
	if got := FlagsAlsoInFile([]string{"dockerd", "-Htcp://x", "--tlsverify=true", "--tlscert", "a"}, []string{"hosts", "tlsverify", "tlscert", "tlskey"}); !reflect.DeepEqual(got, []string{"hosts", "tlsverify", "tlscert"}) {
		t.Errorf("flag forms: %v", got)
	}
}

// The drop-in that install daemon writes and the doctor prints keeps the
// unit's other arguments (--containerd, $DOCKER_OPTS) and removes only the
// flags daemon.json also sets (issue 14 item 2).
func TestDropInKeepsOtherArguments(t *testing.T) {
	unit := "[Unit]\nDescription=x\n[Service]\nExecStart=/usr/bin/dockerd -H fd:// \\\n  --containerd=/run/containerd/containerd.sock $DOCKER_OPTS\n"
	drop1 := "[Service]\nExecStart=\nExecStart=-/usr/bin/dockerd --tlsverify -Htcp://0.0.0.0:2376 --host=unix:///var/run/docker.sock --tlscert \"/etc/docker/my certs/cert.pem\" $OPTS\n"
	e, ok := EffectiveExecStart([]UnitFile{{Name: "unit", Data: []byte(unit)}})
	if !ok {
		t.Fatal("no ExecStart")
	}
	if got := DropIn(e.Args, FlagsAlsoInFile(e.Args, []string{"hosts", "tls", "tlscert"})); got != "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --containerd=/run/containerd/containerd.sock $DOCKER_OPTS\n" {
		t.Errorf("drop-in = %q", got)
	}
	e, ok = EffectiveExecStart([]UnitFile{{Name: "unit", Data: []byte(unit)}, {Name: "drop", Data: []byte(drop1)}})
	if !ok || e.Source != "drop" || e.Args[0] != "/usr/bin/dockerd" || e.Args[5] != "/etc/docker/my certs/cert.pem" {
		t.Fatalf("ExecStart = %+v", e)
	}
	fl := DockerdFlags(e.Args)
	if strings.Join(fl["hosts"], " ") != "tcp://0.0.0.0:2376 unix:///var/run/docker.sock" || fl["tlsverify"][0] != "true" || fl["tlscert"][0] != "/etc/docker/my certs/cert.pem" {
		t.Errorf("flags = %v", fl)
	}
	kept, removed := SplitFlags(e.Args, []string{"hosts", "tlsverify"})
	if got := JoinCommand(kept); got != `/usr/bin/dockerd --tlscert "/etc/docker/my certs/cert.pem" $OPTS` {
		t.Errorf("kept = %q", got)
	}
	if got := strings.Join(removed, " "); got != "--tlsverify -Htcp://0.0.0.0:2376 --host=unix:///var/run/docker.sock" {
		t.Errorf("removed = %q", got)
	}
	if got := SplitCommand(JoinCommand(kept)); !reflect.DeepEqual(got, kept) {
		t.Errorf("JoinCommand does not round-trip: %q", got)
	}
}

// PrintfFormat prints the drop-in byte for byte through a real shell, even
// with %, quotes and backslashes in the arguments.
func TestPrintfFormatThroughShell(t *testing.T) {
	content := DropIn([]string{"/usr/bin/dockerd", "-H", "fd://", "--log-opt=tag=%n's", `--data-root=/x y\z`}, []string{"hosts"})
	out, err := exec.Command("sh", "-c", "printf "+PrintfFormat(content)).Output()
	if err != nil || string(out) != content {
		t.Errorf("printf %s = %q, %v; want %q", PrintfFormat(content), out, err, content)
	}
}

type mapUnitFS fstest.MapFS

func (m mapUnitFS) ReadFile(name string) ([]byte, error) {
	return fs.ReadFile(fstest.MapFS(m), strings.TrimPrefix(name, "/"))
}
func (m mapUnitFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(fstest.MapFS(m), strings.TrimPrefix(name, "/"))
}

// One list of unit directories for install and doctor: a unit in
// /usr/local/lib/systemd/system is found, a higher directory wins, and a
// drop-in masks one of the same name in a lower directory.
func TestFindUnitFiles(t *testing.T) {
	fsys := mapUnitFS{
		"usr/local/lib/systemd/system/docker.service":            {Data: []byte("[Service]\nExecStart=/usr/local/bin/dockerd -H fd://\n")},
		"lib/systemd/system/docker.service":                      {Data: []byte("[Service]\nExecStart=/usr/bin/dockerd\n")},
		"usr/lib/systemd/system/docker.service.d/10-a.conf":      {Data: []byte("[Service]\nExecStart=\nExecStart=/lower\n")},
		"etc/systemd/system/docker.service.d/10-a.conf":          {Data: []byte("[Service]\nEnvironment=X=1\n")},
		"run/systemd/system/docker.service.d/20-b.conf":          {Data: []byte("")},
		"usr/local/lib/systemd/system/docker.service.d/05-c.txt": {Data: []byte("[Service]\nExecStart=\n")},
	}
	var names []string
	for _, f := range FindUnitFiles(fsys) {
		names = append(names, f.Name)
	}
	want := []string{"/usr/local/lib/systemd/system/docker.service", "/etc/systemd/system/docker.service.d/10-a.conf", "/run/systemd/system/docker.service.d/20-b.conf"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("FindUnitFiles = %q, want %q", names, want)
	}
	e, ok := EffectiveExecStart(FindUnitFiles(fsys))
	if !ok || e.Args[0] != "/usr/local/bin/dockerd" {
		t.Errorf("ExecStart = %+v", e)
	}
}

// CheckHost quotes the error dockerd's listen gives (Go's net.Listen, which
// dockerd calls after its address parser accepted the port).
func TestCheckHost(t *testing.T) {
	_, listenErr := net.Listen("tcp", "127.0.0.1:99999")
	if listenErr == nil || !strings.HasSuffix(listenErr.Error(), "listen tcp: address 99999: invalid port") {
		t.Fatalf("net.Listen: %v", listenErr)
	}
	for h, want := range map[string]string{
		"tcp://0.0.0.0:99999":         "listen tcp: address 99999: invalid port",
		"tcp://0.0.0.0:2376":          "",
		"tcp://[::]:2376":             "",
		"tcp://:2376":                 "",
		"unix:///var/run/docker.sock": "",
		"fd://":                       "",
		"tcp://0.0.0.0:-1":            `parse "tcp://0.0.0.0:-1": invalid port ":-1" after host`,
	} {
		err := CheckHost(h)
		if (want == "") != (err == nil) || err != nil && err.Error() != want {
			t.Errorf("CheckHost(%q) = %v, want %q", h, err, want)
		}
	}
	if err := CheckHost("tcp://h:abc"); err == nil {
		t.Error("CheckHost(tcp://h:abc) = nil")
	}
}

// The registry flags are read (the doctor's registry rules need them):
// both --flag=value and --flag value, repeated.
func TestDockerdFlagsRegistry(t *testing.T) {
	f := DockerdFlags([]string{"dockerd", "--insecure-registry=10.0.0.0/8", "--registry-mirror", "https://m.example", "--insecure-registry", "r.example:5000", "--registry-mirror=http://p.example"})
	if got := strings.Join(f[KeyInsecureRegistryFlag], ","); got != "10.0.0.0/8,r.example:5000" {
		t.Errorf("insecure-registry: %s", got)
	}
	if got := strings.Join(f[KeyRegistryMirrorFlag], ","); got != "https://m.example,http://p.example" {
		t.Errorf("registry-mirror: %s", got)
	}
}

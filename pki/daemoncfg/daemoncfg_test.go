package daemoncfg

import (
	"reflect"
	"strings"
	"testing"
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
	dropIn := UnitFile{Name: "/etc/systemd/system/docker.service.d/docker-tls.conf", Data: []byte(DropInFix("/usr/bin/dockerd"))}
	e, ok = EffectiveExecStart([]UnitFile{unit, dropIn})
	if !ok || !reflect.DeepEqual(e.Args, []string{"/usr/bin/dockerd"}) || e.Source != dropIn.Name {
		t.Errorf("with drop-in: %+v %v", e, ok)
	}
	if got := FlagsAlsoInFile(e.Args, []string{"hosts"}); len(got) != 0 {
		t.Errorf("conflicts after drop-in = %v", got)
	}
	if got := FlagsAlsoInFile([]string{"dockerd", "-Htcp://x", "--tlsverify=true", "--tlscert", "a"}, []string{"hosts", "tlsverify", "tlscert", "tlskey"}); !reflect.DeepEqual(got, []string{"hosts", "tlsverify", "tlscert"}) {
		t.Errorf("flag forms: %v", got)
	}
}

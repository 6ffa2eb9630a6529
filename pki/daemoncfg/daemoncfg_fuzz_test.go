package daemoncfg

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/internal/fixturetree"
)

// FuzzDaemonJSON checks Parse → Marshal → Parse: whatever Parse accepts
// re-marshals to JSON that parses to the same keys, in the same order, with
// the same values; Marshal is idempotent; the keys are the ones Go's JSON
// decoder (and so dockerd) sees.
func FuzzDaemonJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, ``, "  \n", `{"tls": true, "tlsverify": true, "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"]}`,
		`{"log-driver": "journald", "default-address-pools": [{"base": "10.10.0.0/16", "size": 24}], "x": null}`,
		`{"a": 1,}`, `[1]`, `{"a": 1} {}`, `{"a": 1, "a": 2}`, `{"<&>": "\u2028", "é": 1e400, "n": -0.0}`,
		`{"tlscacert": 5}`, `{"hosts": "tcp://x"}`, `{"a": {"b": [[], {}, ""]}}`, `{"a":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	for _, b := range fixturetree.Files(".json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := Parse("daemon.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "daemon.json: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		_, _ = o.TLS()
		out := o.Marshal()
		o2, err := Parse("daemon.json", out)
		if err != nil {
			t.Fatalf("Marshal output does not parse: %v\n%s", err, out)
		}
		if !slices.Equal(o.Keys(), o2.Keys()) {
			t.Fatalf("keys changed: %q → %q", o.Keys(), o2.Keys())
		}
		for _, k := range o.Keys() {
			a, _ := o.Raw(k)
			b, _ := o2.Raw(k)
			var ca, cb bytes.Buffer
			if err := json.Compact(&ca, a); err != nil {
				t.Fatalf("key %q: stored value is not JSON: %v", k, err)
			}
			json.Compact(&cb, b)
			if !bytes.Equal(ca.Bytes(), cb.Bytes()) {
				t.Fatalf("key %q: value %s became %s", k, ca.Bytes(), cb.Bytes())
			}
		}
		if out2 := o2.Marshal(); !bytes.Equal(out, out2) {
			t.Fatalf("Marshal is not idempotent:\n%s\n---\n%s", out, out2)
		}
		if len(bytes.TrimSpace(data)) > 0 {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatalf("Parse accepted what encoding/json refuses: %v", err)
			}
			if len(m) != len(o.Keys()) {
				t.Fatalf("encoding/json sees %d keys, Parse %d", len(m), len(o.Keys()))
			}
			for _, k := range o.Keys() {
				if _, ok := m[k]; !ok {
					t.Fatalf("encoding/json does not see key %q", k)
				}
			}
		}
		// Editing a managed key keeps every other key and its position.
		o2.Set(KeyTLS, true)
		o3, err := Parse("daemon.json", o2.Marshal())
		if err != nil {
			t.Fatalf("after Set: %v", err)
		}
		want := o.Keys()
		if !slices.Contains(want, KeyTLS) {
			want = append(want, KeyTLS)
		}
		if !slices.Equal(o3.Keys(), want) {
			t.Fatalf("after Set: keys %q, want %q", o3.Keys(), want)
		}
	})
}

// FuzzExecStart checks the systemd unit parser on arbitrary unit and
// drop-in content: no panic, a source that is one of the files, conflicts
// that are daemon.json keys without duplicates, and the drop-in docker-tls
// prints always clears the conflicting flags.
func FuzzExecStart(f *testing.F) {
	unit := "[Unit]\nDescription=Docker\n[Service]\nType=notify\nExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock\n"
	for _, p := range [][2]string{
		{unit, ""},
		{unit, "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd -H tcp://0.0.0.0:2376 --tlsverify --tlscacert=/etc/docker/ca.pem\n"},
		{"[Service]\nExecStart=-/usr/bin/dockerd \\\n  -H unix:// \\\n  --tls\n", "[Service]\nExecStart=\n"},
		{"[Service]\nExecStart=@/usr/bin/dockerd dockerd \"--host=tcp://a b\" '-Hx'\n", "# comment\n; comment\n[Install]\nExecStart=/bin/false\n"},
		{"[Service]\nExecStart=-\n", "[Service]\nExecStart=\"\n"},
		{"[Service]\r\nExecStart=/usr/bin/dockerd --tlskey /k\r\n", ""},
	} {
		f.Add([]byte(p[0]), []byte(p[1]))
	}
	units := fixturetree.Files(".service", ".conf")
	for i, b := range units {
		f.Add(b, []byte(""))
		if i+1 < len(units) {
			f.Add(b, units[i+1])
		}
	}
	allKeys := []string{KeyHosts, KeyTLS, KeyTLSVerify, KeyTLSCACert, KeyTLSCert, KeyTLSKey, "log-driver"}
	f.Fuzz(func(t *testing.T, unitData, dropIn []byte) {
		files := []UnitFile{{Name: "/lib/systemd/system/docker.service", Data: unitData}, {Name: "/etc/systemd/system/docker.service.d/override.conf", Data: dropIn}}
		es, ok := EffectiveExecStart(files)
		if !ok {
			if es.Source != "" || len(es.Args) != 0 {
				t.Fatalf("no ExecStart, but %+v", es)
			}
		} else if es.Source != files[0].Name && es.Source != files[1].Name {
			t.Fatalf("source %q", es.Source)
		}
		conflicts := FlagsAlsoInFile(es.Args, allKeys)
		seen := map[string]bool{}
		for _, c := range conflicts {
			if seen[c] || !slices.Contains(allKeys, c) || c == "log-driver" {
				t.Fatalf("conflicts %q", conflicts)
			}
			seen[c] = true
		}
		if len(FlagsAlsoInFile(es.Args, nil)) != 0 {
			t.Fatal("conflicts without daemon.json keys")
		}
		// The fix docker-tls prints (install and doctor), applied last,
		// removes exactly the conflicting flags and keeps every other
		// argument.
		fixed, ok := EffectiveExecStart(append(files, UnitFile{Name: DropInPath, Data: []byte(DropIn(es.Args, conflicts))}))
		want := StripFlags(es.Args, conflicts)
		if len(want) == 0 {
			want = []string{DefaultDockerd}
		}
		if !ok || fixed.Source != DropInPath || !slices.Equal(fixed.Args, want) {
			t.Fatalf("after the drop-in fix: %+v %v, want %q", fixed, ok, want)
		}
		if c := FlagsAlsoInFile(fixed.Args, allKeys); len(c) != 0 {
			t.Fatalf("after the drop-in fix, conflicts %q", c)
		}
	})
}

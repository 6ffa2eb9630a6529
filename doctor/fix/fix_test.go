package fix

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/internal/fixturetree"

	"github.com/docker-tls/docker-tls/doctor"
)

var fixtureNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func runDoctor(t *testing.T, name, root string) *catalog.Report {
	t.Helper()
	env := fixturetree.Env(t, name)
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rep, err := doctor.Run(doctor.Options{FS: doctor.RootFS(r), Env: env, Now: fixtureNow, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// snapshot is every entry of a tree: name, mode, and content hash.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Lstat(p)
		rel, _ := filepath.Rel(root, p)
		v := fi.Mode().String()
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			v += fmt.Sprintf(" %x", sha256.Sum256(data))
		}
		out[rel] = v
		return nil
	})
	return out
}

func diffSnap(a, b map[string]string) string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var d []string
	for _, k := range keys {
		if a[k] != b[k] {
			d = append(d, fmt.Sprintf("%s: %q -> %q", k, a[k], b[k]))
		}
	}
	return strings.Join(d, "\n")
}

func TestFixThenUndo(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plan  string // DescribePlan with the tree's path as ROOT
		fixed []string
	}{
		{"certsd-ca-named-cert", `1 safe fix:
  rename ROOT/etc/docker/certs.d/registry.example.com:5000/ca.cert -> ca.crt  [certsd-ca-named-cert]
`, []string{catalog.IDCertsDCANamedCert}},
		{"certsd-client-cert-named-crt", `1 safe fix:
  rename ROOT/etc/docker/certs.d/registry.example.com:5000/client.crt -> client.cert  [certsd-client-cert-named-crt]
`, []string{catalog.IDCertsDClientCertNamedCRT}},
		{"key-permissions", `1 safe fix:
  chmod 0600 ROOT/home/alice/.docker/key.pem (was 0644)  [key-permissions]
`, []string{catalog.IDKeyPermissions}},
		{"certsd-ignored-file", `1 safe fix:
  rename ROOT/etc/docker/certs.d/registry.example.com:5000/registry-ca.pem -> registry-ca.crt  [certsd-ignored-file]
`, nil},
		// The registry's own domain.crt with domain.key: the doctor names
		// the key; renaming domain.crt would remove the trust anchor.
		{"loader-certsd-domain-pair", "Nothing to fix automatically; the findings' fixes above are for you to apply.\n", nil},
		// Files a hosts.toml names are loaded: nothing to rename.
		{"loader-hoststoml-referenced", "Nothing to fix automatically; the findings' fixes above are for you to apply.\n", nil},
		{"certpath-wrong-names", `3 safe fixes:
  rename ROOT/etc/docker/certs.d/registry.example.com:5000/ca.pem -> ca.crt  [certpath-wrong-names]
  rename ROOT/etc/docker/certs.d/registry.example.com:5000/cert.pem -> client.cert  [certpath-wrong-names]
  rename ROOT/etc/docker/certs.d/registry.example.com:5000/key.pem -> client.key  [certpath-wrong-names]
`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fixturetree.Materialise(t, tc.name)
			before := snapshot(t, root)
			rep := runDoctor(t, tc.name, root)
			actions, err := Plan(rep, root)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ReplaceAll(DescribePlan(actions), root, "ROOT"); got != tc.plan {
				t.Fatalf("plan:\n%s\nwant:\n%s", got, tc.plan)
			}
			if d := diffSnap(before, snapshot(t, root)); d != "" {
				t.Fatalf("Plan changed the tree:\n%s", d)
			}
			if len(actions) == 0 {
				return
			}
			journals := t.TempDir()
			jp, err := Apply(actions, journals)
			if err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(jp); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("journal %s: %v %v", jp, fi.Mode(), err)
			}
			after := runDoctor(t, tc.name, root)
			for _, f := range after.Findings {
				for _, a := range actions {
					if f.Subject == strings.TrimPrefix(a.Path, root) && f.CheckID == a.Check {
						t.Errorf("after --fix the doctor still reports %s on %s", f.CheckID, f.Subject)
					}
				}
				for _, id := range tc.fixed {
					if f.CheckID == id {
						t.Errorf("after --fix: %s still fires: %s", id, f.Message)
					}
				}
			}
			// A second run has no renames left (a renamed key may now be
			// checked for its mode: the next --fix tightens it).
			again, _ := Plan(after, root)
			for _, a := range again {
				if a.Kind != Chmod {
					t.Errorf("a second plan renames again:\n%s", DescribePlan(again))
				}
			}
			j, err := ReadJournal(jp)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range j.Actions {
				if a.State != stateApplied || a.SHA256 == "" {
					t.Errorf("journal action %+v", a)
				}
			}
			if latest, err := Latest(journals); err != nil || latest != jp {
				t.Errorf("Latest = %q, %v; want %q", latest, err, jp)
			}
			if err := Undo(jp); err != nil {
				t.Fatal(err)
			}
			if d := diffSnap(before, snapshot(t, root)); d != "" {
				t.Fatalf("--undo did not restore the tree:\n%s", d)
			}
			err = Undo(jp)
			if err == nil || !strings.HasPrefix(err.Error(), jp+" was already undone at ") {
				t.Errorf("second undo: %v", err)
			}
		})
	}
}

func TestUndoRefusesChangedFiles(t *testing.T) {
	for _, change := range []struct {
		what string
		do   func(t *testing.T, root string)
		want string
	}{
		{"content", func(t *testing.T, root string) {
			os.WriteFile(filepath.Join(root, "etc/docker/certs.d/registry.example.com:5000/ca.crt"), []byte("x"), 0o644)
		}, "ROOT/etc/docker/certs.d/registry.example.com:5000/ca.crt was changed after docker tls doctor --fix (content differs)"},
		{"mode", func(t *testing.T, root string) {
			os.Chmod(filepath.Join(root, "etc/docker/certs.d/registry.example.com:5000/ca.crt"), 0o640)
		}, "ROOT/etc/docker/certs.d/registry.example.com:5000/ca.crt was changed after docker tls doctor --fix (mode 0640, expected 0644)"},
		{"old name back", func(t *testing.T, root string) {
			os.WriteFile(filepath.Join(root, "etc/docker/certs.d/registry.example.com:5000/ca.cert"), []byte("new"), 0o644)
		}, "ROOT/etc/docker/certs.d/registry.example.com:5000/ca.cert exists again"},
		{"removed", func(t *testing.T, root string) {
			os.Remove(filepath.Join(root, "etc/docker/certs.d/registry.example.com:5000/ca.crt"))
		}, "ROOT/etc/docker/certs.d/registry.example.com:5000/ca.crt is missing or no longer a regular file"},
	} {
		t.Run(change.what, func(t *testing.T) {
			root := fixturetree.Materialise(t, "certsd-ca-named-cert")
			actions, err := Plan(runDoctor(t, "certsd-ca-named-cert", root), root)
			if err != nil || len(actions) != 1 {
				t.Fatal(actions, err)
			}
			jp, err := Apply(actions, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			change.do(t, root)
			mid := snapshot(t, root)
			err = Undo(jp)
			want := "cannot undo " + jp + ": " + change.want + "; nothing was restored"
			if err == nil || strings.ReplaceAll(err.Error(), root, "ROOT") != want {
				t.Errorf("Undo error:\n got %v\nwant %s", err, want)
			}
			if d := diffSnap(mid, snapshot(t, root)); d != "" {
				t.Errorf("a refused undo changed the tree:\n%s", d)
			}
		})
	}
}

func TestApplyRefuses(t *testing.T) {
	root := fixturetree.Materialise(t, "certsd-ca-named-cert")
	dir := filepath.Join(root, "etc/docker/certs.d/registry.example.com:5000")
	actions, err := Plan(runDoctor(t, "certsd-ca-named-cert", root), root)
	if err != nil || len(actions) != 1 {
		t.Fatal(actions, err)
	}
	// A file appears at the target between plan and apply.
	os.WriteFile(filepath.Join(dir, "ca.crt"), []byte("mine"), 0o644)
	journals := t.TempDir()
	_, err = Apply(actions, journals)
	want := fmt.Sprintf("refusing to rename %[1]s/ca.cert to %[1]s/ca.crt: %[1]s/ca.crt already exists", dir)
	if err == nil || err.Error() != want {
		t.Errorf("Apply error:\n got %v\nwant %s", err, want)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "ca.crt")); string(data) != "mine" {
		t.Error("the file in the way was replaced")
	}
	if entries, _ := os.ReadDir(journals); len(entries) != 0 {
		t.Errorf("a refused apply wrote a journal: %v", entries)
	}
	// The planned file changed.
	os.Remove(filepath.Join(dir, "ca.crt"))
	os.WriteFile(filepath.Join(dir, "ca.cert"), []byte("changed"), 0o644)
	_, err = Apply(actions, journals)
	if want := "cannot fix " + dir + "/ca.cert: it changed since the plan was made; run docker tls doctor again"; err == nil || err.Error() != want {
		t.Errorf("Apply error:\n got %v\nwant %s", err, want)
	}
	// The plan leaves out a rename whose target exists.
	root2 := fixturetree.Materialise(t, "certsd-ca-named-cert")
	os.WriteFile(filepath.Join(root2, "etc/docker/certs.d/registry.example.com:5000/ca.crt"), []byte("x"), 0o644)
	rep := runDoctor(t, "certsd-ca-named-cert", root2)
	if a, _ := Plan(rep, root2); len(a) != 0 {
		t.Errorf("plan renames over an existing file: %s", DescribePlan(a))
	}
	if got := DescribePlan(nil); got != "Nothing to fix automatically; the findings' fixes above are for you to apply.\n" {
		t.Errorf("empty plan: %q", got)
	}
}

// Undo after an Apply that stopped half way: the action being applied did
// not happen, the ones before did.
func TestUndoPartialJournal(t *testing.T) {
	root := fixturetree.Materialise(t, "certpath-wrong-names")
	before := snapshot(t, root)
	actions, err := Plan(runDoctor(t, "certpath-wrong-names", root), root)
	if err != nil || len(actions) != 3 {
		t.Fatal(actions, err)
	}
	// Apply the first two, then write the journal as Apply would have
	// left it when stopped before the third.
	journals := t.TempDir()
	jp, err := Apply(actions[:2], journals)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := ReadJournal(jp)
	third := actions[2]
	third.State = stateApplying
	j.Actions = append(j.Actions, third)
	data, _ := json.Marshal(j)
	os.WriteFile(jp, data, 0o600)
	if err := Undo(jp); err != nil {
		t.Fatal(err)
	}
	if d := diffSnap(before, snapshot(t, root)); d != "" {
		t.Fatalf("undo of a partial journal:\n%s", d)
	}
}

func TestLatestAndJournalDir(t *testing.T) {
	dir := t.TempDir()
	if _, err := Latest(dir); err == nil || err.Error() != "no docker tls doctor --fix journal in "+dir+": nothing to undo" {
		t.Errorf("Latest on empty dir: %v", err)
	}
	env := map[string]string{"HOME": "/home/a"}
	if got := DefaultJournalDir(func(k string) string { return env[k] }); got != "/home/a/.docker/tls/fix-journal" {
		t.Errorf("DefaultJournalDir = %s", got)
	}
	env["DOCKER_CONFIG"] = "/cfg"
	if got := DefaultJournalDir(func(k string) string { return env[k] }); got != "/cfg/tls/fix-journal" {
		t.Errorf("DefaultJournalDir = %s", got)
	}
	bad := filepath.Join(dir, "x.json")
	os.WriteFile(bad, []byte(`{"version":2}`), 0o600)
	if _, err := ReadJournal(bad); err == nil || err.Error() != bad+" is not a docker tls doctor --fix journal: version 2, expected 1" {
		t.Errorf("ReadJournal: %v", err)
	}
}

// A key that is both tightened and renamed: chmod first, the rename
// expects the new mode, and undo restores name and mode.
func TestChmodThenRenameSameFile(t *testing.T) {
	root := t.TempDir()
	d := filepath.Join(root, "certs.d", "reg:5000")
	os.MkdirAll(d, 0o755)
	os.WriteFile(filepath.Join(d, "key.pem"), []byte("key"), 0o644)
	os.WriteFile(filepath.Join(d, "cert.pem"), []byte("cert"), 0o644)
	os.Chmod(filepath.Join(d, "key.pem"), 0o644)
	before := snapshot(t, root)
	sub := "/certs.d/reg:5000/"
	rep := &catalog.Report{Findings: []catalog.Finding{
		{CheckID: catalog.IDKeyPermissions, Subject: sub + "key.pem"},
		{CheckID: catalog.IDCertPathWrongNames, Subject: sub + "key.pem", Evidence: map[string]string{doctor.EvidenceRenameTo: sub + "client.key"}},
		{CheckID: catalog.IDCertPathWrongNames, Subject: sub + "cert.pem", Evidence: map[string]string{doctor.EvidenceRenameTo: sub + "client.cert"}},
		{CheckID: catalog.IDCertsDIgnoredFile, Subject: sub + "cert.pem", Evidence: map[string]string{doctor.EvidenceRenameTo: sub + "other.cert"}},
		{CheckID: catalog.IDCertsDIgnoredFile, Subject: sub + "elsewhere.pem", Evidence: map[string]string{doctor.EvidenceRenameTo: "/tmp/x.crt"}},
	}}
	actions, err := Plan(rep, root)
	if err != nil {
		t.Fatal(err)
	}
	want := `3 safe fixes:
  chmod 0600 ROOT/certs.d/reg:5000/key.pem (was 0644)  [key-permissions]
  rename ROOT/certs.d/reg:5000/cert.pem -> client.cert  [certpath-wrong-names]
  rename ROOT/certs.d/reg:5000/key.pem -> client.key  [certpath-wrong-names]
`
	if got := strings.ReplaceAll(DescribePlan(actions), root, "ROOT"); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	jp, err := Apply(actions, filepath.Join(root, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(d, "client.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("client.key: %v %v", fi, err)
	}
	if err := Undo(jp); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, root)
	for k := range after {
		if strings.HasPrefix(k, "journal") {
			delete(after, k)
		}
	}
	if d := diffSnap(before, after); d != "" {
		t.Fatalf("undo:\n%s", d)
	}
}

// TestFixNonUTF8Name: a file whose name is not UTF-8 is shown quoted; the
// plan acts on its raw path.
func TestFixNonUTF8Name(t *testing.T) {
	root := fixturetree.Materialise(t, "certsd-ignored-file")
	dir := filepath.Join(root, "etc", "docker", "certs.d", "registry.example.com:5000")
	bad := filepath.Join(dir, "registry-ca\xff.pem")
	if err := os.Rename(filepath.Join(dir, "registry-ca.pem"), bad); err != nil {
		t.Fatal(err)
	}
	rep := runDoctor(t, "certsd-ignored-file", root)
	actions, err := Plan(rep, root)
	if err != nil {
		t.Fatal(err)
	}
	if len(actions) != 1 || actions[0].Path != bad || actions[0].To != filepath.Join(dir, "registry-ca\xff.crt") {
		t.Fatalf("plan for a non-UTF-8 name: %+v", actions)
	}
	if _, err := Apply(actions, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "registry-ca\xff.crt")); err != nil {
		t.Fatal(err)
	}
}

// TestRenameNeedsTheLoaderModel: a rename is planned only when the loader,
// run on the planned tree, reads the file and loses nothing.
func TestRenameNeedsTheLoaderModel(t *testing.T) {
	root := fixturetree.Materialise(t, "certsd-client-cert-named-crt")
	dir := filepath.Join(root, "etc", "docker", "certs.d", "registry.example.com:5000")
	move := map[string]string{filepath.Join(dir, "client.crt"): filepath.Join(dir, "client.cert")}
	if !renamesKeepLoads("moby", move) {
		t.Error("client.crt -> client.cert next to client.key: the loader then loads the pair, yet the rename was refused")
	}
	if err := os.Remove(filepath.Join(dir, "client.key")); err != nil {
		t.Fatal(err)
	}
	if renamesKeepLoads("moby", move) {
		t.Error("client.crt -> client.cert without client.key makes the loader fail, yet the rename was allowed")
	}
	// Renaming the only CA away from .crt loses it.
	if renamesKeepLoads("moby", map[string]string{filepath.Join(dir, "ca.crt"): filepath.Join(dir, "ca.cert")}) {
		t.Error("ca.crt -> ca.cert loses the CA, yet the rename was allowed")
	}
}

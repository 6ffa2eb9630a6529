package doctor

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/render"
	"github.com/docker-tls/docker-tls/internal/fixturetree"
)

var update = flag.Bool("update", false, "rewrite golden files (fixtures/*/expected.*, CHECKS.md)")

// fixtureNow is the pinned time of every fixture (scripts/genfixtures uses
// the same).
var fixtureNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var fixturesDir = fixturetree.Dir()

// treeSum fingerprints a tree: names, types, modes, sizes, mtimes and the
// content of regular files (special files are not opened).
func treeSum(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %v %d %d\n", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() && fi.Size() < 1<<20 {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func fixtureNames(t *testing.T) []string {
	entries, err := os.ReadDir(fixturesDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("no fixtures: run go run ./scripts/genfixtures")
	}
	return out
}

// runFixture runs the doctor over one materialised fixture, failing if it
// does not finish (a FIFO opened for reading would block forever).
func runFixture(t *testing.T, root string, env map[string]string) *catalog.Report {
	t.Helper()
	return runFixtureFS(t, root, env, true)
}

func runFixtureFS(t *testing.T, root string, env map[string]string, viaRoot bool) *catalog.Report {
	t.Helper()
	return runFixtureOpts(t, root, env, viaRoot, nil)
}

// fixtureOptions reads fixtures/<name>/options (KEY=VALUE lines:
// expiry-warn, expiry-fail) into a function that applies them.
func fixtureOptions(t *testing.T, name string) func(*Options) {
	var mods []func(*Options)
	for _, l := range readLines(t, filepath.Join(fixturesDir, name, "options")) {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("%s/options: %q is not KEY=VALUE", name, l)
		}
		switch k {
		case "expiry-warn":
			d, err := ParseExpiryWarn(v)
			if err != nil {
				t.Fatal(err)
			}
			mods = append(mods, func(o *Options) { o.ExpiryWarn = d })
		case "expiry-fail":
			d, err := ParseExpiryFail(v)
			if err != nil {
				t.Fatal(err)
			}
			mods = append(mods, func(o *Options) { o.ExpiryFail = d })
		default:
			t.Fatalf("%s/options: unknown option %q", name, k)
		}
	}
	return func(o *Options) {
		for _, m := range mods {
			m(o)
		}
	}
}

// runFixtureOpts is runFixtureFS with options changed by mod (nil: none).
func runFixtureOpts(t *testing.T, root string, env map[string]string, viaRoot bool, mod func(*Options)) *catalog.Report {
	t.Helper()
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type result struct {
		rep *catalog.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		fsys := RootFS(r)
		if !viaRoot {
			fsys = os.DirFS(root)
		}
		opts := Options{FS: fsys, Env: env, Now: fixtureNow, Workers: 2}
		if mod != nil {
			mod(&opts)
		}
		rep, err := Run(opts)
		done <- result{rep, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatal(res.err)
		}
		return res.rep
	case <-time.After(60 * time.Second):
		t.Fatal("doctor did not finish within 60s (blocked on a special file?)")
	}
	return nil
}

// keySnippets returns pieces of every private key's base64 body in the
// tree, to prove none reaches the output.
func keySnippets(t *testing.T, root string) []string {
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for {
			var b *pem.Block
			b, data = pem.Decode(data)
			if b == nil {
				break
			}
			if strings.Contains(b.Type, "PRIVATE KEY") {
				enc := base64.StdEncoding.EncodeToString(b.Bytes)
				for i := 0; i+24 <= len(enc); i += 24 {
					out = append(out, enc[i:i+24])
				}
			}
		}
		return nil
	})
	return out
}

type fixtureResult struct {
	ids    map[string]bool
	counts [3]int
}

func TestFixtures(t *testing.T) {
	results := map[string]fixtureResult{}
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			root := materialise(t, name)
			before := treeSum(t, root)
			rep := runFixtureOpts(t, root, fixtureEnv(t, name), true, fixtureOptions(t, name))
			if after := treeSum(t, root); after != before {
				t.Errorf("the doctor changed the tree (content, mode or mtime)")
			}
			var txt, js bytes.Buffer
			if err := render.RenderText(&txt, rep); err != nil {
				t.Fatal(err)
			}
			if err := render.RenderJSON(&js, rep); err != nil {
				t.Fatal(err)
			}
			out := txt.String() + js.String()
			if strings.Contains(out, "PRIVATE KEY") {
				t.Errorf("output mentions PEM private key material")
			}
			for _, s := range keySnippets(t, root) {
				if strings.Contains(out, s) {
					t.Fatalf("output contains private key bytes")
				}
			}
			golden(t, filepath.Join(fixturesDir, name, "expected.txt"), txt.Bytes())
			golden(t, filepath.Join(fixturesDir, name, "expected.json"), js.Bytes())
			validateReportJSON(t, js.Bytes())
			if formatGoldens[name] {
				var sarif, junit bytes.Buffer
				if err := render.RenderSARIF(&sarif, rep); err != nil {
					t.Fatal(err)
				}
				if err := render.RenderJUnit(&junit, rep, catalog.DefaultFailOn); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join(fixturesDir, name, "expected.sarif"), sarif.Bytes())
				golden(t, filepath.Join(fixturesDir, name, "expected.junit.xml"), junit.Bytes())
			}
			var res fixtureResult
			res.ids = map[string]bool{}
			for _, f := range rep.Findings {
				res.ids[f.CheckID] = true
				if _, ok := catalog.Lookup(f.CheckID); !ok {
					t.Errorf("finding with unknown check ID %q", f.CheckID)
				}
				if f.Message == "" || f.Fix == "" || f.Subject == "" {
					t.Errorf("finding %s lacks message, fix or subject: %+v", f.CheckID, f)
				}
				if strings.Contains(f.Message, "\n") {
					t.Errorf("finding %s: message is not one line: %q", f.CheckID, f.Message)
				}
			}
			res.counts[0], res.counts[1], res.counts[2] = rep.Counts()
			results[name] = res
		})
	}
	if t.Failed() {
		return
	}
	// Healthy fixtures: no errors or warnings.
	for name, res := range results {
		if strings.HasPrefix(name, "healthy-") && res.counts[0]+res.counts[1] > 0 {
			t.Errorf("%s: %d errors and %d warnings in a healthy setup: %v", name, res.counts[0], res.counts[1], keys(res.ids))
		}
	}
	// Every check fires in its own fixture, and stays silent in at least one
	// healthy fixture.
	for _, c := range catalog.List() {
		if c.Live {
			continue // live outcomes are proven by doctor/probe's loopback tests
		}
		res, ok := results[c.ID]
		if !ok {
			t.Errorf("check %s has no fixture named after it", c.ID)
			continue
		}
		if !res.ids[c.ID] {
			t.Errorf("check %s does not fire in fixture %s (found %v)", c.ID, c.ID, keys(res.ids))
		}
		silent := false
		for name, h := range results {
			if strings.HasPrefix(name, "healthy-") && !h.ids[c.ID] {
				silent = true
			}
		}
		if !silent {
			t.Errorf("check %s fires in every healthy fixture", c.ID)
		}
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func golden(t *testing.T, p string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./doctor -run TestFixtures -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./doctor -run TestFixtures -update rewrites it):\n%s", p, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first differing lines.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	n := 0
	for i := 0; i < max(len(w), len(g)) && n < 8; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl)
			n++
		}
	}
	return b.String()
}

func TestJSONSchema(t *testing.T) {
	root := materialise(t, "key-mismatch")
	rep := runFixture(t, root, fixtureEnv(t, "key-mismatch"))
	var b bytes.Buffer
	if err := render.RenderJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schemaVersion"] != "2" {
		t.Errorf("schemaVersion = %v, want \"2\"", doc["schemaVersion"])
	}
	fs, _ := doc["findings"].([]any)
	if len(fs) == 0 {
		t.Fatal("no findings in JSON")
	}
	f0 := fs[0].(map[string]any)
	for _, k := range []string{"id", "checkId", "severity", "title", "subject", "message", "fix", "docs"} {
		if _, ok := f0[k]; !ok {
			t.Errorf("finding lacks %q: %v", k, f0)
		}
	}
}

// TestPlainFS runs fixtures through os.DirFS (no os.Root fast path) and
// expects the same findings as through RootFS.
func TestPlainFS(t *testing.T) {
	for _, name := range []string{"file-unreadable", "healthy-registries", "certsd-daemon-key", "missing-intermediate"} {
		root := materialise(t, name)
		a := runFixtureFS(t, root, fixtureEnv(t, name), true)
		b := runFixtureFS(t, root, fixtureEnv(t, name), false)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: RootFS and os.DirFS reports differ:\n%s\n%s", name, ja, jb)
		}
	}
}

func materialise(t *testing.T, name string) string { return fixturetree.Materialise(t, name) }

func readLines(t *testing.T, p string) []string { return fixturetree.Lines(t, p) }

func fixtureEnv(t *testing.T, name string) map[string]string { return fixturetree.Env(t, name) }

// TestReadmeSampleReport keeps README's sample of a failing report true:
// its first line is the golden first line of the fixture it names.
func TestReadmeSampleReport(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("..", "fixtures", "ca-mismatch-client", "expected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(golden), "\n")
	if !strings.HasPrefix(first, "Root cause: ") || !strings.Contains(string(readme), "\n"+first+"\n") {
		t.Errorf("README.md's sample report does not carry the golden first line of fixtures/ca-mismatch-client:\n%s", first)
	}
}

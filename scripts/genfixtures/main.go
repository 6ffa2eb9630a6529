// Command genfixtures writes the doctor's scenario trees under fixtures/:
// fixtures/<scenario>/root/... (the machine's files, ':' written as %3A),
// fixtures/<scenario>/env (KEY=VALUE), fixtures/<scenario>/modes (file
// modes and special files the test applies to its copy; git keeps neither),
// fixtures/<scenario>/options (doctor options, KEY=VALUE; optional)
// and fixtures/<scenario>/README. Keys are derived from their names (RSA
// keys are kept in fixtures/.keys), serials and validity are pinned to
// 2026-01-01, and a certificate whose to-be-signed part did not change is
// taken from fixtures/.certs, so running it again changes nothing. The golden files
// expected.txt/expected.json come from the doctor tests:
//
//	go run ./scripts/genfixtures && go test ./doctor -run TestFixtures -update
package main

import (
	"bytes"
	"crypto"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// fixtureNow is the pinned time of every fixture (doctor tests use it too).
var fixtureNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type file struct {
	data []byte
	mode fs.FileMode // 0 means 0644
}

type scenario struct {
	name    string
	desc    string
	env     []string
	files   map[string]file // logical absolute path → content
	special []string        // "fifo PATH" or "sparse SIZE PATH" lines
	// options are doctor options the test applies (KEY=VALUE lines of
	// fixtures/<scenario>/options: expiry-warn, expiry-fail).
	options []string
}

func (s *scenario) put(p string, data []byte, mode fs.FileMode) {
	if s.files == nil {
		s.files = map[string]file{}
	}
	s.files[p] = file{data: data, mode: mode}
}

type gen struct {
	keys *keyStore
}

func main() {
	out := flag.String("out", "fixtures", "fixtures directory")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "genfixtures:", err)
		os.Exit(1)
	}
}

func run(out string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	g := &gen{keys: &keyStore{keyDir: filepath.Join(out, ".keys"), cache: map[string]crypto.Signer{}}}
	scenarios := g.scenarios()
	names := map[string]bool{}
	for _, s := range scenarios {
		if names[s.name] {
			return fmt.Errorf("duplicate scenario %s", s.name)
		}
		names[s.name] = true
		if err := writeScenario(filepath.Join(out, s.name), s); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	// Remove scenarios that no longer exist.
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && !names[e.Name()] && fileExists(filepath.Join(out, e.Name(), "README")) {
			if err := os.RemoveAll(filepath.Join(out, e.Name())); err != nil {
				return err
			}
		}
	}
	fmt.Printf("wrote %d scenarios to %s; now run: go test ./doctor -run TestFixtures -update\n", len(scenarios), out)
	return nil
}

// EncodePath turns a logical path into the committed file name: ':' is
// not allowed in Go module zips (nor on Windows), so it is stored as %3A.
func encodePath(p string) string {
	return strings.NewReplacer("%", "%25", ":", "%3A").Replace(p)
}

func writeScenario(dir string, s *scenario) error {
	root := filepath.Join(dir, "root")
	want := map[string][]byte{}
	for p, f := range s.files {
		want[filepath.Join(root, filepath.FromSlash(encodePath(strings.TrimPrefix(p, "/"))))] = f.data
	}
	var modes []string
	for p, f := range s.files {
		if f.mode != 0 && f.mode != 0o644 {
			modes = append(modes, fmt.Sprintf("%04o %s", uint32(f.mode), strings.TrimPrefix(p, "/")))
		}
	}
	sort.Strings(modes)
	modes = append(modes, s.special...)
	meta := map[string][]byte{
		filepath.Join(dir, "env"):    []byte(strings.Join(s.env, "\n") + nl(len(s.env))),
		filepath.Join(dir, "modes"):  []byte(strings.Join(modes, "\n") + nl(len(modes))),
		filepath.Join(dir, "README"): []byte(s.desc + "\n"),
	}
	if len(s.options) > 0 {
		meta[filepath.Join(dir, "options")] = []byte(strings.Join(s.options, "\n") + "\n")
	}
	for p, d := range meta {
		want[p] = d
	}
	// Remove stale files under root/.
	if _, err := os.Stat(root); err == nil {
		var stale []string
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if _, ok := want[p]; !ok {
					stale = append(stale, p)
				}
			}
			return nil
		})
		for _, p := range stale {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	for p, d := range want {
		if err := writeStable(p, d); err != nil {
			return err
		}
	}
	return removeEmptyDirs(root)
}

func nl(n int) string {
	if n == 0 {
		return ""
	}
	return "\n"
}

// writeStable writes data unless the file already holds the same bytes.
func writeStable(p string, data []byte) error {
	if old, err := os.ReadFile(p); err == nil {
		if bytes.Equal(old, data) {
			return nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

func removeEmptyDirs(root string) error {
	var dirs []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if entries, err := os.ReadDir(dirs[i]); err == nil && len(entries) == 0 && dirs[i] != root {
			os.Remove(dirs[i])
		}
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Package fixturetree gives tests the doctor's fixture scenarios
// (fixtures/<name>/): their trees materialised with real names, modes and
// special files, their env and options files, and the certificate and key
// files of all trees as fuzz seeds. Only tests import it.
package fixturetree

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Dir is the repository's fixtures directory.
func Dir() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "fixtures")
}

// DecodeName undoes the generator's encoding of ':' (not allowed in Go
// module zips) as %3A, and of '%' as %25.
func DecodeName(s string) string {
	return strings.NewReplacer("%3A", ":", "%25", "%").Replace(s)
}

// Lines returns the non-empty, non-comment lines of a file; none when the
// file does not exist.
func Lines(tb testing.TB, p string) []string {
	tb.Helper()
	f, err := os.Open(p)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// Materialise copies fixtures/<name>/root into a temporary directory with
// real file names and the modes from fixtures/<name>/modes (files 0644 and
// directories 0755 unless listed; git keeps neither), creating the special
// files listed there (fifo PATH, sparse SIZE PATH). It returns the copy.
func Materialise(tb testing.TB, name string) string {
	tb.Helper()
	src := filepath.Join(Dir(), name, "root")
	dst := filepath.Join(tb.TempDir(), "root")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		tb.Fatal(err)
	}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, DecodeName(rel))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			return err
		}
		return os.Chmod(target, 0o644)
	})
	if err != nil && !os.IsNotExist(err) {
		tb.Fatal(err)
	}
	for _, line := range Lines(tb, filepath.Join(Dir(), name, "modes")) {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "fifo":
			p := filepath.Join(dst, f[1])
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := mkfifo(p, 0o644); err != nil {
				tb.Fatal(err)
			}
		case len(f) == 3 && f[0] == "sparse":
			size, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			p := filepath.Join(dst, f[2])
			os.MkdirAll(filepath.Dir(p), 0o755)
			fh, err := os.Create(p)
			if err != nil {
				tb.Fatal(err)
			}
			if err := fh.Truncate(size); err != nil {
				tb.Fatal(err)
			}
			fh.Close()
		case len(f) == 2:
			m, err := strconv.ParseUint(f[0], 8, 32)
			if err != nil {
				tb.Fatalf("modes: %q: %v", line, err)
			}
			if err := os.Chmod(filepath.Join(dst, f[1]), fs.FileMode(m)); err != nil {
				tb.Fatal(err)
			}
		default:
			tb.Fatalf("modes: cannot parse %q", line)
		}
	}
	return dst
}

// Env reads fixtures/<name>/env (KEY=VALUE lines).
func Env(tb testing.TB, name string) map[string]string {
	tb.Helper()
	env := map[string]string{}
	for _, l := range Lines(tb, filepath.Join(Dir(), name, "env")) {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			tb.Fatalf("%s/env: %q is not KEY=VALUE", name, l)
		}
		env[k] = v
	}
	return env
}

// Files returns the content of the fixture trees' files whose names end in
// one of exts (at most 64 KiB each), for fuzz seeds.
func Files(exts ...string) [][]byte {
	roots, _ := filepath.Glob(filepath.Join(Dir(), "*", "root"))
	var out [][]byte
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			for _, e := range exts {
				if strings.HasSuffix(p, e) {
					if b, err := os.ReadFile(p); err == nil && len(b) <= 1<<16 {
						out = append(out, b)
					}
					break
				}
			}
			return nil
		})
	}
	return out
}

//go:build linux

package e2e

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// checksumTree fingerprints every entry below dir, keyed by its path
// relative to dir: type and mode, mtime, and the sha256 of a regular
// file's content or a symbolic link's target (special files are not
// opened). Comparing two results proves that nothing was created, removed,
// rewritten, chmod'ed or touched in between.
func checksumTree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sum := fmt.Sprintf("%v mtime=%d", fi.Mode(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			sum += " -> " + target
		case fi.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			sum += fmt.Sprintf(" sha256=%x", h.Sum(nil))
		}
		out[rel] = sum
		return nil
	})
	if err != nil {
		t.Fatalf("checksum %s: %v", dir, err)
	}
	return out
}

// treeChanges lists what differs between two checksumTree results.
func treeChanges(before, after map[string]string) []string {
	var out []string
	for p, b := range before {
		switch a, ok := after[p]; {
		case !ok:
			out = append(out, "removed "+p)
		case a != b:
			out = append(out, fmt.Sprintf("changed %s: %s -> %s", p, b, a))
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			out = append(out, "created "+p)
		}
	}
	sort.Strings(out)
	return out
}

// requireUnchanged fails the test if dir differs from before (a
// checksumTree of it taken before a doctor run).
func requireUnchanged(t testing.TB, what, dir string, before map[string]string) {
	t.Helper()
	if changes := treeChanges(before, checksumTree(t, dir)); len(changes) > 0 {
		t.Errorf("%s: the doctor changed %s:\n  %s", what, dir, joinLines(changes))
	}
}

func joinLines(s []string) string {
	out := ""
	for i, l := range s {
		if i > 0 {
			out += "\n  "
		}
		out += l
	}
	return out
}

//go:build unix

package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestKeyIsPrivateFromTheFirstByte: the temp file a key is written to has
// mode 0600 the moment it exists, before a single byte is written, whatever
// the umask: there is no window in which another user can open it.
func TestKeyIsPrivateFromTheFirstByte(t *testing.T) {
	for _, umask := range []int{0, 0o022, 0o077} {
		old := syscall.Umask(umask)
		var seen []string
		testHookTempOpened = func(f *os.File) {
			fi, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 || fi.Size() != 0 {
				t.Errorf("umask %04o: temp file %s has mode %04o and %d bytes when created, want 0600 and empty", umask, f.Name(), fi.Mode().Perm(), fi.Size())
			}
			if !strings.Contains(filepath.Base(f.Name()), tmpMarker) {
				t.Errorf("temp file name %s", f.Name())
			}
			seen = append(seen, f.Name())
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "key.pem")
		if _, err := WriteFile(p, []byte("-----BEGIN PRIVATE KEY-----\none\n"), 0o600, false); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteFile(p, []byte("-----BEGIN PRIVATE KEY-----\ntwo\n"), 0o600, true); err != nil {
			t.Fatal(err)
		}
		testHookTempOpened = nil
		syscall.Umask(old)
		if len(seen) != 2 {
			t.Fatalf("umask %04o: hook saw %d temp files, want 2", umask, len(seen))
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			fi, _ := e.Info()
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("umask %04o: %s has mode %04o", umask, e.Name(), fi.Mode().Perm())
			}
			if strings.Contains(e.Name(), tmpMarker) {
				t.Errorf("temp file left behind: %s", e.Name())
			}
		}
	}
}

// TestPlanRefusesLinks: a plan whose file, or whose directory (or a missing
// parent of it), is a symbolic link writes nothing, says which path and
// where it points, and leaves the link target alone.
func TestPlanRefusesLinks(t *testing.T) {
	tmp := t.TempDir()
	shadow := filepath.Join(tmp, "shadow")
	secretDir := filepath.Join(tmp, "etc")
	os.WriteFile(shadow, []byte("root:$6$secret:19000::::::\n"), 0o640)
	os.Mkdir(secretDir, 0o755)
	for _, tc := range []struct {
		name  string
		setup func(dir string) (path, link string)
	}{
		{"file", func(dir string) (string, string) {
			os.Symlink(shadow, filepath.Join(dir, "key.pem"))
			return filepath.Join(dir, "key.pem"), filepath.Join(dir, "key.pem")
		}},
		{"directory", func(dir string) (string, string) {
			os.Symlink(secretDir, filepath.Join(dir, "tls"))
			return filepath.Join(dir, "tls", "key.pem"), filepath.Join(dir, "tls")
		}},
		{"missing parent under a link", func(dir string) (string, string) {
			os.Symlink(secretDir, filepath.Join(dir, "tls"))
			return filepath.Join(dir, "tls", "sub", "key.pem"), filepath.Join(dir, "tls")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, link := tc.setup(dir)
			other := filepath.Join(dir, "ca.pem")
			for _, force := range []bool{false, true} {
				var p Plan
				p.Add(other, []byte("ca"), 0o644, "CA")
				p.Add(path, []byte("key"), 0o600, "key")
				_, err := p.Apply(force)
				target, _ := os.Readlink(link)
				if err == nil || !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "refusing to ") ||
					!strings.Contains(err.Error(), link+": it is a symbolic link to "+target) {
					t.Errorf("force=%v: %v", force, err)
				}
				if _, err := os.Lstat(other); err == nil {
					t.Errorf("force=%v: %s was written although the plan was refused", force, other)
				}
			}
			if b, _ := os.ReadFile(shadow); string(b) != "root:$6$secret:19000::::::\n" {
				t.Errorf("the link target changed: %q", b)
			}
			if entries, _ := os.ReadDir(secretDir); len(entries) != 0 {
				t.Errorf("something was written through the directory link: %v", entries)
			}
		})
	}
}

//go:build unix

package fsutil

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRenameNoReplace: the rename the doctor's fixes use moves a file when
// nothing is in the way and refuses, leaving both alone, when the target
// exists, also as a dangling symbolic link.
func TestRenameNoReplace(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.cert")
	os.WriteFile(from, []byte("cert"), 0o644)
	if err := RenameNoReplace(from, to); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(to); string(b) != "cert" {
		t.Fatalf("%s holds %q after the rename", to, b)
	}
	if _, err := os.Lstat(from); !os.IsNotExist(err) {
		t.Fatalf("%s still exists after the rename: %v", from, err)
	}
	os.WriteFile(from, []byte("new"), 0o644)
	if err := RenameNoReplace(from, to); err == nil || err.Error() != to+" already exists" {
		t.Errorf("rename over a file: %v, want %q", err, to+" already exists")
	}
	link := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), link)
	if err := RenameNoReplace(from, link); err == nil || err.Error() != link+" already exists" {
		t.Errorf("rename over a dangling link: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !os.IsNotExist(err) {
		t.Errorf("the rename wrote through the dangling link")
	}
	if b, _ := os.ReadFile(from); string(b) != "new" {
		t.Errorf("%s changed: %q", from, b)
	}
	if b, _ := os.ReadFile(to); string(b) != "cert" {
		t.Errorf("%s changed: %q", to, b)
	}
}

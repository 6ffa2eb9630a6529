package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteFile(t *testing.T) {
	Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	defer func() { Now = time.Now }()
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "key.pem")
	r, err := WriteFile(p, []byte("one"), 0o600, false)
	if err != nil || r.Outcome != Created {
		t.Fatalf("create: %+v %v", r, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Dir(p)); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", fi.Mode().Perm())
	}
	if r, err = WriteFile(p, []byte("one"), 0o600, false); err != nil || r.Outcome != Unchanged {
		t.Errorf("same content: %+v %v", r, err)
	}
	_, err = WriteFile(p, []byte("two"), 0o600, false)
	if !errors.Is(err, ErrExists) || err.Error() != p+" already exists with different content: file exists with different content; use --force to replace it (the old file is kept as a backup)" {
		t.Errorf("conflict: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("content changed without force: %q", b)
	}
	r, err = WriteFile(p, []byte("two"), 0o600, true)
	if err != nil || r.Outcome != Replaced || r.Backup != p+".bak-20260102T030405" {
		t.Fatalf("force: %+v %v", r, err)
	}
	if b, _ := os.ReadFile(r.Backup); string(b) != "one" {
		t.Errorf("backup holds %q", b)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Errorf("new content %q", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	for _, e := range entries {
		if strings.Contains(e.Name(), tmpMarker) {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "shadow")
	os.WriteFile(target, []byte("secret"), 0o600)
	link := filepath.Join(dir, "key.pem")
	os.Symlink(target, link)
	_, err := WriteFile(link, []byte("x"), 0o600, true)
	if err == nil || err.Error() != "refusing to write "+link+": it is a symbolic link to "+target+", expected a regular file (remove the link first)" {
		t.Errorf("file link: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "secret" {
		t.Error("wrote through a symlink")
	}
	os.Mkdir(filepath.Join(dir, "real"), 0o700)
	os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "certs.d"))
	_, err = WriteFile(filepath.Join(dir, "certs.d", "ca.crt"), []byte("x"), 0o644, false)
	if err == nil || !strings.HasPrefix(err.Error(), "refusing to use "+filepath.Join(dir, "certs.d")+": it is a symbolic link to") {
		t.Errorf("dir link: %v", err)
	}
}

func TestPlanAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b"), []byte("old"), 0o644)
	var p Plan
	p.Add(filepath.Join(dir, "a"), []byte("new"), 0o644, "first")
	p.Add(filepath.Join(dir, "b"), []byte("new"), 0o644, "second")
	_, err := p.Apply(false)
	if err == nil || !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "nothing was written; 1 file is in the way:\n  "+filepath.Join(dir, "b")+" (second): exists with different content") {
		t.Fatalf("conflict: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Error("plan wrote a file before finding the conflict")
	}
	steps := p.Preview(true)
	if steps[0].Action != ActionCreate || steps[1].Action != ActionReplace {
		t.Errorf("preview: %v %v", steps[0].Action, steps[1].Action)
	}
	if _, err := p.Apply(true); err != nil {
		t.Fatal(err)
	}
	if steps := p.Preview(false); steps[0].Action != ActionKeep || steps[1].Action != ActionKeep {
		t.Errorf("after apply: %v %v", steps[0].Action, steps[1].Action)
	}
}

func TestReadFileRefusesSpecialAndHuge(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "ca.crt")
	f, _ := os.Create(big)
	f.Truncate(MaxReadSize + 1)
	f.Close()
	if _, err := ReadFile(big); err == nil || !strings.Contains(err.Error(), "larger than the 1048576 bytes certificate material can be") {
		t.Errorf("huge: %v", err)
	}
	if _, err := ReadFile(dir); err == nil || err.Error() != dir+" is a directory, expected a regular file" {
		t.Errorf("dir: %v", err)
	}
}

package fsutil

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

func TestDirLinux(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "reg.example:5000")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(sub, 0o755))
	must(os.WriteFile(filepath.Join(sub, "ca.crt"), []byte("PEM"), 0o640))
	must(os.WriteFile(filepath.Join(sub, "empty.crt"), nil, 0o644))
	must(os.WriteFile(filepath.Join(sub, "big.crt"), bytes.Repeat([]byte("x"), 100), 0o644))
	must(syscall.Mkfifo(filepath.Join(sub, "fifo.crt"), 0o644))
	must(os.Symlink("ca.crt", filepath.Join(sub, "link.crt")))
	must(os.Mkdir(filepath.Join(sub, "dir.crt"), 0o755))
	must(os.Symlink("reg.example:5000", filepath.Join(root, "alias:5000")))

	f, err := os.Open(root)
	must(err)
	top, err := NewDir(f)
	must(err)
	defer top.Close()

	if _, err := top.OpenDir("alias:5000"); err == nil {
		t.Errorf("OpenDir followed a symbolic link")
	}
	for _, bad := range []string{"", ".", "..", "a/b", "missing"} {
		if _, err := top.OpenDir(bad); err == nil {
			t.Errorf("OpenDir(%q) succeeded", bad)
		}
	}
	d, err := top.OpenDir("reg.example:5000")
	must(err)
	defer d.Close()

	names, err := d.Names()
	must(err)
	want := []string{"big.crt", "ca.crt", "dir.crt", "empty.crt", "fifo.crt", "link.crt"}
	if !slices.Equal(names, want) {
		t.Errorf("Names() = %q, want %q", names, want)
	}
	for n, typ := range map[string]fs.FileMode{"ca.crt": 0, "dir.crt": fs.ModeDir, "fifo.crt": fs.ModeNamedPipe, "link.crt": fs.ModeSymlink, "missing": TypeUnknown} {
		// A file system may not give types (TypeUnknown); tmpfs and ext4 do.
		if got := d.Type(n); got != typ && got != TypeUnknown {
			t.Errorf("Type(%q) = %v, want %v", n, got, typ)
		}
	}

	data, mode, size, err := d.ReadRegular("ca.crt", 64)
	if err != nil || string(data) != "PEM" || mode != 0o640 || size != 3 {
		t.Errorf("ReadRegular(ca.crt) = %q, %v, %d, %v; want \"PEM\", -rw-r-----, 3, nil", data, mode, size, err)
	}
	if data, _, _, err := d.ReadRegular("empty.crt", 64); err != nil || data == nil || len(data) != 0 {
		t.Errorf("ReadRegular(empty.crt) = %q (nil: %v), %v; want an empty, non-nil slice", data, data == nil, err)
	}
	// Everything that is not plainly a small regular file is the caller's:
	// a FIFO (never opened: it would block without O_NONBLOCK), a link, a
	// directory, a file over the cap, a missing name, a path.
	for _, n := range []string{"fifo.crt", "link.crt", "dir.crt", "big.crt", "missing", "../reg.example:5000/ca.crt", "", "."} {
		if _, _, _, err := d.ReadRegular(n, 64); !IsFallback(err) {
			t.Errorf("ReadRegular(%q): err %v, want a fallback", n, err)
		}
	}

	var each []string
	f2, err := os.Open(sub)
	must(err)
	d2, err := NewDir(f2)
	must(err)
	defer d2.Close()
	must(d2.Each(func(name string, typ fs.FileMode) { each = append(each, name) }))
	slices.Sort(each)
	if !slices.Equal(each, want) {
		t.Errorf("Each listed %q, want %q", each, want)
	}
	if err := d.Close(); err != nil || d.Close() != nil {
		t.Errorf("Close twice: %v", err)
	}
	if !IsFallback(errFallback) || IsFallback(errors.New("other")) {
		t.Errorf("IsFallback is wrong")
	}
}

package fsutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

func daclOf(t *testing.T, sd *windows.SECURITY_DESCRIPTOR) string {
	t.Helper()
	s := sd.String()
	if i := strings.Index(s, "D:"); i >= 0 {
		s = s[i:]
		if j := strings.Index(s, "S:"); j >= 0 {
			s = s[:j]
		}
		return s
	}
	t.Fatalf("security descriptor %s has no DACL", s)
	return ""
}

// TestKeyIsPrivateFromTheFirstByteWindows: on Windows a key's temp file has
// the private DACL (user, SYSTEM, Administrators; protected) when it is
// created, before a byte is written, and the written key keeps it; a CA
// certificate (0644) inherits its directory's DACL.
func TestKeyIsPrivateFromTheFirstByteWindows(t *testing.T) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	want := PrivateSDDL(u.User.Sid.String(), false)
	var seen int
	testHookTempOpened = func(f *os.File) {
		sd, err := windows.GetSecurityInfo(windows.Handle(f.Fd()), windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
		if err != nil {
			t.Fatal(err)
		}
		if got := daclOf(t, sd); got != want {
			t.Errorf("temp file %s has DACL %s when created, want %s", f.Name(), got, want)
		}
		seen++
	}
	defer func() { testHookTempOpened = nil }()
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	if _, err := WriteFile(key, []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600, false); err != nil {
		t.Fatal(err)
	}
	if seen != 1 {
		t.Fatalf("hook saw %d temp files, want 1", seen)
	}
	sd, err := windows.GetNamedSecurityInfo(key, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	if got := daclOf(t, sd); got != want {
		t.Errorf("%s has DACL %s, want %s", key, got, want)
	}
	testHookTempOpened = nil
	ca := filepath.Join(dir, "ca.pem")
	if _, err := WriteFile(ca, []byte("ca"), 0o644, false); err != nil {
		t.Fatal(err)
	}
	sd, err = windows.GetNamedSecurityInfo(ca, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	if got := daclOf(t, sd); strings.HasPrefix(got, "D:P") {
		t.Errorf("%s (0644) has a protected DACL %s, want the inherited one", ca, got)
	}
}

// TestRenameNoReplaceWindows: MoveFileEx without replace refuses an
// existing target and leaves both files alone.
func TestRenameNoReplaceWindows(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(from, []byte("a"), 0o644)
	os.WriteFile(to, []byte("b"), 0o644)
	if err := RenameNoReplace(from, to); err == nil || err.Error() != to+" already exists" {
		t.Errorf("err = %v, want %q", err, to+" already exists")
	}
	if b, _ := os.ReadFile(to); string(b) != "b" {
		t.Errorf("%s changed: %q", to, b)
	}
}

package fsutil

import (
	"io/fs"
	"testing"
)

// TestPrivateSDDL: the DACL a private file gets on Windows grants the user,
// SYSTEM and Administrators full access and nothing else, protected from
// inherited entries; a private directory passes it on to its entries.
func TestPrivateSDDL(t *testing.T) {
	const sid = "S-1-5-21-1004336348-1177238915-682003330-1001"
	for _, tc := range []struct {
		dir  bool
		want string
	}{
		{false, "D:P(A;;FA;;;" + sid + ")(A;;FA;;;SY)(A;;FA;;;BA)"},
		{true, "D:P(A;OICI;FA;;;" + sid + ")(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"},
	} {
		if got := PrivateSDDL(sid, tc.dir); got != tc.want {
			t.Errorf("PrivateSDDL(dir=%v) = %s, want %s", tc.dir, got, tc.want)
		}
	}
	for perm, want := range map[uint32]bool{0o600: true, 0o400: true, 0o700: true, 0o640: false, 0o644: false, 0o604: false, 0o602: false} {
		if got := IsPrivate(fs.FileMode(perm)); got != want {
			t.Errorf("IsPrivate(%04o) = %v, want %v", perm, got, want)
		}
	}
}

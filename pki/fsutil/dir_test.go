package fsutil

import (
	"path"
	"testing"
)

func TestJoin(t *testing.T) {
	for _, c := range [][2]string{
		{"/etc/docker/certs.d", "reg:5000"}, {"etc/docker", "ca.crt"}, {"/", "etc"}, {".", "a"}, {"", "a"},
		{"/etc/", "a"}, {"/etc//x", "a"}, {"/etc/./x", "a"}, {"/etc", ".."}, {"/etc", "."}, {"/etc", ""},
		{"/etc", "a/b"}, {"/etc", "../x"}, {"a/../b", "c"}, {"/etc", "é\xff"},
	} {
		if got, want := Join(c[0], c[1]), path.Join(c[0], c[1]); got != want {
			t.Errorf("Join(%q, %q) = %q, path.Join says %q", c[0], c[1], got, want)
		}
	}
}

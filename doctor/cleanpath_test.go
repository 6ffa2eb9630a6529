package doctor

import (
	"path"
	"testing"
)

func TestCleanPathAsPath(t *testing.T) {
	for _, p := range []string{"", "/", ".", "..", "a", "/a", "/a/", "a/", "//a", "/a//b", "/a/./b", "/a/../b", "/a/b/..", "/a/b/.",
		"./a", "../a", "a/..", "/etc/docker/certs.d/reg:5000/ca.crt", "etc/docker/certs.d", "/.", "/..", "/...", "/a/.b", "/a/b.", "/a/..b", "a//", "/ /x"} {
		if got, want := cleanPath(p), path.Clean(p); got != want {
			t.Errorf("cleanPath(%q) = %q, path.Clean %q", p, got, want)
		}
		if got, want := dirOf(p), path.Dir(p); got != want {
			t.Errorf("dirOf(%q) = %q, path.Dir %q", p, got, want)
		}
		if isClean(p) && path.Clean(p) != p {
			t.Errorf("isClean(%q) but path.Clean gives %q", p, path.Clean(p))
		}
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/a/b", "a/../b", "//", "/a/./b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := cleanPath(p), path.Clean(p); got != want {
			t.Errorf("cleanPath(%q) = %q, path.Clean %q", p, got, want)
		}
		if got, want := dirOf(p), path.Dir(p); got != want {
			t.Errorf("dirOf(%q) = %q, path.Dir %q", p, got, want)
		}
	})
}

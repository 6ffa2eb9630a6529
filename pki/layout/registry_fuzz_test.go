package layout_test

import (
	"path/filepath"
	"strings"
	"testing"

	. "github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker-tls/docker-tls/pki/loader"
)

// FuzzParseRegistryHost checks that an accepted registry host is a valid
// host and port, that it parses back to itself from its String form, and
// that the certs.d directory names derived from it are single, safe path
// components (docker-tls creates these directories as root).
func FuzzParseRegistryHost(f *testing.F) {
	for _, s := range []string{
		"myreg:5000", "myreg", "https://myreg:5000/v2/", "myreg:5000/v2/", "[::1]:5000", "[::1]",
		"registry.example.com:443", "10.0.0.5:5000", "http://insecure.example:5000", "", "myreg:99999",
		"myreg:", "myreg:5000/team/app", "ftp://myreg", "::1", "MyReg:5000", "user@myreg", "-bad:5000",
		"[1.2.3.4]:5000", "[::ffff:1.2.3.4]:1", "a..b", "..", ".", "a/../b", `a\b`, "[fe80::1%eth0]:5000",
		"https://", "https:///v2/", "a:+5000", "a:05000", "[::1]x", "[::1", "a_b.example:1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, notes, err := ParseRegistryHost(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid registry host ") && !strings.HasPrefix(err.Error(), "empty registry host") {
				t.Fatalf("ParseRegistryHost(%q): error %q", s, err)
			}
			return
		}
		_ = notes
		if h.Host == "" || h.Port < 0 || h.Port > 65535 {
			t.Fatalf("ParseRegistryHost(%q) = %+v", s, h)
		}
		again, _, err := ParseRegistryHost(h.String())
		if err != nil || again != h {
			t.Fatalf("round trip of %q via %q: %+v %v, want %+v", s, h.String(), again, err, h)
		}
		names := append([]string{h.DirName("linux"), h.DirName("windows")}, loader.ContainerdHostPaths("", h.String(), "linux")...)
		names = append(names, loader.ContainerdHostPaths("", h.String(), "windows")...)
		for _, n := range names {
			if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\\x00") || filepath.Base(n) != n {
				t.Fatalf("ParseRegistryHost(%q): unsafe directory name %q", s, n)
			}
		}
		if h.DirName("linux") != h.String() {
			t.Fatalf("DirName(linux) = %q, String = %q", h.DirName("linux"), h.String())
		}
		if cd := loader.ContainerdHostPaths("", h.String(), "linux"); cd[len(cd)-2] != h.String() {
			t.Fatalf("ContainerdHostPaths = %q", cd)
		}
	})
}

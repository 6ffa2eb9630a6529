package layout

import (
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestContextIDMatchesDockerCLI(t *testing.T) {
	for _, name := range []string{"default", "tls-prod", "ünïcode"} {
		if got, want := ContextID(name), digest.FromString(name).Encoded(); got != want {
			t.Errorf("ContextID(%q) = %s, docker/cli uses %s", name, got, want)
		}
	}
	if got := ContextTLSDir("/h/.docker", "x"); !strings.HasSuffix(got, "/contexts/tls/"+ContextID("x")+"/docker") {
		t.Errorf("ContextTLSDir = %s", got)
	}
}

func TestParseRegistryHost(t *testing.T) {
	for in, want := range map[string]struct {
		dir, win string
		notes    int
	}{
		"myreg:5000":                   {"myreg:5000", "myreg5000", 0},
		"myreg":                        {"myreg", "myreg", 0},
		"https://myreg:5000/v2/":       {"myreg:5000", "myreg5000", 1},
		"myreg:5000/v2/":               {"myreg:5000", "myreg5000", 1},
		"[::1]:5000":                   {"[::1]:5000", "[1]5000", 0},
		"registry.example.com:443":     {"registry.example.com:443", "registry.example.com443", 0},
		"10.0.0.5:5000":                {"10.0.0.5:5000", "10.0.0.55000", 0},
		"http://insecure.example:5000": {"insecure.example:5000", "insecure.example5000", 2},
	} {
		h, notes, err := ParseRegistryHost(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if h.DirName("linux") != want.dir || h.DirName("windows") != want.win || len(notes) != want.notes {
			t.Errorf("%s: dir=%s win=%s notes=%q", in, h.DirName("linux"), h.DirName("windows"), notes)
		}
	}
	for in, want := range map[string]string{
		"":                    "empty registry host: expected host[:port], for example myreg:5000",
		"myreg:99999":         `invalid registry host "myreg:99999": port "99999" is not a number from 1 to 65535`,
		"myreg:":              `invalid registry host "myreg:": empty port after ':'`,
		"myreg:5000/team/app": `invalid registry host "myreg:5000/team/app": it has a path ("/team/app"); expected host[:port] without a repository or path`,
		"ftp://myreg":         `invalid registry host "ftp://myreg": scheme "ftp", expected host[:port]`,
		"::1":                 `invalid registry host "::1": write an IPv6 address in brackets, for example [::1]:5000`,
		"MyReg:5000":          `invalid registry host "MyReg:5000": Docker image references need a lower-case host name ("myreg")`,
		"user@myreg":          `invalid registry host "user@myreg": expected host[:port]`,
		"-bad:5000":           `invalid registry host "-bad:5000": "-bad" is not a valid host name`,
	} {
		if _, _, err := ParseRegistryHost(in); err == nil || err.Error() != want {
			t.Errorf("ParseRegistryHost(%q) = %v, want %q", in, err, want)
		}
	}
}

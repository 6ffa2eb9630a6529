package probe

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseTarget checks that an accepted target has a host and a valid
// port, dials the address it names, and parses back to itself from the
// form it is shown in (String).
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{
		"docker.example.com:2376", "docker.example.com", "tcp://10.0.0.5:2376", "[::1]:2376", "[::1]",
		"https://registry.example", "https://registry.example:5000/v2/", "myreg:5000", "", "unix:///var/run/docker.sock",
		"http://h:2375", "h:0", "::1", "tcp://h:2376/path", "tcp://[fe80::1%25eth0]:2376", "tcp://user@h:1",
		"tcp://h:1?x=y#f", "h:65536", "h:-1", "h:+1", "[::1]:", "tcp://:2376", "https://[::ffff:1.2.3.4]:443",
		"ssh://me@h", " h:1 ", "h]:1", "[h]:1",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, registry bool) {
		tg, err := ParseTarget(s, registry)
		if err != nil {
			return
		}
		if tg.Host == "" || tg.Port < 1 || tg.Port > 65535 {
			t.Fatalf("ParseTarget(%q) = %+v", s, tg)
		}
		if registry && tg.Role != RoleRegistry {
			t.Fatalf("ParseTarget(%q, registry) = role %s", s, tg.Role)
		}
		h, p, err := net.SplitHostPort(tg.Addr())
		if err != nil || h != tg.Host || p != strconv.Itoa(tg.Port) {
			t.Fatalf("Addr() = %q: %q %q %v", tg.Addr(), h, p, err)
		}
		again, err := ParseTarget(tg.String(), false)
		if err != nil || again.Host != tg.Host || again.Port != tg.Port || again.Role != tg.Role {
			t.Fatalf("round trip of %q via %q: %+v %v, want %+v", s, tg.String(), again, err, tg)
		}
		if strings.ContainsAny(tg.Host, " /\t\r\n%@#?") {
			t.Fatalf("ParseTarget(%q): host %q", s, tg.Host)
		}
		// The probe builds URLs from the target: they must parse (a nil
		// request once crashed the registry probe on "[fe80::1%25eth0]").
		for _, u := range []string{"https://" + tg.HostPort() + "/v2/", "tcp://" + tg.Addr()} {
			if _, err := url.Parse(u); err != nil {
				t.Fatalf("ParseTarget(%q): URL %q: %v", s, u, err)
			}
		}
	})
}

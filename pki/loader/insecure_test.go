package loader

import (
	"errors"
	"net"
	"strings"
	"testing"
)

func TestMobyInsecure(t *testing.T) {
	hosts := map[string][]net.IP{
		"localhost":    {net.ParseIP("127.0.0.1")},
		"reg.lan":      {net.ParseIP("10.1.2.3")},
		"v6.localhost": {net.ParseIP("::1")},
	}
	lookup := func(h string) ([]net.IP, error) {
		if ips, ok := hosts[h]; ok {
			return ips, nil
		}
		return nil, errors.New("no such host")
	}
	for _, c := range []struct {
		cfg   DockerdRegistryConfig
		index string
		want  bool
		why   string
	}{
		{DockerdRegistryConfig{Major: 20}, "127.0.0.1:5000", true, "dockerd treats 127.0.0.0/8 as insecure by default"},
		{DockerdRegistryConfig{Major: 20}, "127.1.2.3", true, "127.0.0.0/8"},
		{DockerdRegistryConfig{Major: 20}, "localhost:5000", true, "localhost resolves to 127.0.0.1: dockerd treats 127.0.0.0/8 as insecure by default"},
		// ::1 joined the defaults in Docker 28 (moby#48540).
		{DockerdRegistryConfig{Major: 27}, "[::1]:5000", false, ""},
		{DockerdRegistryConfig{Major: 28}, "[::1]:5000", true, "dockerd treats ::1/128 as insecure by default"},
		{DockerdRegistryConfig{Major: 28}, "v6.localhost:5000", true, "::1/128"},
		{DockerdRegistryConfig{Major: 28}, "reg.lan:5000", false, ""},
		{DockerdRegistryConfig{Major: 28}, "unknown.example:5000", false, ""},
		// host:port entries match exactly; http:// is stripped as dockerd does.
		{DockerdRegistryConfig{Major: 28, Insecure: []string{"reg.lan:5000"}}, "reg.lan:5000", true, `"insecure-registries" lists reg.lan:5000`},
		{DockerdRegistryConfig{Major: 28, Insecure: []string{"reg.lan:5000"}}, "reg.lan:5001", false, ""},
		{DockerdRegistryConfig{Major: 28, Insecure: []string{"reg.lan"}}, "reg.lan:5000", false, ""},
		{DockerdRegistryConfig{Major: 28, Insecure: []string{"http://reg.lan:5000"}}, "reg.lan:5000", true, "http://reg.lan:5000"},
		// CIDRs match the resolved addresses.
		{DockerdRegistryConfig{Major: 28, Insecure: []string{"10.0.0.0/8"}}, "reg.lan:5000", true, `reg.lan resolves to 10.1.2.3: dockerd's "insecure-registries" lists 10.0.0.0/8`},
		{DockerdRegistryConfig{Major: 28, Insecure: []string{"10.0.0.0/8"}}, "unknown.example:5000", false, ""},
		// /info's lists already carry the defaults (and only them).
		{DockerdRegistryConfig{Major: 28, FromInfo: true, Insecure: []string{"127.0.0.0/8", "::1/128"}}, "localhost:5000", true, "dockerd treats 127.0.0.0/8 as insecure by default"},
		{DockerdRegistryConfig{Major: 28, FromInfo: true, Insecure: []string{"127.0.0.0/8", "::1/128", "reg.lan:5000"}}, "reg.lan:5000", true, "the daemon lists reg.lan:5000 as an insecure registry (/info)"},
		{DockerdRegistryConfig{Major: 28, FromInfo: true}, "localhost:5000", false, ""},
	} {
		got := MobyInsecure(c.cfg, c.index, lookup)
		if got.Insecure != c.want || !strings.Contains(got.Why, c.why) || got.ReadsCertsD {
			t.Errorf("%+v %s: %+v, want insecure %v why containing %q", c.cfg, c.index, got, c.want, c.why)
		}
	}
}

func TestContainerdStoreInsecure(t *testing.T) {
	lookup := func(h string) ([]net.IP, error) { return []net.IP{net.ParseIP("127.0.0.1")}, nil }
	for _, c := range []struct {
		index    string
		explicit bool
		cfg      DockerdRegistryConfig
		want     bool
	}{
		{"localhost:5000", false, DockerdRegistryConfig{}, true},
		{"127.0.0.1:5000", false, DockerdRegistryConfig{}, true},
		{"[::1]:5000", false, DockerdRegistryConfig{}, true},
		{"localhost", false, DockerdRegistryConfig{}, false},     // 443: HTTPS only, verified
		{"localhost:443", false, DockerdRegistryConfig{}, false}, // idem
		// A name resolving to loopback is not containerd's localhost, and
		// dockerd's own rules apply only with explicit configuration.
		{"loop.test:5000", false, DockerdRegistryConfig{}, false},
		{"loop.test:5000", true, DockerdRegistryConfig{Insecure: []string{"192.0.2.0/24"}}, true},
	} {
		got := ContainerdStoreInsecure(c.cfg, c.index, c.explicit, lookup)
		if got.Insecure != c.want || !got.ReadsCertsD {
			t.Errorf("%s (explicit %v): %+v, want insecure %v", c.index, c.explicit, got, c.want)
		}
	}
}

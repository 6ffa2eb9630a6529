package loader

import (
	"net"
	"net/netip"
	"strings"
)

// DockerdRegistryConfig is what dockerd's registry service is configured
// with: daemon.json "insecure-registries" and "registry-mirrors" and the
// --insecure-registry and --registry-mirror flags, or, better, the running
// daemon's own answer (/info RegistryConfig).
type DockerdRegistryConfig struct {
	// Major is the dockerd major version (0 when unknown: the newest
	// rules).
	Major int
	// Insecure are the configured entries, as the user wrote them (CIDRs,
	// host[:port], optionally with http:// or https://).
	Insecure []string
	// Mirrors are registry-mirrors, as configured.
	Mirrors []string
	// FromInfo: Insecure holds /info's InsecureRegistryCIDRs and the names
	// of its insecure IndexConfigs, which already include the defaults.
	FromInfo bool
}

// Insecurity says whether dockerd treats a registry as insecure, and why.
type Insecurity struct {
	Insecure bool
	// Why names the rule ("127.0.0.0/8 is insecure by default",
	// `"insecure-registries" lists 10.0.0.0/8`).
	Why string
	// ReadsCertsD: dockerd still reads /etc/docker/certs.d/<host> for it
	// (the containerd image store does; the classic store never reads it
	// for an insecure registry: registry.newTLSConfig).
	ReadsCertsD bool
}

// DefaultInsecureCIDRs are the ranges dockerd treats as insecure without
// configuration (moby registry/config.go loadInsecureRegistries):
// 127.0.0.0/8 always, ::1/128 from Docker 28 (moby#48540).
func DefaultInsecureCIDRs(major int) []string {
	if major > 0 && major < 28 {
		return []string{"127.0.0.0/8"}
	}
	return []string{"::1/128", "127.0.0.0/8"}
}

// MobyInsecure is moby's classic registry service's answer for indexName
// (the registry part of an image reference, host[:port]): an exact
// host:port entry of insecure-registries, else a CIDR (the defaults
// included) containing the host's address, the host resolved with lookup
// when it is a name (moby isCIDRMatch; a failed lookup matches nothing).
func MobyInsecure(cfg DockerdRegistryConfig, indexName string, lookup func(string) ([]net.IP, error)) Insecurity {
	var cidrs []netip.Prefix
	cidrWhy := map[netip.Prefix]string{}
	entries := cfg.Insecure
	if !cfg.FromInfo {
		for _, d := range DefaultInsecureCIDRs(cfg.Major) {
			p := netip.MustParsePrefix(d)
			cidrs = append(cidrs, p)
			cidrWhy[p] = "dockerd treats " + d + " as insecure by default"
		}
	}
	for _, e := range entries {
		r := e
		if l := strings.ToLower(r); strings.HasPrefix(l, "http://") {
			r = r[7:]
		} else if strings.HasPrefix(l, "https://") {
			r = r[8:]
		}
		if p, err := netip.ParsePrefix(r); err == nil {
			p = p.Masked()
			cidrs = append(cidrs, p)
			if _, ok := cidrWhy[p]; !ok {
				cidrWhy[p] = describeInsecureEntry(cfg, e, p)
			}
			continue
		}
		if r == indexName {
			why := `dockerd's "insecure-registries" lists ` + e
			if cfg.FromInfo {
				why = "the daemon lists " + e + " as an insecure registry (/info)"
			}
			return Insecurity{Insecure: true, Why: why}
		}
	}
	if len(cidrs) == 0 {
		return Insecurity{}
	}
	host := indexName
	if h, _, err := net.SplitHostPort(indexName); err == nil {
		host = h
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addrs = append(addrs, a)
	} else if lookup != nil {
		ips, err := lookup(host)
		if err != nil {
			return Insecurity{}
		}
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip); ok {
				addrs = append(addrs, a.Unmap())
			}
		}
	}
	for _, a := range addrs {
		for _, p := range cidrs {
			if p.Contains(a.Unmap()) {
				why := cidrWhy[p]
				if a.String() != host {
					why = host + " resolves to " + a.String() + ": " + why
				}
				return Insecurity{Insecure: true, Why: why}
			}
		}
	}
	return Insecurity{}
}

func describeInsecureEntry(cfg DockerdRegistryConfig, e string, p netip.Prefix) string {
	if cfg.FromInfo {
		if def := DefaultInsecureCIDRs(cfg.Major); containsString(def, p.String()) {
			return "dockerd treats " + p.String() + " as insecure by default"
		}
		return "the daemon lists " + p.String() + " as insecure (/info)"
	}
	return `dockerd's "insecure-registries" lists ` + e
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// ContainerdStoreInsecure is dockerd's answer with the containerd image
// store (moby daemon/hosts.go RegistryHosts on containerd's
// ConfigureHosts): without a hosts.toml, containerd itself skips
// verification and falls back to plain HTTP for "localhost" and loopback
// IP literals on a port other than 443 (IsLocalhost: a name that resolves
// to a loopback address does not count); dockerd adds its own insecure
// rules (mergeLegacyConfig) only when insecure-registries or
// registry-mirrors are configured. certs.d is read either way.
func ContainerdStoreInsecure(cfg DockerdRegistryConfig, indexName string, explicitConfig bool, lookup func(string) ([]net.IP, error)) Insecurity {
	host, port := indexName, ""
	if h, p, err := net.SplitHostPort(indexName); err == nil {
		host, port = h, p
	}
	loopback := host == "localhost"
	if a, err := netip.ParseAddr(host); err == nil && a.IsLoopback() {
		loopback = true
	}
	if loopback && port != "" && port != "443" {
		return Insecurity{Insecure: true, ReadsCertsD: true, Why: "containerd (dockerd's containerd image store) skips verification and falls back to plain HTTP for " + host + " on a port other than 443"}
	}
	if explicitConfig {
		if in := MobyInsecure(cfg, indexName, lookup); in.Insecure {
			in.ReadsCertsD = true
			return in
		}
	}
	return Insecurity{ReadsCertsD: true}
}

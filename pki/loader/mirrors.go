package loader

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Mirror is one "registry-mirrors" entry (daemon.json) or --registry-mirror
// flag as dockerd keeps it (moby registry/config.go loadMirrors).
type Mirror struct {
	// Raw is the entry as configured.
	Raw string
	// URL is the entry as dockerd keeps it and /info's
	// RegistryConfig.Mirrors lists it: a trailing slash added.
	URL string
	// Scheme is "https" or "http". dockerd speaks plain HTTP to an http://
	// mirror: no TLS, no certificate checks.
	Scheme string
	// Host is the mirror's host[:port], as an image reference would name
	// it (and so the certs.d directory moby's classic store reads for it).
	Host string
	// Path is the URL's path ("" or "/" for none; accepted from Docker 25).
	Path string
}

// mirrorRules are the three generations of moby's ValidateMirror.
type mirrorRules int

const (
	// mirrorRules20: Docker 20.10–24: no path; Docker 20.10 does not wrap
	// url.Parse's error, 23–24 do.
	mirrorRules20 mirrorRules = iota
	// mirrorRules25: Docker 25–28.2: a path is allowed.
	mirrorRules25
	// mirrorRules28: Docker 28.3+: a missing scheme is named as such, and
	// the scheme errors say which schemes are allowed.
	mirrorRules28
)

func mirrorRulesFor(version string) (mirrorRules, bool) {
	maj, min := versionNumbers(version)
	switch {
	case maj == 0, maj > 28, maj == 28 && min >= 3:
		return mirrorRules28, true
	case maj >= 25:
		return mirrorRules25, true
	}
	return mirrorRules20, maj >= 23
}

// versionNumbers reads major and minor from a Docker version ("28.5.2",
// "20.10.24+dfsg1", "v29.0.0"); 0, 0 when it is not one.
func versionNumbers(v string) (int, int) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.SplitN(v, ".", 3)
	maj, err := strconv.Atoi(parts[0])
	if err != nil || maj <= 0 {
		return 0, 0
	}
	min := 0
	if len(parts) > 1 {
		d := parts[1]
		if i := strings.IndexFunc(d, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			d = d[:i]
		}
		min, _ = strconv.Atoi(d)
	}
	return maj, min
}

// ValidateMirror is dockerd's check of one registry-mirrors entry (moby
// registry/config.go ValidateMirror for the dockerd version: "" means the
// newest): the normalised URL, or the error dockerd refuses to start with
// (behind `invalid argument "…" for "--registry-mirror" flag: ` for the
// flag, and, from Docker 23, behind daemon.json's file name).
func ValidateMirror(version, raw string) (string, error) {
	rules, wrap := mirrorRulesFor(version)
	if rules == mirrorRules28 {
		// url.Parse takes "host:port" for scheme "host": dockerd names the
		// missing scheme first.
		if scheme, _, ok := strings.Cut(raw, "://"); !ok || scheme == "" {
			return "", fmt.Errorf("invalid mirror: no scheme specified for %q: must use either 'https://' or 'http://'", raw)
		}
	}
	uri, err := url.Parse(raw)
	if err != nil {
		if wrap {
			return "", fmt.Errorf("invalid mirror: %q is not a valid URI: %w", raw, err)
		}
		return "", fmt.Errorf("invalid mirror: %q is not a valid URI", raw)
	}
	if uri.Scheme != "http" && uri.Scheme != "https" {
		if rules == mirrorRules28 {
			return "", fmt.Errorf("invalid mirror: unsupported scheme %q in %q: must use either 'https://' or 'http://'", uri.Scheme, uri)
		}
		return "", fmt.Errorf("invalid mirror: unsupported scheme %q in %q", uri.Scheme, uri)
	}
	if rules == mirrorRules20 {
		if (uri.Path != "" && uri.Path != "/") || uri.RawQuery != "" || uri.Fragment != "" {
			return "", fmt.Errorf("invalid mirror: path, query, or fragment at end of the URI %q", uri)
		}
	} else if uri.RawQuery != "" || uri.Fragment != "" {
		return "", fmt.Errorf("invalid mirror: query or fragment at end of the URI %q", uri)
	}
	if uri.User != nil {
		// dockerd hides the password.
		uri.User = url.UserPassword(uri.User.Username(), "xxxxx")
		return "", fmt.Errorf("invalid mirror: username/password not allowed in URI %q", uri)
	}
	return strings.TrimSuffix(raw, "/") + "/", nil
}

// LoadMirrors is dockerd's loadMirrors: every entry validated in order
// (the first bad one is the error dockerd refuses to start with; the
// entries before it are returned too), duplicates after normalisation
// dropped, first one kept.
func LoadMirrors(version string, entries []string) ([]Mirror, error) {
	var out []Mirror
	seen := map[string]bool{}
	for _, e := range entries {
		u, err := ValidateMirror(version, e)
		if err != nil {
			return out, err
		}
		if seen[u] {
			continue
		}
		seen[u] = true
		pu, err := url.Parse(u)
		if err != nil {
			return out, fmt.Errorf("invalid mirror: %q is not a valid URI: %w", e, err)
		}
		out = append(out, Mirror{Raw: e, URL: u, Scheme: pu.Scheme, Host: pu.Host, Path: pu.Path})
	}
	return out, nil
}

// MirrorFor finds the mirror whose host[:port] is hostPort (a registry
// target as the user typed it: "mirror:5000", "mirror" for port 443).
func MirrorFor(mirrors []Mirror, hostPort string) (Mirror, bool) {
	for _, m := range mirrors {
		if strings.EqualFold(m.Host, hostPort) || strings.EqualFold(defaultPort(m), hostPort) {
			return m, true
		}
	}
	return Mirror{}, false
}

func defaultPort(m Mirror) string {
	if _, _, err := net.SplitHostPort(m.Host); err == nil || m.Host == "" {
		return m.Host
	}
	if m.Scheme == "http" {
		return net.JoinHostPort(strings.Trim(m.Host, "[]"), "80")
	}
	return net.JoinHostPort(strings.Trim(m.Host, "[]"), "443")
}

// MirrorsApply reports whether dockerd consults registry-mirrors for a
// registry (the domain of an image reference): only for Docker Hub
// (moby registry/service.go lookupV2Endpoints: docker.io or
// index.docker.io; daemon/hosts.go mergeLegacyConfig: docker.io). An image
// from any other registry never goes through a mirror, and pushes never do.
func MirrorsApply(indexName string) bool {
	return indexName == "docker.io" || indexName == "index.docker.io"
}

// MirrorAccess is how dockerd reaches a mirror for a pull from Docker Hub.
type MirrorAccess struct {
	// Plain: an http:// mirror, spoken to in plain HTTP: no TLS, so no
	// certificate checks and no certs.d.
	Plain bool
	// CertsDirHost names the certs.d directory (under /etc/docker/certs.d)
	// whose files dockerd uses for the mirror: the mirror's own host[:port]
	// with the classic store (registry.newTLSConfig on the mirror's host);
	// "docker.io" with the containerd image store, whose mirror hosts are
	// copies of docker.io's, transport included (daemon/hosts.go
	// mirrorsToRegistryHosts). "" when none is read (plain, or an insecure
	// mirror with the classic store).
	CertsDirHost string
	// Insecure: dockerd treats the mirror's address as insecure
	// (loopback, insecure-registries) and skips verification.
	Insecure Insecurity
}

// sharedTransportInsecure: with the containerd image store, docker.io's
// mirror hosts are copies of docker.io's host and share its *http.Client;
// mergeLegacyConfig walks them in order and, at the first one whose host
// is insecure, sets InsecureSkipVerify on that shared transport and wraps
// it in containerd's HTTP fallback. So one insecure mirror (an http://
// one on 127.0.0.1 included) turns verification off for every mirror and
// for docker.io itself.
func sharedTransportInsecure(cfg DockerdRegistryConfig, lookup func(string) ([]net.IP, error)) Insecurity {
	ms, _ := LoadMirrors("", cfg.Mirrors)
	for _, o := range ms {
		if in := MobyInsecure(cfg, o.Host, lookup); in.Insecure {
			in.Why = "mirror " + o.URL + " is insecure (" + in.Why + "), and with the containerd image store docker.io and all its mirrors share one transport, which dockerd then sets to skip verification"
			return in
		}
	}
	return Insecurity{}
}

// MirrorAccessFor is dockerd's treatment of mirror m: moby's classic store
// (registry/service.go lookupV2Endpoints: one endpoint per mirror, its TLS
// configuration from newTLSConfig for the mirror's host, no plain-HTTP
// fallback) or, with containerdStore, moby 28's mergeLegacyConfig.
func MirrorAccessFor(cfg DockerdRegistryConfig, m Mirror, containerdStore bool, lookup func(string) ([]net.IP, error)) MirrorAccess {
	in := MobyInsecure(cfg, m.Host, lookup)
	if m.Scheme == "http" {
		return MirrorAccess{Plain: true, Insecure: in}
	}
	if containerdStore {
		if !in.Insecure {
			in = sharedTransportInsecure(cfg, lookup)
		}
		return MirrorAccess{CertsDirHost: "docker.io", Insecure: in}
	}
	if in.Insecure {
		return MirrorAccess{Insecure: in}
	}
	return MirrorAccess{CertsDirHost: m.Host}
}

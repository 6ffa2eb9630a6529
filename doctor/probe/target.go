// Package probe performs the live part of the doctor: it walks the ladder
// resolve → connect → sniff → TLS handshake → server verification →
// client-certificate exchange → HTTP, with the TLS profile the docker client
// (or dockerd, for registries) uses, stops at the first failing rung, keeps
// the evidence gathered so far, and names the outcome from a closed set.
//
// It never sends anything but handshakes and read-only HTTP requests
// (GET /_ping and /version for a daemon, GET /v2/ for a registry), and never
// sends private key material anywhere.
package probe

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Role is what kind of endpoint a target is.
type Role string

const (
	RoleDaemon   Role = "daemon"
	RoleRegistry Role = "registry"
)

// Target is an endpoint to probe.
type Target struct {
	Role Role
	// Host as the user typed it (a name or an IP; IPv6 without brackets):
	// the server certificate is verified against exactly this.
	Host  string
	Port  int
	Input string
	// Unasked: the kind was taken, not learnt: nothing answered when the
	// intake asked (connection refused), so the fixes speak of a daemon
	// or a registry.
	Unasked bool
	// PlainHTTP: a registry reached over plain HTTP (an http:// registry
	// mirror), written http://.
	PlainHTTP bool
}

// Addr is host:port for dialing.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// HostPort is host:port as Docker writes it (brackets for IPv6; a registry
// on 443 without the port, as image references name it).
func (t Target) HostPort() string {
	h := t.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if t.Role == RoleRegistry && t.Port == 443 && !strings.HasSuffix(t.Input, ":443") {
		return h
	}
	return h + ":" + strconv.Itoa(t.Port)
}

// String renders the target the way the user would write it.
func (t Target) String() string {
	if t.Role == RoleRegistry && t.PlainHTTP {
		return "http://" + t.HostPort()
	}
	if t.Role == RoleRegistry {
		return "https://" + t.HostPort()
	}
	return "tcp://" + t.HostPort()
}

// ParseTarget accepts host:port and tcp://host:port (a daemon; port 2376
// when missing), https://host[:port] (a registry; port 443 when missing),
// or host[:port] with registry set. IPv6 literals go in brackets.
func ParseTarget(s string, registry bool) (Target, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Target{}, fmt.Errorf("empty target: expected host:port, tcp://host:port or https://host[:port]")
	}
	t := Target{Role: RoleDaemon, Input: in, Port: 2376}
	if registry {
		t.Role, t.Port = RoleRegistry, 443
	}
	rest := in
	if i := strings.Index(in, "://"); i >= 0 {
		u, err := url.Parse(in)
		if err != nil {
			return Target{}, fmt.Errorf("invalid target %q: %v", in, err)
		}
		switch u.Scheme {
		case "tcp":
			if registry {
				return Target{}, fmt.Errorf("invalid target %q: a registry is reached over https://, not tcp://", in)
			}
		case "https":
			t.Role, t.Port = RoleRegistry, 443
		case "unix", "npipe", "fd", "ssh":
			return Target{}, fmt.Errorf("target %q uses %s://: only TCP endpoints use TLS; nothing to probe", in, u.Scheme)
		case "http":
			return Target{}, fmt.Errorf("invalid target %q: http:// is plain HTTP; to probe a TLS registry use https://, for a daemon tcp://", in)
		default:
			return Target{}, fmt.Errorf("invalid target %q: unknown scheme %q, expected tcp:// or https://", in, u.Scheme)
		}
		if u.Path != "" && u.Path != "/" && !(t.Role == RoleRegistry && strings.HasPrefix(u.Path, "/v2")) {
			return Target{}, fmt.Errorf("invalid target %q: unexpected path %q", in, u.Path)
		}
		rest = u.Host
	} else if strings.ContainsAny(in, "/ ") {
		return Target{}, fmt.Errorf("invalid target %q: expected host:port, tcp://host:port or https://host[:port]", in)
	}
	host, portStr, err := net.SplitHostPort(rest)
	if err != nil {
		// No port.
		host = strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]")
		if strings.Count(rest, ":") > 1 && !strings.HasPrefix(rest, "[") {
			return Target{}, fmt.Errorf("invalid target %q: write an IPv6 address in brackets, for example [%s]:2376", in, rest)
		}
		if strings.Contains(host, ":") && net.ParseIP(host) == nil {
			return Target{}, fmt.Errorf("invalid target %q: %v", in, err)
		}
	} else {
		p, err := strconv.Atoi(portStr)
		if err != nil || p < 1 || p > 65535 {
			return Target{}, fmt.Errorf("invalid target %q: port %q is not a number from 1 to 65535", in, portStr)
		}
		t.Port = p
	}
	if host == "" {
		return Target{}, fmt.Errorf("invalid target %q: empty host", in)
	}
	if !validHost(host) {
		return Target{}, fmt.Errorf("invalid target %q: %q is not a host name or IP address", in, host)
	}
	t.Host = host
	return t, nil
}

// validHost accepts an IP address (without an IPv6 zone, which the docker
// client cannot use) or a name of letters, digits, '-', '_' and '.': the
// host goes into URLs, where '%', '@', '#' or '?' would change their meaning.
func validHost(h string) bool {
	if strings.Contains(h, "%") {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

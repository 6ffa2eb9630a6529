// Package layout is the one place that knows Docker's TLS file names and
// directories. Install and doctor both use it, so they cannot disagree.
package layout

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Client cert path ($DOCKER_CERT_PATH, ~/.docker, a context's TLS dir):
// what the docker CLI reads (docker/cli cli/flags DefaultCaFile etc.).
const (
	ClientCAFile   = "ca.pem"
	ClientCertFile = "cert.pem"
	ClientKeyFile  = "key.pem"
)

// Daemon material as written by `docker tls install daemon`, with the file
// names of the Docker docs' "Protect the Docker daemon socket" recipe.
const (
	DaemonCAFile   = "ca.pem"
	DaemonCertFile = "server-cert.pem"
	DaemonKeyFile  = "server-key.pem"
	// CA key as the docs recipe names it; never installed anywhere.
	CAKeyFile = "ca-key.pem"
)

// certs.d (registry client) names: .crt is a CA root, .cert+.key a client pair.
const (
	RegistryCAFile   = "ca.crt"
	RegistryCertFile = "client.cert"
	RegistryKeyFile  = "client.key"
	ExtCA            = ".crt"
	ExtCert          = ".cert"
	ExtKey           = ".key"
	HostsTOML        = "hosts.toml"
)

// System directories.
const (
	DefaultDaemonDir      = "/etc/docker"
	DaemonJSONName        = "daemon.json"
	DockerCertsDir        = "/etc/docker/certs.d"
	ContainerdCertsDir    = "/etc/containerd/certs.d"
	ContainersCertsDir    = "/etc/containers/certs.d"
	DefaultTLSPort        = 2376
	DefaultPlainPort      = 2375
	ConfigDirName         = ".docker"
	OwnTLSDirName         = "tls"
	ContextsDirName       = "contexts"
	ContextMetaDirName    = "meta"
	ContextTLSDirName     = "tls"
	ContextDockerEndpoint = "docker"
	// ContextMetaFile is the file in contexts/meta/<id>/ holding a context's endpoints.
	ContextMetaFile = "meta.json"
	// ClientConfigFile is the docker CLI's config file in the config dir
	// (currentContext, auths).
	ClientConfigFile = "config.json"
	// DefaultContextName is the docker CLI's built-in context (env and flags).
	DefaultContextName = "default"
	// DefaultUnixHost is the daemon socket the CLI uses when nothing is set.
	DefaultUnixHost = "unix:///var/run/docker.sock"
	// RootHome is the home directory of root, whose ~/.docker holds dockerd's
	// default --tlscacert/--tlscert/--tlskey when none are given.
	RootHome = "/root"
	// ContainerdDefaultHostDir is containerd's fallback host directory name.
	ContainerdDefaultHostDir = "_default"
	// XDGConfigDirName is the default $XDG_CONFIG_HOME under $HOME.
	XDGConfigDirName = ".config"
)

// ClientPathAliases are names users give client-path files by mistake,
// mapped to the name the docker CLI reads: certs.d names and the daemon
// recipe's names.
var ClientPathAliases = map[string]string{
	RegistryCAFile:    ClientCAFile,
	"ca.cert":         ClientCAFile,
	RegistryCertFile:  ClientCertFile,
	"client.crt":      ClientCertFile,
	"client.pem":      ClientCertFile,
	"cert.crt":        ClientCertFile,
	"client-cert.pem": ClientCertFile,
	RegistryKeyFile:   ClientKeyFile,
	"client-key.pem":  ClientKeyFile,
	"cert.key":        ClientKeyFile,
}

// CertsDAliases maps client-path names found in a certs.d directory to the
// name the registry loader reads.
var CertsDAliases = map[string]string{
	ClientCAFile:   RegistryCAFile,
	ClientCertFile: RegistryCertFile,
	ClientKeyFile:  RegistryKeyFile,
}

// DaemonOnlyFiles are file names that belong to a daemon (or the CA's
// private key) and never to a registry client directory.
var DaemonOnlyFiles = []string{DaemonCertFile, DaemonKeyFile, CAKeyFile}

// ConfigDir is the docker client config dir: $DOCKER_CONFIG, else ~/.docker,
// as docker/cli's config.Dir() decides.
func ConfigDir(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ConfigDirName)
}

// OwnDir is where docker-tls keeps its CA and issued material by default:
// <config dir>/tls, mode 0700.
func OwnDir(configDir string) string { return filepath.Join(configDir, OwnTLSDirName) }

// ContextID is the directory name docker/cli's context store uses for a
// context: the hex SHA-256 of its name.
func ContextID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// ContextMetaDir is contexts/meta/<id>.
func ContextMetaDir(configDir, name string) string {
	return filepath.Join(configDir, ContextsDirName, ContextMetaDirName, ContextID(name))
}

// ContextTLSDir is contexts/tls/<id>/docker, where the context's ca.pem,
// cert.pem and key.pem live.
func ContextTLSDir(configDir, name string) string {
	return filepath.Join(configDir, ContextsDirName, ContextTLSDirName, ContextID(name), ContextDockerEndpoint)
}

// RootlessCertsDir is rootless dockerd's certs.d: $XDG_CONFIG_HOME/docker/certs.d
// (XDG_CONFIG_HOME defaults to ~/.config).
func RootlessCertsDir(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	x := getenv("XDG_CONFIG_HOME")
	if x == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		x = filepath.Join(home, XDGConfigDirName)
	}
	return filepath.Join(x, "docker", "certs.d")
}

// RegistryHost is a registry host as written in image references.
type RegistryHost struct {
	Host string // name or IP, IPv6 without brackets
	Port int    // 0 when not given
}

// String renders host[:port] with brackets for IPv6.
func (r RegistryHost) String() string {
	h := r.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if r.Port == 0 {
		return h
	}
	return h + ":" + strconv.Itoa(r.Port)
}

// DirName is the certs.d directory name the classic Docker loader consults
// for this host: exactly host[:port] on Linux; Windows strips the colons.
func (r RegistryHost) DirName(goos string) string {
	s := r.String()
	if goos == "windows" {
		return strings.ReplaceAll(s, ":", "")
	}
	return s
}

// ContainerdDirNames are the directory names containerd's hosts loader
// probes, in order: host_port_ then host:port (then _default).
func (r RegistryHost) ContainerdDirNames() []string {
	if r.Port == 0 {
		return []string{r.String()}
	}
	h := r.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	return []string{fmt.Sprintf("%s_%d_", h, r.Port), r.String()}
}

// ParseRegistryHost normalises what a user typed for a registry: it accepts
// "myreg:5000", "https://myreg:5000/v2/" (scheme and path dropped, with a
// note) and IPv6 "[::1]:5000", and refuses anything ambiguous, naming it.
func ParseRegistryHost(s string) (RegistryHost, []string, error) {
	var notes []string
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return RegistryHost{}, nil, errors.New("empty registry host: expected host[:port], for example myreg:5000")
	}
	if i := strings.Index(s, "://"); i >= 0 {
		scheme := strings.ToLower(s[:i])
		if scheme != "https" && scheme != "http" {
			return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: scheme %q, expected host[:port]", orig, scheme)
		}
		s = s[i+3:]
		notes = append(notes, fmt.Sprintf("using %q from %q: certs.d directories are named by host[:port] only", strings.SplitN(s, "/", 2)[0], orig))
		if scheme == "http" {
			notes = append(notes, "the registry was given with http://: Docker only uses certs.d for TLS (https) registries")
		}
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		rest := s[i:]
		s = s[:i]
		if len(notes) == 0 {
			if strings.Trim(rest, "/") != "" && rest != "/v2/" && rest != "/v2" {
				return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: it has a path (%q); expected host[:port] without a repository or path", orig, rest)
			}
			notes = append(notes, fmt.Sprintf("using %q from %q: certs.d directories are named by host[:port] only", s, orig))
		}
	}
	if strings.ContainsAny(s, "@?# \t") {
		return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: expected host[:port]", orig)
	}
	host, portStr := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: unclosed '[' in IPv6 address", orig)
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: unexpected %q after IPv6 address", orig, rest)
			}
			portStr = rest[1:]
			if portStr == "" {
				return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: empty port after ':'", orig)
			}
		}
		if net.ParseIP(host) == nil {
			return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: %q is not an IPv6 address", orig, host)
		}
	} else if strings.Count(s, ":") > 1 {
		if net.ParseIP(s) != nil {
			return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: write an IPv6 address in brackets, for example [%s]:5000", orig, s)
		}
		return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: expected host[:port]", orig)
	} else if i := strings.IndexByte(s, ':'); i >= 0 {
		host, portStr = s[:i], s[i+1:]
		if portStr == "" {
			return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: empty port after ':'", orig)
		}
	}
	port := 0
	if portStr != "" {
		p, err := strconv.Atoi(portStr)
		if err != nil || p < 1 || p > 65535 {
			return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: port %q is not a number from 1 to 65535", orig, portStr)
		}
		port = p
	}
	if host == "" {
		return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: empty host name", orig)
	}
	if net.ParseIP(host) == nil {
		lower := strings.ToLower(host)
		if lower != host {
			return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: Docker image references need a lower-case host name (%q)", orig, lower)
		}
		for _, l := range strings.Split(host, ".") {
			if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
				return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: %q is not a valid host name", orig, host)
			}
			for _, r := range l {
				if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
					return RegistryHost{}, nil, fmt.Errorf("invalid registry host %q: %q is not a valid host name", orig, host)
				}
			}
		}
	}
	return RegistryHost{Host: host, Port: port}, notes, nil
}

package layout

import (
	"os"
	"path/filepath"
)

// Names used by `docker tls install-registry` (registry client material in
// certs.d directories).
const (
	// RootlessDockerSocket is the rootless dockerd socket's name in
	// $XDG_RUNTIME_DIR.
	RootlessDockerSocket = "docker.sock"
	// RootlessKitStateEnv is set by rootlesskit for the processes it starts
	// (dockerd-rootless.sh and everything in its namespace).
	RootlessKitStateEnv = "ROOTLESSKIT_STATE_DIR"
	// WindowsDockerCertsDir is dockerd's certs.d on Windows
	// (%PROGRAMDATA%\docker\certs.d), for display only.
	WindowsDockerCertsDir = `C:\ProgramData\docker\certs.d`
	// ContainerdConfigFile is containerd's default configuration, where the
	// CRI plugin's registry config_path is set.
	ContainerdConfigFile = "/etc/containerd/config.toml"
	// ContainerdHostsFileMode is the mode of hosts.toml (world-readable, like
	// the certificates it names).
	ContainerdHostsFileMode = 0o644
	// CertsDirMode is the mode of certs.d directories, as dockerd and the
	// distribution packages create them.
	CertsDirMode = 0o755
	// DefaultRegistryPort is the port a registry host without ":port" uses.
	DefaultRegistryPort = 443
)

// RootlessDockerSocketPath is $XDG_RUNTIME_DIR/docker.sock, where rootless
// dockerd listens ("" when XDG_RUNTIME_DIR is unset).
func RootlessDockerSocketPath(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	d := getenv("XDG_RUNTIME_DIR")
	if d == "" {
		return ""
	}
	return filepath.Join(d, RootlessDockerSocket)
}

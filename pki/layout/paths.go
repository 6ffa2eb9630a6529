package layout

import (
	"path"
	"strings"
)

// Per-OS client paths, as pure functions of the OS name (runtime.GOOS) and
// an environment getter, so that the rules for linux, darwin and windows are
// all tested on any machine.
//
// Sources:
//   - config dir: docker/cli cli/config.Dir(): $DOCKER_CONFIG, else
//     <home>/.docker, home from os.UserHomeDir ($HOME; %USERPROFILE% on
//     Windows).
//   - plugin dirs: docker/cli cli-plugins/manager getPluginDirs(): the
//     config file's cliPluginsExtraDirs, <config dir>/cli-plugins, then
//     defaultSystemPluginDirs (manager_unix.go, used on Linux and macOS;
//     manager_windows.go: %ProgramFiles%\Docker\cli-plugins, where Docker
//     Desktop for Windows installs its plugins). Docker Desktop for Mac
//     bundles its plugins in /Applications/Docker.app/Contents/Resources/cli-plugins
//     and adds that directory to cliPluginsExtraDirs.
//   - registry certificates: dockerd reads <certs.d>/<host:port>/ (moby
//     registry CertsDir: /etc/docker/certs.d; %ProgramData%\docker\certs.d
//     on Windows, where the colon is stripped: myreg5000). Docker Desktop
//     runs dockerd in a VM and copies the per-user ~/.docker/certs.d into it
//     (https://docs.docker.com/desktop/ FAQ "How do I add client
//     certificates?", docker/docs#3671, docker/docs#25771); CAs it trusts
//     come from the host's trust store (macOS keychain, Windows certificate
//     store), read when Desktop starts
//     (https://docs.docker.com/engine/security/certificates/, docker/for-mac#1320).

// DesktopMacPluginDir is where Docker Desktop for Mac bundles its CLI plugins.
const DesktopMacPluginDir = "/Applications/Docker.app/Contents/Resources/cli-plugins"

// DesktopContextName is the context Docker Desktop creates and selects.
const DesktopContextName = "desktop-linux"

// LinuxSystemPluginDirs are docker/cli's defaultSystemPluginDirs on every
// OS but Windows (cli-plugins/manager/manager_unix.go), in search order.
var LinuxSystemPluginDirs = []string{
	"/usr/local/lib/docker/cli-plugins",
	"/usr/local/libexec/docker/cli-plugins",
	"/usr/lib/docker/cli-plugins",
	"/usr/libexec/docker/cli-plugins",
}

// PackagePluginDir is where the docker-tls-plugin .deb and .rpm install
// the plugin, next to docker-buildx-plugin and docker-compose-plugin.
const PackagePluginDir = "/usr/libexec/docker/cli-plugins"

// Join joins path elements with goos's separator.
func Join(goos string, elem ...string) string {
	if goos != "windows" {
		return path.Join(elem...)
	}
	var parts []string
	for i, e := range elem {
		if e == "" {
			continue
		}
		if i > 0 {
			e = strings.TrimLeft(e, `\/`)
		}
		if len(parts) > 0 {
			parts[len(parts)-1] = strings.TrimRight(parts[len(parts)-1], `\/`)
		}
		parts = append(parts, e)
	}
	return strings.Join(parts, `\`)
}

// HomeDir is the home directory docker/cli uses on goos: $HOME, or
// %USERPROFILE% on Windows ("" when unset).
func HomeDir(goos string, getenv func(string) string) string {
	if goos == "windows" {
		return getenv("USERPROFILE")
	}
	return getenv("HOME")
}

// ConfigDirFor is the docker CLI's config dir on goos: $DOCKER_CONFIG, else
// <home>/.docker.
func ConfigDirFor(goos string, getenv func(string) string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	return Join(goos, HomeDir(goos, getenv), ConfigDirName)
}

// PluginDirs are the directories the docker CLI on goos searches for
// plugins, in order (after the config file's cliPluginsExtraDirs): the
// per-user <config dir>/cli-plugins, then the system directories.
func PluginDirs(goos string, getenv func(string) string) []string {
	dirs := []string{Join(goos, ConfigDirFor(goos, getenv), "cli-plugins")}
	if goos == "windows" {
		// manager_windows.go: filepath.Join(os.Getenv("ProgramFiles"), "Docker", "cli-plugins")
		return append(dirs, Join(goos, getenv("ProgramFiles"), "Docker", "cli-plugins"))
	}
	return append(dirs, LinuxSystemPluginDirs...)
}

// DesktopPluginDirs are the directories Docker Desktop on goos bundles its
// plugins in (found through cliPluginsExtraDirs on macOS, a system plugin
// dir on Windows).
func DesktopPluginDirs(goos string, getenv func(string) string) []string {
	switch goos {
	case "darwin":
		return []string{DesktopMacPluginDir}
	case "windows":
		return []string{Join(goos, getenv("ProgramFiles"), "Docker", "cli-plugins")}
	}
	return nil
}

// IsDesktop says whether the docker CLI on goos talks to Docker Desktop:
// always on macOS (Docker Engine does not run there natively), otherwise
// when the current context is Desktop's or its endpoint is Desktop's socket
// or named pipe.
func IsDesktop(goos, contextName, host string) bool {
	switch {
	case goos == "darwin":
		return true
	case contextName == DesktopContextName:
		return true
	case strings.Contains(host, "dockerDesktop"), strings.Contains(host, "/.docker/desktop/"):
		return true
	}
	return false
}

// RegistryCerts says where the docker daemon the CLI on goos talks to reads
// registry certificates, and where a registry's CA must go.
type RegistryCerts struct {
	// Dir is the certs.d root on this machine: <Dir>/<DirName>/ca.crt,
	// client.cert, client.key.
	Dir string
	// DirNameOS is the OS whose directory naming rule applies (windows
	// strips the colon).
	DirNameOS string
	// CAInTrustStore: the daemon trusts CAs from the OS trust store (Docker
	// Desktop on macOS and Windows; restart Desktop after adding one).
	CAInTrustStore bool
	// CopiedIntoVM: Docker Desktop copies Dir into its VM when it starts.
	CopiedIntoVM bool
}

// RegistryCertsFor is the docker target's certs.d on goos: Docker Desktop
// reads the per-user <home>/.docker/certs.d (copied into its VM, directory
// names without colons on Windows, where a file name cannot hold one);
// Docker Engine on Windows reads %ProgramData%\docker\certs.d (colons
// stripped); Docker Engine elsewhere /etc/docker/certs.d.
//
// Docker Desktop for Linux is not covered: its documentation names no
// per-user certs.d, so there the Engine's /etc/docker/certs.d is kept.
func RegistryCertsFor(goos string, getenv func(string) string, desktop bool) RegistryCerts {
	if desktop && goos != "linux" {
		return RegistryCerts{
			Dir:            Join(goos, HomeDir(goos, getenv), ConfigDirName, "certs.d"),
			DirNameOS:      goos,
			CAInTrustStore: goos == "darwin" || goos == "windows",
			CopiedIntoVM:   true,
		}
	}
	if goos == "windows" {
		pd := getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return RegistryCerts{Dir: Join(goos, pd, "docker", "certs.d"), DirNameOS: goos}
	}
	return RegistryCerts{Dir: DockerCertsDir, DirNameOS: goos}
}

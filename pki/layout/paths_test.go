package layout

import (
	"reflect"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestPathsPerOS: the docker CLI's config dir, plugin search dirs, Docker
// Desktop's bundled plugin dirs and the docker target's certs.d for each
// OS, from the OS name and environment only.
func TestPathsPerOS(t *testing.T) {
	linuxEnv := envOf(map[string]string{"HOME": "/home/ann"})
	macEnv := envOf(map[string]string{"HOME": "/Users/ann"})
	winEnv := envOf(map[string]string{"USERPROFILE": `C:\Users\ann`, "ProgramFiles": `C:\Program Files`, "ProgramData": `D:\ProgramData`, "HOME": "/ignored"})
	for _, tc := range []struct {
		goos           string
		env            func(string) string
		config         string
		plugins        []string
		desktopPlugins []string
		engineCerts    RegistryCerts
		desktopCerts   RegistryCerts
	}{
		{"linux", linuxEnv, "/home/ann/.docker",
			[]string{"/home/ann/.docker/cli-plugins", "/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins"},
			nil,
			RegistryCerts{Dir: "/etc/docker/certs.d", DirNameOS: "linux"},
			RegistryCerts{Dir: "/etc/docker/certs.d", DirNameOS: "linux"}},
		{"darwin", macEnv, "/Users/ann/.docker",
			[]string{"/Users/ann/.docker/cli-plugins", "/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins"},
			[]string{"/Applications/Docker.app/Contents/Resources/cli-plugins"},
			RegistryCerts{Dir: "/etc/docker/certs.d", DirNameOS: "darwin"},
			RegistryCerts{Dir: "/Users/ann/.docker/certs.d", DirNameOS: "darwin", CAInTrustStore: true, CopiedIntoVM: true}},
		{"windows", winEnv, `C:\Users\ann\.docker`,
			[]string{`C:\Users\ann\.docker\cli-plugins`, `C:\Program Files\Docker\cli-plugins`},
			[]string{`C:\Program Files\Docker\cli-plugins`},
			RegistryCerts{Dir: `D:\ProgramData\docker\certs.d`, DirNameOS: "windows"},
			RegistryCerts{Dir: `C:\Users\ann\.docker\certs.d`, DirNameOS: "windows", CAInTrustStore: true, CopiedIntoVM: true}},
	} {
		t.Run(tc.goos, func(t *testing.T) {
			if got := ConfigDirFor(tc.goos, tc.env); got != tc.config {
				t.Errorf("ConfigDirFor = %s, want %s", got, tc.config)
			}
			if got := PluginDirs(tc.goos, tc.env); !reflect.DeepEqual(got, tc.plugins) {
				t.Errorf("PluginDirs = %q, want %q", got, tc.plugins)
			}
			if got := DesktopPluginDirs(tc.goos, tc.env); !reflect.DeepEqual(got, tc.desktopPlugins) {
				t.Errorf("DesktopPluginDirs = %q, want %q", got, tc.desktopPlugins)
			}
			if got := RegistryCertsFor(tc.goos, tc.env, false); got != tc.engineCerts {
				t.Errorf("RegistryCertsFor(engine) = %+v, want %+v", got, tc.engineCerts)
			}
			if got := RegistryCertsFor(tc.goos, tc.env, true); got != tc.desktopCerts {
				t.Errorf("RegistryCertsFor(desktop) = %+v, want %+v", got, tc.desktopCerts)
			}
		})
	}
}

// TestPathsEnvOverrides: $DOCKER_CONFIG moves the config dir and the
// per-user plugin dir on every OS; Windows without %ProgramData% uses
// C:\ProgramData; a host directory name drops its colon on Windows only.
func TestPathsEnvOverrides(t *testing.T) {
	for goos, want := range map[string][]string{
		"linux":   {"/cfg", "/cfg/cli-plugins"},
		"darwin":  {"/cfg", "/cfg/cli-plugins"},
		"windows": {`E:\cfg`, `E:\cfg\cli-plugins`},
	} {
		dc := want[0]
		env := envOf(map[string]string{"DOCKER_CONFIG": dc, "HOME": "/h", "USERPROFILE": `C:\h`})
		if got := ConfigDirFor(goos, env); got != want[0] {
			t.Errorf("%s: ConfigDirFor = %s, want %s", goos, got, want[0])
		}
		if got := PluginDirs(goos, env)[0]; got != want[1] {
			t.Errorf("%s: per-user plugin dir = %s, want %s", goos, got, want[1])
		}
	}
	if got := RegistryCertsFor("windows", envOf(nil), false).Dir; got != `C:\ProgramData\docker\certs.d` {
		t.Errorf("windows certs.d without ProgramData = %s", got)
	}
	h := RegistryHost{Host: "myreg", Port: 5000}
	for goos, want := range map[string]string{"linux": "myreg:5000", "darwin": "myreg:5000", "windows": "myreg5000"} {
		// Desktop's per-user certs.d follows the host OS's naming rule.
		if got := h.DirName(RegistryCertsFor(goos, envOf(nil), true).DirNameOS); got != want {
			t.Errorf("%s: dir name %s, want %s", goos, got, want)
		}
	}
}

// TestIsDesktop: macOS is always Docker Desktop; elsewhere Desktop's
// context or its socket/pipe says so.
func TestIsDesktop(t *testing.T) {
	for _, tc := range []struct {
		goos, ctx, host string
		want            bool
	}{
		{"darwin", "default", "unix:///var/run/docker.sock", true},
		{"windows", "desktop-linux", "npipe:////./pipe/dockerDesktopLinuxEngine", true},
		{"windows", "default", "npipe:////./pipe/dockerDesktopLinuxEngine", true},
		{"windows", "default", "npipe:////./pipe/docker_engine", false},
		{"linux", "desktop-linux", "unix:///home/ann/.docker/desktop/docker.sock", true},
		{"linux", "default", "unix:///home/ann/.docker/desktop/docker.sock", true},
		{"linux", "default", "unix:///var/run/docker.sock", false},
		{"linux", "prod", "tcp://prod:2376", false},
	} {
		if got := IsDesktop(tc.goos, tc.ctx, tc.host); got != tc.want {
			t.Errorf("IsDesktop(%s, %s, %s) = %v, want %v", tc.goos, tc.ctx, tc.host, got, tc.want)
		}
	}
}

// TestJoinWindows: Windows paths are joined with backslashes, one between
// elements, and an empty %ProgramFiles% gives docker/cli's relative path.
func TestJoinWindows(t *testing.T) {
	for in, want := range map[[3]string]string{
		{`C:\Users\ann\`, ".docker", "cli-plugins"}: `C:\Users\ann\.docker\cli-plugins`,
		{"", "Docker", "cli-plugins"}:               `Docker\cli-plugins`,
	} {
		if got := Join("windows", in[:]...); got != want {
			t.Errorf("Join(windows, %q) = %s, want %s", in, got, want)
		}
	}
}

package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-tls/docker-tls/pki/layout"
)

// snapshot maps every path under root (links included, not followed) to
// its content or link target, for "nothing changed" checks.
func snapshot(t *testing.T, roots ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			fi, _ := os.Lstat(p)
			switch {
			case fi.Mode()&fs.ModeSymlink != 0:
				l, _ := os.Readlink(p)
				out[p] = "link:" + l
			case fi.Mode().IsRegular():
				b, _ := os.ReadFile(p)
				out[p] = fi.Mode().String() + ":" + string(b)
			default:
				out[p] = fi.Mode().String()
			}
			return nil
		})
	}
	return out
}

// TestInstallRefusesSymlinks plants a symbolic link to a stand-in for
// /etc/shadow (or to a stand-in for /etc) as a target file, a target
// directory, and the docker context store's directories: every install
// refuses with exit 2, names the link and its target, and changes nothing
// the link points to.
func TestInstallRefusesSymlinks(t *testing.T) {
	cfg := newConfig(t)
	mat := t.TempDir()
	mustRun(t, cfg, "init", "--san", "localhost", "--out", mat)
	m := func(n string) string { return filepath.Join(mat, n) }

	type plant struct {
		name string
		// setup plants the link under base and returns the arguments and
		// the link path the error must name.
		setup func(t *testing.T, base, cfg, shadow, victim string) ([]string, string)
	}
	client := func(dir string) []string {
		return []string{"install", "client", "--ca", m("ca.pem"), "--cert", m("cert.pem"), "--key", m("key.pem"), "--cert-path", dir}
	}
	daemon := func(dir, root string) []string {
		return []string{"install", "daemon", "--cert", m("server-cert.pem"), "--key", m("server-key.pem"), "--client-ca", m("ca.pem"), "--dir", dir, "--root", root}
	}
	ctxArgs := []string{"install", "client", "--ca", m("ca.pem"), "--cert", m("cert.pem"), "--key", m("key.pem"), "--context", "prod", "--host", "tcp://docker.example:2376"}
	link := func(t *testing.T, target, p string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	metaDir, tlsDir := layout.ContextMetaDir("", "prod"), layout.ContextTLSDir("", "prod")
	for _, pl := range []plant{
		{"client key file", func(t *testing.T, base, _, shadow, _ string) ([]string, string) {
			return client(base), link(t, shadow, filepath.Join(base, "key.pem"))
		}},
		{"client cert-path directory", func(t *testing.T, base, _, _, victim string) ([]string, string) {
			return client(filepath.Join(base, "certs")), link(t, victim, filepath.Join(base, "certs"))
		}},
		{"daemon key file", func(t *testing.T, base, _, shadow, _ string) ([]string, string) {
			return daemon(base, t.TempDir()), link(t, shadow, filepath.Join(base, "server-key.pem"))
		}},
		{"daemon.json", func(t *testing.T, base, _, shadow, _ string) ([]string, string) {
			return daemon(base, t.TempDir()), link(t, shadow, filepath.Join(base, "daemon.json"))
		}},
		{"daemon --dir directory", func(t *testing.T, base, _, _, victim string) ([]string, string) {
			return daemon(filepath.Join(base, "docker"), t.TempDir()), link(t, victim, filepath.Join(base, "docker"))
		}},
		{"contexts directory", func(t *testing.T, _, cfg, _, victim string) ([]string, string) {
			return ctxArgs, link(t, victim, filepath.Join(cfg, "contexts"))
		}},
		{"context tls/<id> directory", func(t *testing.T, _, cfg, _, victim string) ([]string, string) {
			return ctxArgs, link(t, victim, filepath.Dir(filepath.Join(cfg, tlsDir)))
		}},
		{"context tls/<id>/docker directory", func(t *testing.T, _, cfg, _, victim string) ([]string, string) {
			return ctxArgs, link(t, filepath.Join(victim, "docker"), filepath.Join(cfg, tlsDir))
		}},
		{"context meta/<id> directory", func(t *testing.T, _, cfg, _, victim string) ([]string, string) {
			return ctxArgs, link(t, victim, filepath.Join(cfg, metaDir))
		}},
		{"context meta.json", func(t *testing.T, _, cfg, shadow, _ string) ([]string, string) {
			return ctxArgs, link(t, shadow, filepath.Join(cfg, metaDir, "meta.json"))
		}},
		{"context key.pem", func(t *testing.T, _, cfg, shadow, _ string) ([]string, string) {
			return ctxArgs, link(t, shadow, filepath.Join(cfg, tlsDir, "key.pem"))
		}},
	} {
		t.Run(pl.name, func(t *testing.T) {
			tmp := t.TempDir()
			// Stand-ins for /etc/shadow and /etc, with what a write through
			// a link would clobber or remove.
			shadow := filepath.Join(tmp, "shadow")
			victim := filepath.Join(tmp, "etc")
			os.WriteFile(shadow, []byte("root:$6$notreallyahash:19000:0:99999:7:::\n"), 0o640)
			for _, f := range []string{"passwd", "meta.json", "docker/ca.pem", "docker/cert.pem", "docker/key.pem", "ca.pem", "daemon.json", "server-key.pem"} {
				os.MkdirAll(filepath.Join(victim, filepath.Dir(f)), 0o755)
				os.WriteFile(filepath.Join(victim, f), []byte("precious "+f+"\n"), 0o644)
			}
			cfg := newConfig(t)
			os.MkdirAll(cfg, 0o700)
			base := filepath.Join(tmp, "target")
			os.MkdirAll(base, 0o755)
			args, linkPath := pl.setup(t, base, cfg, shadow, victim)
			target, _ := os.Readlink(linkPath)
			before := snapshot(t, shadow, victim)
			for _, force := range []bool{false, true} {
				a := args
				if force {
					a = append(append([]string{}, args...), "--force")
				}
				r := run(t, cfg, a...)
				if r.code != 2 || !strings.Contains(r.stderr, "refusing to ") || !strings.Contains(r.stderr, linkPath+": it is a symbolic link to "+target) {
					t.Errorf("docker-tls %s: exit %d, want 2 and a refusal naming %s\n%s%s", strings.Join(a, " "), r.code, linkPath, r.stdout, r.stderr)
				}
			}
			if after := snapshot(t, shadow, victim); !mapsEqual(before, after) {
				t.Errorf("the link target changed:\nbefore %q\nafter  %q", before, after)
			}
			if fi, err := os.Lstat(linkPath); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("the link itself was replaced: %v %v", fi, err)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

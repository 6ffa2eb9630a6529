package registry

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker-tls/docker-tls/pki/loader"
)

// verifyPlanned runs each target's loader model (pki/loader) on the tree
// the install would leave and says what would still go wrong: a loader
// error (a stray key already in the directory, a hosts.toml containerd
// drops), an installed file the loader would not read, or another
// directory containerd would read instead. Nothing is written.
func verifyPlanned(in *Install, req Request) []string {
	if req.goos() == "windows" {
		return nil // the files are prepared for another machine
	}
	fsp := func(p string) (string, bool) {
		a, err := filepath.Abs(p)
		if err != nil {
			return "", false
		}
		return strings.TrimPrefix(filepath.ToSlash(a), "/"), true
	}
	planned := map[string][]byte{}
	for _, f := range in.Files {
		if p, ok := fsp(f.Path); ok {
			planned[p] = f.Data
		}
	}
	t := loader.WithFiles(loader.OSTree("/"), planned)
	var out []string
	for _, loc := range in.Locations {
		dir, ok1 := fsp(loc.Dir)
		root, ok2 := fsp(loc.Root)
		if !ok1 || !ok2 {
			continue
		}
		want := func(name string) string { return dir + "/" + name }
		check := func(who string, tls *loader.TLS) {
			for _, n := range []string{layout.RegistryCAFile, layout.RegistryCertFile} {
				if _, ok := planned[want(n)]; ok && !tls.Loaded(want(n)) {
					out = append(out, fmt.Sprintf("%s would not read %s", who, t.OSPath(want(n))))
				}
			}
		}
		switch loc.Target {
		case TargetContainerd:
			host := in.Host.String()
			if got, err := loader.ContainerdHostDir(t, root, host, "linux"); err == nil && got != dir {
				out = append(out, fmt.Sprintf("containerd reads %s for %s, not %s: move or remove it", t.OSPath(got), host, t.OSPath(dir)))
				continue
			}
			for _, v := range []loader.ContainerdVersion{loader.Containerd2, loader.Containerd1} {
				res := loader.ContainerdLoad(t, dir, host, loader.ContainerdOptions{Version: v, GOOS: "linux"})
				switch {
				case res.DecodeErr != nil:
					out = append(out, fmt.Sprintf("%s would drop %s: %s", v, t.OSPath(dir+"/"+layout.HostsTOML), res.DecodeErr))
				case res.Err != nil:
					out = append(out, fmt.Sprintf("%s would still fail for %s: %s", v, host, res.Err))
				default:
					var all loader.TLS
					for _, h := range res.Hosts {
						all.CAs = append(all.CAs, h.TLS.CAs...)
						all.Clients = append(all.Clients, h.TLS.Clients...)
					}
					check(v.String(), &all)
				}
			}
		case TargetContainers:
			res := loader.ContainersCertsDir(t, dir)
			if res.Err != nil {
				out = append(out, fmt.Sprintf("podman/containers would still fail for %s: %s", in.Host, res.Err))
			} else {
				check("podman/containers", &res.TLS)
			}
		default:
			res := loader.MobyCertsDir(t, dir, loader.Moby24)
			if res.Err != nil {
				out = append(out, fmt.Sprintf("dockerd's certs.d loader would still fail for %s: %s", in.Host, res.Err))
			} else {
				check("dockerd's certs.d loader", &res.TLS)
			}
			// Docker 29's containerd image store reads the same directory
			// with containerd's rules (hosts.toml, or loadCertFiles).
			c := loader.ContainerdLoad(t, dir, in.Host.String(), loader.ContainerdOptions{Version: loader.Containerd2, GOOS: "linux"})
			if c.Err != nil {
				out = append(out, fmt.Sprintf("with the containerd image store (Docker 29's default) pulls from %s would still fail: %s", in.Host, c.Err))
			}
		}
	}
	return out
}

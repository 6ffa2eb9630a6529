package loader

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// ContainersCertDirs are the per-host certs.d roots containers/image
// (podman, skopeo, buildah, CRI-O) probes, in order (v5.36.2
// docker/docker_client.go dockerCertDir: homeCertDir
// ".config/containers/certs.d" under the home directory, then
// perHostCertDirs /etc/containers/certs.d and /etc/docker/certs.d). home is
// an fs path ("" when unknown: the home root is then left out).
func ContainersCertDirs(home string) []string {
	var out []string
	if home != "" {
		out = append(out, path.Join(home, ".config/containers/certs.d"))
	}
	return append(out, "etc/containers/certs.d", "etc/docker/certs.d")
}

// ContainersHostDir is the directory containers/image reads for hostPort:
// the first root whose <root>/<host:port> exists wins, with no merge;
// not-found and permission errors move on to the next root, any other stat
// error is returned. With no existing directory the last candidate is
// returned (SetupCertificates then finds nothing).
func ContainersHostDir(t Tree, roots []string, hostPort string) (string, error) {
	var full string
	for _, r := range roots {
		full = path.Join(r, hostPort)
		_, err := t.stat(full)
		if err == nil {
			return full, nil
		}
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			continue
		}
		return "", err
	}
	return full, nil
}

// ContainersCertsDir models containers/image v5.36.2
// pkg/tlsclientconfig/tlsclientconfig.go SetupCertificates over dir. It
// follows moby's rules with three differences: an unreadable (permission
// denied) directory is skipped silently, a .crt that vanished (or is a
// dangling symlink: os.ErrNotExist) is skipped, and the wording is v20.10's
// "Note that CA certificates should use the extension .crt" with a
// lower-case "missing client certificate".
func ContainersCertsDir(t Tree, dir string) Result {
	r := Result{Dir: dir}
	es, err := t.readDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			r.Dir = ""
			return r
		}
		r.Err = err
		return r
	}
	for _, e := range es {
		name := e.Name()
		p := joinFS(dir, name)
		switch {
		case strings.HasSuffix(name, ".crt"):
			data, err := t.readFile(p)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					r.Skipped = append(r.Skipped, Skip{Path: p, Reason: "does not exist (dangling symlink?): skipped"})
					continue
				}
				r.Err = err
				return r
			}
			r.SystemRoots = true
			r.CAs = append(r.CAs, t.caFile(p, data))
		case strings.HasSuffix(name, ".cert"):
			base := strings.TrimSuffix(name, ".cert")
			keyName := base + ".key"
			if !hasEntry(es, keyName) {
				r.Err = fmt.Errorf("missing key %s for client certificate %s. Note that CA certificates should use the extension .crt", keyName, name)
				return r
			}
			kp := joinFS(dir, keyName)
			pair, err := t.loadX509KeyPair(p, kp)
			if err != nil {
				r.Err = err
				return r
			}
			r.Clients = append(r.Clients, pair)
		case strings.HasSuffix(name, ".key"):
			certName := strings.TrimSuffix(name, ".key") + ".cert"
			if !hasEntry(es, certName) {
				r.Err = fmt.Errorf("missing client certificate %s for key %s", certName, name)
				return r
			}
		default:
			r.Skipped = append(r.Skipped, Skip{Path: p, Reason: "not named *.crt, *.cert or *.key: the loader ignores it"})
		}
	}
	return r
}

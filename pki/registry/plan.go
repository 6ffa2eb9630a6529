package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/pelletier/go-toml/v2"
)

// Target is a family of registry clients with its own certs.d.
type Target string

const (
	// TargetDocker is dockerd's certs.d (/etc/docker/certs.d, or
	// $XDG_CONFIG_HOME/docker/certs.d for rootless dockerd).
	TargetDocker Target = "docker"
	// TargetContainers is containers/image's certs.d (podman, CRI-O,
	// skopeo, buildah): /etc/containers/certs.d, Docker's file names.
	TargetContainers Target = "containers"
	// TargetContainerd is containerd's hosts directory with hosts.toml.
	TargetContainerd Target = "containerd"
)

// Targets lists every target in the order they are installed.
var Targets = []Target{TargetDocker, TargetContainers, TargetContainerd}

var targetAliases = map[string]Target{
	"podman": TargetContainers, "cri-o": TargetContainers, "crio": TargetContainers,
	"skopeo": TargetContainers, "buildah": TargetContainers,
	"nerdctl": TargetContainerd, "ctr": TargetContainerd, "k8s": TargetContainerd, "kubernetes": TargetContainerd,
	"moby": TargetDocker, "dockerd": TargetDocker,
}

// ParseTargets reads --target values (repeatable, comma-separated). No
// value means docker.
func ParseTargets(values []string) ([]Target, error) {
	var out []Target
	seen := map[Target]bool{}
	for _, v := range values {
		for _, raw := range strings.Split(v, ",") {
			s := strings.ToLower(strings.TrimSpace(raw))
			if s == "" {
				continue
			}
			t := Target(s)
			switch t {
			case TargetDocker, TargetContainers, TargetContainerd:
			default:
				if a, ok := targetAliases[s]; ok {
					return nil, fmt.Errorf("--target %q: use --target %s (%s)", raw, a, targetWho(a))
				}
				return nil, fmt.Errorf("--target %q: unknown target, expected docker, containers or containerd", raw)
			}
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	if len(out) == 0 {
		out = []Target{TargetDocker}
	}
	return out, nil
}

func targetWho(t Target) string {
	switch t {
	case TargetContainers:
		return "podman, CRI-O, skopeo and buildah read " + layout.ContainersCertsDir
	case TargetContainerd:
		return "containerd's CRI plugin, ctr --hosts-dir and nerdctl read " + layout.ContainerdCertsDir + "/<host>/" + layout.HostsTOML
	}
	return "dockerd reads " + layout.DockerCertsDir
}

// DetectRootless reports whether the docker target should be rootless
// dockerd's certs.d: inside rootlesskit (ROOTLESSKIT_STATE_DIR is set), or a
// non-root user with a rootless dockerd socket at $XDG_RUNTIME_DIR/docker.sock.
// reason says why, for the user.
func DetectRootless(getenv func(string) string, euid int, exists func(string) bool) (bool, string) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv(layout.RootlessKitStateEnv); d != "" {
		return true, layout.RootlessKitStateEnv + " is set"
	}
	if euid != 0 {
		if sock := layout.RootlessDockerSocketPath(getenv); sock != "" && exists(sock) {
			return true, "the rootless dockerd socket " + sock + " exists"
		}
	}
	return false, ""
}

// Request is what to install where.
type Request struct {
	Host    layout.RegistryHost
	Targets []Target
	// GOOS selects the directory naming rule: "windows" strips the colon
	// (myreg5000). Empty means runtime.GOOS.
	GOOS string
	// CertsDir replaces the root directory of every target.
	CertsDir string
	// Rootless installs the docker target into rootless dockerd's certs.d.
	Rootless bool
	// Desktop: the docker CLI talks to Docker Desktop, which reads the
	// per-user certs.d on macOS and Windows (layout.RegistryCertsFor).
	Desktop bool
	Getenv  func(string) string
	// CA is the registry's CA in PEM; nil installs none.
	CA []byte
	// ClientCert and ClientKey are the client pair in PEM; nil installs none.
	ClientCert, ClientKey []byte
	// ContainerdConfig is containerd's config.toml, checked for the CRI
	// registry config_path (default layout.ContainerdConfigFile).
	ContainerdConfig string
}

// Location is the directory one target's files go to.
type Location struct {
	Target Target
	Root   string // the certs.d (hosts) root
	Dir    string // Root/<host dir>
}

// File is one file to write.
type File struct {
	fsutil.File
	// Merge marks a file built from the existing one (hosts.toml): it may
	// replace different content without --force, keeping a backup.
	Merge bool
	// Conflict is why the file may only be written with --force even though
	// it was merged (existing settings would be overwritten).
	Conflict string
}

// Install is the plan: where, what, and what to tell the user.
type Install struct {
	Host      layout.RegistryHost
	Locations []Location
	Files     []File
	Notes     []string
	Warnings  []string
	// ContainerdConfigNote is set when containerd's CRI plugin will not read
	// the hosts directory as configured.
	ContainerdConfigNote string
}

func (r *Request) goos() string {
	if r.GOOS != "" {
		return r.GOOS
	}
	return runtime.GOOS
}

// root is the target's certs.d root.
func (r *Request) root(t Target) string {
	if r.CertsDir != "" {
		return r.CertsDir
	}
	switch t {
	case TargetContainers:
		return layout.ContainersCertsDir
	case TargetContainerd:
		return layout.ContainerdCertsDir
	}
	if r.Rootless {
		return layout.RootlessCertsDir(r.Getenv)
	}
	return layout.RegistryCertsFor(runtime.GOOS, r.getenv(), r.Desktop).Dir
}

func (r *Request) getenv() func(string) string {
	if r.Getenv != nil {
		return r.Getenv
	}
	return os.Getenv
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// Locations are the directories the request installs into, one per target
// (default docker), with notes about the choice.
func (r Request) Locations() ([]Location, []string) {
	targets := r.Targets
	if len(targets) == 0 {
		targets = []Target{TargetDocker}
	}
	return r.locations(targets)
}

func (r *Request) locations(targets []Target) ([]Location, []string) {
	var locs []Location
	var notes []string
	goos := r.goos()
	for _, t := range targets {
		root := r.root(t)
		name := r.Host.DirName(goos)
		if t == TargetContainers {
			// containers/image names directories host:port everywhere.
			name = r.Host.String()
		}
		if t == TargetContainerd {
			names := r.Host.ContainerdDirNames()
			if len(names) > 1 {
				alt := names[0]
				if goos == "windows" {
					alt = strings.ReplaceAll(alt, ":", "")
				}
				if p := filepath.Join(root, alt); isDir(p) {
					notes = append(notes, fmt.Sprintf("containerd looks in %s before %s, and it exists: installing there", p, filepath.Join(root, name)))
					name = alt
				}
			}
		}
		locs = append(locs, Location{Target: t, Root: root, Dir: filepath.Join(root, name)})
	}
	return locs, notes
}

// Build computes the plan. It reads existing hosts.toml files (to merge)
// but writes nothing.
func Build(req Request) (*Install, error) {
	if req.CA == nil && req.ClientCert == nil {
		return nil, errors.New("nothing to install: pass the registry's CA (--ca FILE or --fetch-ca) and/or a client certificate (--client-cert and --client-key, or --issue-client)")
	}
	if (req.ClientCert == nil) != (req.ClientKey == nil) {
		return nil, errors.New("a client certificate needs its key, and a key its certificate")
	}
	goos := req.goos()
	if goos == "windows" && runtime.GOOS != "windows" && req.CertsDir == "" {
		return nil, fmt.Errorf("--os windows: pass --certs-dir DIR to prepare the files in DIR, then copy DIR\\%s to %s on the Windows host", req.Host.DirName("windows"), layout.WindowsDockerCertsDir)
	}
	targets := req.Targets
	if len(targets) == 0 {
		targets = []Target{TargetDocker}
	}
	in := &Install{Host: req.Host}
	if req.Host.Port == layout.DefaultRegistryPort {
		bare := layout.RegistryHost{Host: req.Host.Host}
		in.Warnings = append(in.Warnings, fmt.Sprintf("%s names the directory %s, which is only used for images named %s/…; for images named %s/… (port 443 left out, as usual) install for %s instead", req.Host, req.Host.DirName(goos), req.Host, bare, bare))
	}
	byPath := map[string]int{}
	add := func(f File) error {
		if i, ok := byPath[f.Path]; ok {
			if string(in.Files[i].Data) != string(f.Data) {
				return fmt.Errorf("%s would get two different contents (%s and %s): use separate --certs-dir for these targets", f.Path, in.Files[i].What, f.What)
			}
			return nil
		}
		byPath[f.Path] = len(in.Files)
		in.Files = append(in.Files, f)
		return nil
	}
	locs, notes := req.locations(targets)
	in.Locations = locs
	in.Notes = append(in.Notes, notes...)
	for _, loc := range locs {
		t, root, dir := loc.Target, loc.Root, loc.Dir
		var entry HostsEntry
		ref := func(base string) string {
			if goos == "windows" {
				return base // relative: containerd resolves it in the host directory
			}
			return filepath.Join(dir, base)
		}
		if req.CA != nil {
			if err := add(File{File: fsutil.File{Path: filepath.Join(dir, layout.RegistryCAFile), Data: req.CA, Mode: 0o644, What: "registry CA"}}); err != nil {
				return nil, err
			}
			entry.CA = ref(layout.RegistryCAFile)
		}
		if req.ClientCert != nil {
			if err := add(File{File: fsutil.File{Path: filepath.Join(dir, layout.RegistryCertFile), Data: req.ClientCert, Mode: 0o644, What: "client certificate"}}); err != nil {
				return nil, err
			}
			if err := add(File{File: fsutil.File{Path: filepath.Join(dir, layout.RegistryKeyFile), Data: req.ClientKey, Mode: 0o600, What: "client private key"}}); err != nil {
				return nil, err
			}
			entry.Client = [2]string{ref(layout.RegistryCertFile), ref(layout.RegistryKeyFile)}
		}
		if t != TargetContainerd {
			continue
		}
		entry.Server = "https://" + req.Host.String()
		entry.Dir = dir
		hostsPath := filepath.Join(dir, layout.HostsTOML)
		existing, err := fsutil.ReadFile(hostsPath)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading %s: %w", hostsPath, err)
		}
		merged, err := MergeHostsTOML(existing, entry)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", hostsPath, err)
		}
		for _, n := range merged.Notes {
			in.Notes = append(in.Notes, hostsPath+": "+n)
		}
		if err := add(File{File: fsutil.File{Path: hostsPath, Data: merged.Data, Mode: layout.ContainerdHostsFileMode, What: "containerd hosts configuration"}, Merge: existing != nil, Conflict: merged.Conflict}); err != nil {
			return nil, err
		}
		cfg := req.ContainerdConfig
		if cfg == "" {
			cfg = layout.ContainerdConfigFile
		}
		in.ContainerdConfigNote = ContainerdConfigPathNote(cfg, root)
	}
	return in, nil
}

// ContainerdConfigPathNote says how to make containerd's CRI plugin read the
// hosts directory root, or "" when config.toml already names it.
func ContainerdConfigPathNote(configFile, root string) string {
	if data, err := fsutil.ReadFile(configFile); err == nil {
		var m map[string]any
		if toml.Unmarshal(data, &m) == nil {
			plugins, _ := m["plugins"].(map[string]any)
			for _, p := range plugins {
				pm, _ := p.(map[string]any)
				reg, _ := pm["registry"].(map[string]any)
				if cp, ok := reg["config_path"].(string); ok {
					for _, d := range filepath.SplitList(cp) {
						if filepath.Clean(d) == filepath.Clean(root) {
							return ""
						}
					}
				}
			}
		}
	}
	return fmt.Sprintf("containerd's CRI plugin reads hosts.toml only from the directories in its registry config_path: set config_path = %q under [plugins.\"io.containerd.cri.v1.images\".registry] (containerd 2.x; [plugins.\"io.containerd.grpc.v1.cri\".registry] in 1.x) in %s and restart containerd", root, configFile)
}

// Preview says what Apply would do to each file, writing nothing.
func (in *Install) Preview(force bool) []fsutil.Step {
	p := fsutil.Plan{}
	for _, f := range in.Files {
		p.Files = append(p.Files, f.File)
	}
	steps := p.Preview(force)
	for i := range steps {
		f := in.Files[i]
		s := &steps[i]
		switch {
		case s.Action == fsutil.ActionKeep:
		case f.Conflict != "" && !force && s.Action != fsutil.ActionCreate:
			s.Action, s.Reason = fsutil.ActionConflict, f.Conflict
		case f.Merge && s.Action == fsutil.ActionConflict && s.Reason == "exists with different content":
			s.Action, s.Reason = fsutil.ActionReplace, "merged with the existing file"
		case f.Conflict != "" && force && s.Action == fsutil.ActionReplace:
			s.Reason = "overwrites: " + f.Conflict
		}
	}
	return steps
}

// Apply writes the plan: nothing at all when any file is in the way.
// Directories it creates get mode 0755, as dockerd and the distribution
// packages create certs.d; keys are 0600.
func (in *Install) Apply(force bool) ([]fsutil.Result, error) {
	steps := in.Preview(force)
	var bad []string
	hint := ""
	for i, s := range steps {
		if s.Action == fsutil.ActionConflict {
			bad = append(bad, fmt.Sprintf("%s (%s): %s", s.Path, s.What, s.Reason))
			if s.Reason == "exists with different content" || in.Files[i].Conflict != "" {
				hint = "\nuse --force to replace them (old files are kept as .bak-<time> backups)"
			}
		}
	}
	if len(bad) > 0 {
		n := "files are"
		if len(bad) == 1 {
			n = "file is"
		}
		return nil, fmt.Errorf("nothing was written; %d %s in the way:\n  %s%s: %w", len(bad), n, strings.Join(bad, "\n  "), hint, fsutil.ErrExists)
	}
	out := make([]fsutil.Result, 0, len(in.Files))
	for i, f := range in.Files {
		if err := fsutil.EnsureDir(filepath.Dir(f.Path), layout.CertsDirMode); err != nil {
			return out, err
		}
		r, err := fsutil.WriteFile(f.Path, f.Data, f.Mode, force || steps[i].Action == fsutil.ActionReplace)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

package loader

import (
	"crypto/x509"
	"fmt"
	"strings"
)

// DockerdRules names which loader a dockerd uses for a registry's certs.d.
type DockerdRules int

const (
	// RulesUnknown: both loaders may apply; report both answers.
	RulesUnknown DockerdRules = iota
	// RulesMoby is the classic reader (graphdriver image store).
	RulesMoby
	// RulesContainerd is containerd's ConfigureHosts on /etc/docker/certs.d
	// (the containerd image store): hosts.toml is honoured, and without it
	// loadCertFiles reads .crt/.cert/.key with containerd's rules.
	RulesContainerd
)

func (r DockerdRules) String() string {
	switch r {
	case RulesMoby:
		return "moby's classic certs.d loader"
	case RulesContainerd:
		return "containerd's hosts loader (containerd image store)"
	}
	return "unknown (both loaders considered)"
}

// DockerdFacts is what the caller knows about the daemon.
type DockerdFacts struct {
	// Major is the dockerd major version (0 when unknown).
	Major int
	// Snapshotter is daemon.json's features["containerd-snapshotter"]
	// (nil when not set).
	Snapshotter *bool
	// DriverType is /info's DriverStatus "driver-type" when known
	// ("io.containerd.snapshotter.v1" for the containerd store); InfoKnown
	// is set when /info was read at all.
	DriverType string
	InfoKnown  bool
	// Version and Driver are /info's ServerVersion and Driver, for
	// messages ("" when unknown).
	Version, Driver string
	// Registry is the running daemon's registry configuration (/info
	// RegistryConfig), nil when not asked.
	Registry *DockerdRegistryConfig
	// Source says where the facts came from when not from /info
	// ("dockerd --version"), for messages.
	Source string
}

// daemon names the daemon for a reason: "the daemon (Docker 28.5.2,
// overlayfs)".
func (f DockerdFacts) daemon() string {
	var parts []string
	if f.Version != "" {
		parts = append(parts, "Docker "+f.Version)
	}
	if f.Driver != "" {
		parts = append(parts, "storage driver "+f.Driver)
	}
	if len(parts) == 0 {
		return "the daemon"
	}
	return "the daemon (" + strings.Join(parts, ", ") + ")"
}

// Selection is the loader chosen for a dockerd, and why.
type Selection struct {
	Rules DockerdRules
	// Moby is the wording version of the classic loader (when it may apply).
	Moby MobyVersion
	Why  string
}

// SelectDockerd picks moby's or containerd's rules for a dockerd.
//
// The image store decides (moby v2 daemon/image_store_choice.go
// determineImageStoreChoice; daemon/hosts.go RegistryHosts): with the
// containerd store, dockerd resolves registries through containerd's
// hostconfig.ConfigureHosts with HostDirFromRoot(registry.CertsDir()). Its
// mergeLegacyConfig would apply moby's second loadTLSConfig only to a
// transport without a TLS config, which ConfigureHosts never returns
// (DefaultHTTPTransport always carries one), so it adds nothing. The live
// /info driver-type is the strongest fact, then daemon.json's
// features.containerd-snapshotter, then the version: Docker 29 made the
// containerd store the default on Linux (a daemon upgraded with existing
// graphdriver state, or with an explicit storage-driver, keeps the
// graphdriver, which this function cannot see: it says so in Why).
func SelectDockerd(f DockerdFacts) Selection {
	mv := Moby24
	if f.Major > 0 && f.Major <= 20 {
		mv = Moby20
	}
	if f.InfoKnown {
		if f.DriverType == "io.containerd.snapshotter.v1" {
			return Selection{RulesContainerd, mv, f.daemon() + " reports the containerd image store (driver-type io.containerd.snapshotter.v1 in /info)"}
		}
		return Selection{RulesMoby, mv, f.daemon() + " reports a graphdriver image store in /info"}
	}
	if f.Snapshotter != nil {
		if *f.Snapshotter {
			return Selection{RulesContainerd, mv, `daemon.json sets "features": {"containerd-snapshotter": true}`}
		}
		return Selection{RulesMoby, mv, `daemon.json sets "features": {"containerd-snapshotter": false}`}
	}
	from := ""
	if f.Source != "" {
		from = " (" + f.Source + ")"
	}
	switch {
	case f.Major >= 29:
		return Selection{RulesContainerd, mv, fmt.Sprintf("Docker %d"+from+" uses the containerd image store by default (unless upgraded from a graphdriver install)", f.Major)}
	case f.Major > 0:
		return Selection{RulesMoby, mv, fmt.Sprintf("Docker %d"+from+" uses the graphdriver image store unless containerd-snapshotter is enabled", f.Major)}
	}
	return Selection{RulesUnknown, mv, "the daemon version and image store are unknown"}
}

// Loads is what a loader loads from one registry directory, for comparing
// a directory before and after a change (docker tls doctor --fix).
type Loads struct {
	Roots   map[string]*x509.Certificate // CA certificates added, by fingerprint
	Clients map[string]bool              // fingerprints of client certificates
	Files   map[string]bool              // fs paths read as CA files or client pairs
	Err     string                       // the loader's error, "" for none
}

// LoadsOf runs the loader named kind ("moby", "containers" or
// "containerd"; containerd 2.x rules, as Docker 29 vendors) over dir.
func LoadsOf(t Tree, dir, kind string) Loads {
	l := Loads{Roots: map[string]*x509.Certificate{}, Clients: map[string]bool{}, Files: map[string]bool{}}
	add := func(m *TLS) {
		for _, c := range m.CAs {
			l.Files[c.Path] = true
			for _, x := range c.Certs {
				l.Roots[Fingerprint(x.Raw)] = x
			}
		}
		for _, c := range m.Clients {
			l.Files[c.Cert], l.Files[c.Key] = true, true
			if len(c.Pair.Certificate) > 0 {
				l.Clients[Fingerprint(c.Pair.Certificate[0])] = true
			}
		}
	}
	var err error
	switch kind {
	case "containers":
		r := ContainersCertsDir(t, dir)
		add(&r.TLS)
		err = r.Err
	case "containerd":
		r := ContainerdLoad(t, dir, "registry.invalid", ContainerdOptions{Version: Containerd2})
		for i := range r.Hosts {
			add(&r.Hosts[i].TLS)
		}
		err = r.Err
	default:
		r := MobyCertsDir(t, dir, Moby24)
		add(&r.TLS)
		err = r.Err
	}
	if err != nil {
		l.Err = err.Error()
	}
	return l
}

// Keeps reports whether after loads everything before loaded. A root that
// can authenticate no server (a non-CA certificate whose extended key
// usage excludes serverAuth, e.g. a client certificate saved as .crt) is
// no loss.
func (before Loads) Keeps(after Loads) bool {
	for k, c := range before.Roots {
		if after.Roots[k] == nil && !cannotServe(c) {
			return false
		}
	}
	for k := range before.Clients {
		if !after.Clients[k] {
			return false
		}
	}
	return before.Err != "" || after.Err == ""
}

func cannotServe(c *x509.Certificate) bool {
	if c.IsCA || len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return false
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
			return false
		}
	}
	return true
}

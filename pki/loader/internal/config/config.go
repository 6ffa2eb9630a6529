// Package config decodes hosts.toml exactly as containerd does. It is named
// "config", and its decoding types are named as containerd's
// (core/remotes/docker/config/hosts.go hostFileConfig), because go-toml's
// type errors print the Go type names — "cannot decode TOML string into
// struct field config.hostFileConfig.SkipVerify of type bool" — and that
// text is what containerd logs when it drops the file.
package config

import (
	toml "github.com/pelletier/go-toml/v2"
	tomlu "github.com/pelletier/go-toml/v2/unstable"
)

// HostFile is one decoded host section (or the top level).
type HostFile struct {
	Capabilities []string
	CACert       any
	Client       any
	SkipVerify   *bool
	Header       map[string]any
	OverridePath bool
	DialTimeout  string
}

// Decoded is a hosts.toml after decoding.
type Decoded struct {
	Order  []string // host keys in containerd's order
	Hosts  map[string]HostFile
	Root   HostFile
	Server string
}

// hostFileConfig is containerd 2.x's decoding target (same field types and
// tags).
type hostFileConfig struct {
	Capabilities []string       `toml:"capabilities"`
	CACert       any            `toml:"ca"`
	Client       any            `toml:"client"`
	SkipVerify   *bool          `toml:"skip_verify"`
	Header       map[string]any `toml:"header"`
	OverridePath bool           `toml:"override_path"`
	DialTimeout  string         `toml:"dial_timeout"`
}

func (c hostFileConfig) out() HostFile {
	return HostFile(c)
}

// DecodeV2 is containerd 2.x parseHostsFile's decoding: host order from
// getSortedHosts (the unstable parser's [host.X…] table headers), then
// toml.Unmarshal (go-toml/v2, default options: unknown keys ignored).
func DecodeV2(b []byte) (Decoded, error) {
	order := sortedHostsV2(b)
	c := struct {
		hostFileConfig
		Server      string                    `toml:"server"`
		HostConfigs map[string]hostFileConfig `toml:"host"`
	}{}
	if err := toml.Unmarshal(b, &c); err != nil {
		return Decoded{}, err
	}
	d := Decoded{Order: order, Hosts: map[string]HostFile{}, Root: c.hostFileConfig.out(), Server: c.Server}
	for k, v := range c.HostConfigs {
		d.Hosts[k] = v.out()
	}
	return d, nil
}

// SortedHosts is containerd 2.x getSortedHosts.
func SortedHosts(b []byte) []string { return sortedHostsV2(b) }

func sortedHostsV2(b []byte) []string {
	var out []string
	p := tomlu.Parser{}
	p.Reset(b)
	var host string
	for p.NextExpression() {
		e := p.Expression()
		if e.Kind != tomlu.Table {
			continue
		}
		var parts []string
		for it := e.Key(); it.Next(); {
			parts = append(parts, string(it.Node().Data))
		}
		if len(parts) < 2 || parts[0] != "host" || parts[1] == host {
			continue
		}
		host = parts[1]
		out = append(out, host)
	}
	return out
}

// VariantError is an error whose text the loader picks at random among
// Alternatives (it ranges over a Go map); Error returns the first, sorted.
type VariantError struct {
	Alternatives []string
}

func (e *VariantError) Error() string { return e.Alternatives[0] }

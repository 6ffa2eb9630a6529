// Package config decodes hosts.toml exactly as containerd 1.6/1.7 does
// (remotes/docker/config/hosts.go, go-toml v1.9.5). It is named "config"
// with containerd's type names for the same reason as ../config: go-toml
// error texts print them.
package config

import (
	"errors"
	"fmt"
	"sort"

	tomlv1 "github.com/pelletier/go-toml"

	"github.com/docker-tls/docker-tls/pki/loader/internal/config"
)

// DecodeV1 is containerd 1.6/1.7 parseHostsFile's decoding with go-toml
// v1.9.5: LoadBytes, getSortedHosts (the "host" key must be a table, its
// hosts ordered by line), then Tree.Unmarshal.
func DecodeV1(b []byte) (config.Decoded, error) {
	tree, err := tomlv1.LoadBytes(b)
	if err != nil {
		return config.Decoded{}, fmt.Errorf("failed to parse TOML: %w", err)
	}
	type HostFileConfig = hostFileConfig
	c := struct {
		HostFileConfig
		Server      string                    `toml:"server"`
		HostConfigs map[string]hostFileConfig `toml:"host"`
	}{}
	order, err := sortedHostsV1(tree)
	if err != nil {
		return config.Decoded{}, err
	}
	if err := tree.Unmarshal(&c); err != nil {
		// go-toml v1 decodes the host map in Go map order, so with several
		// bad host tables the error it returns varies between runs; collect
		// the texts it can give.
		seen := map[string]bool{err.Error(): true}
		for i := 0; i < 32; i++ {
			c2 := c
			c2.HostConfigs = nil
			if e := tree.Unmarshal(&c2); e != nil {
				seen[e.Error()] = true
			}
		}
		if len(seen) == 1 {
			return config.Decoded{}, err
		}
		alt := make([]string, 0, len(seen))
		for k := range seen {
			alt = append(alt, k)
		}
		sort.Strings(alt)
		return config.Decoded{}, &config.VariantError{Alternatives: alt}
	}
	d := config.Decoded{Order: order, Hosts: map[string]config.HostFile{}, Root: c.HostFileConfig.out(), Server: c.Server}
	for k, v := range c.HostConfigs {
		d.Hosts[k] = v.out()
	}
	return d, nil
}

type hostFileConfig struct {
	Capabilities []string       `toml:"capabilities"`
	CACert       any            `toml:"ca"`
	Client       any            `toml:"client"`
	SkipVerify   *bool          `toml:"skip_verify"`
	Header       map[string]any `toml:"header"`
	OverridePath bool           `toml:"override_path"`
}

func (c hostFileConfig) out() config.HostFile {
	return config.HostFile{Capabilities: c.Capabilities, CACert: c.CACert, Client: c.Client, SkipVerify: c.SkipVerify, Header: c.Header, OverridePath: c.OverridePath}
}

func sortedHostsV1(root *tomlv1.Tree) (hosts []string, err error) {
	iter, ok := root.Get("host").(*tomlv1.Tree)
	if !ok {
		return nil, errors.New("invalid `host` tree")
	}
	list := append([]string{}, iter.Keys()...)
	defer func() {
		// containerd 1.x's sort asserts every host value is a table and
		// panics otherwise; report it instead of crashing.
		if p := recover(); p != nil {
			hosts, err = nil, fmt.Errorf("containerd 1.x panics on this file (a [host] entry that is not a table): %v", p)
		}
	}()
	sort.Slice(list, func(i, j int) bool {
		h1 := iter.GetPath([]string{list[i]}).(*tomlv1.Tree)
		h2 := iter.GetPath([]string{list[j]}).(*tomlv1.Tree)
		return h1.Position().Line < h2.Position().Line
	})
	return list, nil
}

// Package errtext recognises Docker, containerd, buildx and Go TLS error
// texts and explains them: the likely causes ranked, what to check, and the
// doctor command that confirms it. Matching is case-insensitive and covers
// the wordings of several Docker and Go releases.
package errtext

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Entry is one recognised error.
type Entry struct {
	ID    string
	Title string
	// Causes, most likely first.
	Causes []string
	// Check is what to look at to tell the causes apart.
	Check []string
	// Registry is true when the text is about a registry (docker pull/push,
	// containerd, buildx), false when about the daemon connection, and
	// decided from the text when both are possible.
	role role
	// specificity ranks entries when several match: the most specific wins.
	specificity int
	// sources are the patterns; compiled on first use (the plugin binary
	// must start fast: docker runs it on every `docker help`).
	sources []string
}

type role int

const (
	roleEither role = iota
	roleDaemon
	roleRegistry
)

// Match is an entry recognised in a text, with what was extracted from it.
type Match struct {
	Entry
	// Matched is the part of the text that matched.
	Matched string
	// Host is the endpoint named in the text (host:port), when there is one.
	Host string
	// Registry reports whether the text is about a registry.
	Registry bool
	// Command is the doctor command that confirms the diagnosis.
	Command string
}

func re(patterns ...string) []string { return patterns }

var (
	compileOnce sync.Once
	compiled    [][]*regexp.Regexp // per catalog entry
)

func patterns() [][]*regexp.Regexp {
	compileOnce.Do(func() {
		compiled = make([][]*regexp.Regexp, len(catalog))
		for i, e := range catalog {
			for _, p := range e.sources {
				compiled[i] = append(compiled[i], regexp.MustCompile("(?i)"+p))
			}
		}
	})
	return compiled
}

// lazyRE compiles a pattern on first use, not at plugin start-up (docker
// runs every plugin at each docker help).
func lazyRE(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

var (
	urlHostRE  = lazyRE(`(?i)(?:https?|tcp)://(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d+))?`)
	dockerAtRE = lazyRE(`(?i)docker daemon at (?:tcp://)?(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d+))?`)
	registryRE = lazyRE(`(?i)/v2/|push|pull|certs\.d|registry|manifest|hosts\.toml|failed to resolve source|failed to do request|buildkit|buildx`)
)

// Explain returns the entries that match text, most specific first.
func Explain(text string) []Match {
	var out []Match
	pats := patterns()
	for i, e := range catalog {
		for _, p := range pats[i] {
			if loc := p.FindStringIndex(text); loc != nil {
				m := Match{Entry: e, Matched: text[loc[0]:loc[1]]}
				out = append(out, m)
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].specificity > out[j].specificity })
	host, isRegistry := extractHost(text)
	for i := range out {
		out[i].Host = host
		switch out[i].role {
		case roleRegistry:
			out[i].Registry = true
		case roleDaemon:
			out[i].Registry = false
		default:
			out[i].Registry = isRegistry
		}
		out[i].Command = command(out[i].Host, out[i].Registry)
		out[i].Causes = rankCauses(out[i].Causes, out[i].Registry, host != "")
	}
	return out
}

// rankCauses puts the causes for the side the text is about first: those
// marked "daemon:" for a daemon connection, "registry:" for a registry.
func rankCauses(causes []string, registry, known bool) []string {
	if !known && !registry {
		return causes
	}
	other := "daemon:"
	if !registry {
		other = "registry:"
	}
	out := make([]string, 0, len(causes))
	var later []string
	for _, c := range causes {
		if strings.HasPrefix(c, other) {
			later = append(later, c)
		} else {
			out = append(out, c)
		}
	}
	return append(out, later...)
}

func extractHost(text string) (host string, registry bool) {
	registry = registryRE().MatchString(text)
	for _, m := range urlHostRE().FindAllStringSubmatch(text, -1) {
		if strings.EqualFold(m[1], "docs.docker.com") {
			continue // a link to the docs, not an endpoint
		}
		host = m[1]
		if m[2] != "" {
			host += ":" + m[2]
		}
		if strings.HasPrefix(strings.ToLower(m[0]), "tcp://") {
			registry = false
		}
		return host, registry
	}
	if m := dockerAtRE().FindStringSubmatch(text); m != nil {
		host = m[1]
		if m[2] != "" {
			host += ":" + m[2]
		}
		return host, false
	}
	return "", registry
}

func command(host string, registry bool) string {
	switch {
	case host == "" && registry:
		return "docker tls doctor --registry <registry host:port>"
	case host == "":
		return "docker tls doctor"
	case registry:
		return "docker tls doctor --registry " + host
	}
	return "docker tls doctor " + host
}

// IDs returns every entry ID (for docs and tests).
func IDs() []string {
	out := make([]string, len(catalog))
	for i, e := range catalog {
		out[i] = e.ID
	}
	return out
}

// Render writes matches as text.
func Render(matches []Match) string {
	var b strings.Builder
	for i, m := range matches {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s [%s]\n  matched: %q\n", m.Title, m.ID, m.Matched)
		b.WriteString("  likely causes, most likely first:\n")
		for j, c := range m.Causes {
			fmt.Fprintf(&b, "    %d. %s\n", j+1, c)
		}
		if len(m.Check) > 0 {
			b.WriteString("  check:\n")
			for _, c := range m.Check {
				fmt.Fprintf(&b, "    - %s\n", c)
			}
		}
		fmt.Fprintf(&b, "  confirm with: %s\n", m.Command)
	}
	return b.String()
}

package registry

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"

	"github.com/docker-tls/docker-tls/pki/loader"
)

// HostsEntry is what install-registry puts into containerd's hosts.toml for
// one registry: server = Server, and a [host."Server"] table whose ca and
// client point at the installed files.
type HostsEntry struct {
	// Server is "https://host[:port]".
	Server string
	// Dir is the host directory the file lives in; containerd resolves
	// relative paths against it.
	Dir string
	// CA is the path of the CA file, "" for none.
	CA string
	// Client is the certificate and key path, zero for none.
	Client [2]string
}

// HostsMerge is the outcome of merging a HostsEntry into a hosts.toml.
type HostsMerge struct {
	// Data is the new file. When Conflict is set, it is what --force writes.
	Data []byte
	// Conflict says why the existing file cannot be updated without --force:
	// it names settings that would be overwritten.
	Conflict string
	// Notes are things to tell the user (comments not kept, skip_verify, …).
	Notes []string
}

var defaultCapabilities = []string{"pull", "resolve", "push"}

// tomlString is a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// hostTable renders the [host."…"] table for e.
func hostTable(e HostsEntry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[host.%s]\n", tomlString(e.Server))
	caps := make([]string, len(defaultCapabilities))
	for i, c := range defaultCapabilities {
		caps[i] = tomlString(c)
	}
	fmt.Fprintf(&b, "  capabilities = [%s]\n", strings.Join(caps, ", "))
	if e.CA != "" {
		fmt.Fprintf(&b, "  ca = %s\n", tomlString(e.CA))
	}
	if e.Client[0] != "" {
		fmt.Fprintf(&b, "  client = [[%s, %s]]\n", tomlString(e.Client[0]), tomlString(e.Client[1]))
	}
	return b.String()
}

// FreshHostsTOML is the hosts.toml written when there is none.
func FreshHostsTOML(e HostsEntry) []byte {
	return []byte(fmt.Sprintf("# Registry TLS for %s, written by docker tls install-registry.\nserver = %s\n\n%s",
		strings.TrimPrefix(e.Server, "https://"), tomlString(e.Server), hostTable(e)))
}

// normServer is containerd's reading of a server or host key (pki/loader):
// https:// is implied; for comparing, a trailing slash does not matter.
func normServer(s string) string {
	return strings.TrimSuffix(loader.ContainerdServerURL(s), "/")
}

// absIn is the path containerd reads for a ca or client entry p of the
// hosts.toml in base (pki/loader), cleaned for comparing.
func absIn(p, base string) string {
	return filepath.Clean(loader.ContainerdAbsPath(p, base))
}

// hasCA reports whether a ca value (string or list) names path.
func hasCA(v any, path, base string) bool {
	switch x := v.(type) {
	case string:
		return absIn(x, base) == absIn(path, base)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && absIn(s, base) == absIn(path, base) {
				return true
			}
		}
	}
	return false
}

// hasClient reports whether a client value (string, list of strings, or
// list of [cert, key] pairs) holds the pair.
func hasClient(v any, pair [2]string, base string) bool {
	list, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range list {
		p, ok := e.([]any)
		if !ok || len(p) != 2 {
			continue
		}
		c, ok1 := p[0].(string)
		k, ok2 := p[1].(string)
		if ok1 && ok2 && absIn(c, base) == absIn(pair[0], base) && absIn(k, base) == absIn(pair[1], base) {
			return true
		}
	}
	return false
}

// HostOrder lists the [host."…"] tables in file order, the way containerd
// 2.x reads them (pki/loader ContainerdHostOrder): hosts are tried in this
// order.
func HostOrder(data []byte) []string { return loader.ContainerdHostOrder(data) }

// MergeHostsTOML merges e into an existing hosts.toml. Everything else in
// the file is kept: other keys, other [host] tables and their order (the
// order in which containerd tries them). When only additions are needed the
// existing text, comments included, is kept byte for byte and the new table
// is appended. A server or an entry for the same host with different
// settings is a conflict that needs --force.
func MergeHostsTOML(existing []byte, e HostsEntry) (HostsMerge, error) {
	if len(bytes.TrimSpace(existing)) == 0 {
		return HostsMerge{Data: FreshHostsTOML(e)}, nil
	}
	var m map[string]any
	if err := toml.Unmarshal(existing, &m); err != nil {
		return HostsMerge{
			Data:     FreshHostsTOML(e),
			Conflict: fmt.Sprintf("it is not valid TOML (%s), so containerd ignores it", oneLine(err.Error())),
		}, nil
	}
	want := normServer(e.Server)
	var conflicts, notes []string

	needServer := false
	switch s := m["server"].(type) {
	case nil:
		if _, present := m["server"]; present {
			conflicts = append(conflicts, "its server is not a string")
		} else {
			needServer = true
		}
	case string:
		if normServer(s) != want {
			conflicts = append(conflicts, fmt.Sprintf("it sets server = %q, not %q", s, e.Server))
		}
	default:
		conflicts = append(conflicts, "its server is not a string")
	}

	hosts, hostsOK := m["host"].(map[string]any)
	if _, present := m["host"]; present && !hostsOK {
		conflicts = append(conflicts, "its host key is not a table")
	}
	key := ""
	for k := range hosts {
		if normServer(k) == want {
			key = k
		}
	}
	needKeys := false
	if key != "" {
		tbl, ok := hosts[key].(map[string]any)
		if !ok {
			conflicts = append(conflicts, fmt.Sprintf("[host.%s] is not a table", tomlString(key)))
		} else {
			if e.CA != "" {
				switch v, has := tbl["ca"]; {
				case !has:
					needKeys = true
				case !hasCA(v, e.CA, e.Dir):
					conflicts = append(conflicts, fmt.Sprintf("[host.%s] has ca = %s, not %s", tomlString(key), renderValue(v), tomlString(e.CA)))
				}
			}
			if e.Client[0] != "" {
				switch v, has := tbl["client"]; {
				case !has:
					needKeys = true
				case !hasClient(v, e.Client, e.Dir):
					conflicts = append(conflicts, fmt.Sprintf("[host.%s] has client = %s, not [[%s, %s]]", tomlString(key), renderValue(v), tomlString(e.Client[0]), tomlString(e.Client[1])))
				}
			}
			if sv, ok := tbl["skip_verify"].(bool); ok && sv {
				notes = append(notes, fmt.Sprintf("[host.%s] keeps skip_verify = true: containerd does not verify the registry's certificate", tomlString(key)))
			}
		}
	}

	if len(conflicts) == 0 && key != "" && !needServer && !needKeys {
		return HostsMerge{Data: existing, Notes: notes}, nil
	}
	if len(conflicts) == 0 && key == "" {
		// Only additions: keep the text, prepend server, append the table.
		var b bytes.Buffer
		if needServer {
			fmt.Fprintf(&b, "server = %s\n", tomlString(e.Server))
		}
		b.Write(existing)
		if !bytes.HasSuffix(existing, []byte("\n")) {
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
		b.WriteString(hostTable(e))
		if verifyMerged(b.Bytes(), m, e, "") == nil {
			return HostsMerge{Data: b.Bytes(), Notes: notes}, nil
		}
		// The layout (inline tables, dotted keys) does not take an appended
		// table: rebuild below.
	}
	data, err := rebuildHostsTOML(existing, m, e, key)
	if err != nil {
		return HostsMerge{}, err
	}
	if bytes.Contains(existing, []byte("#")) {
		notes = append(notes, "the comments of the existing hosts.toml are not kept in the merged file (the old file is kept as a backup)")
	}
	res := HostsMerge{Data: data, Notes: notes}
	if len(conflicts) > 0 {
		res.Conflict = strings.Join(conflicts, "; ")
	}
	return res, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func renderValue(v any) string {
	b, err := toml.Marshal(map[string]any{"v": v})
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(strings.TrimPrefix(string(b), "v = "))
}

// applyEntry sets e in the parsed document m (a copy is not made).
func applyEntry(m map[string]any, e HostsEntry, key string) {
	if s, ok := m["server"].(string); !ok || normServer(s) != normServer(e.Server) {
		m["server"] = e.Server
	}
	hosts, ok := m["host"].(map[string]any)
	if !ok {
		hosts = map[string]any{}
		m["host"] = hosts
	}
	if key == "" {
		key = e.Server
	}
	tbl, ok := hosts[key].(map[string]any)
	if !ok {
		tbl = map[string]any{}
		caps := make([]any, len(defaultCapabilities))
		for i, c := range defaultCapabilities {
			caps[i] = c
		}
		tbl["capabilities"] = caps
		hosts[key] = tbl
	}
	if e.CA != "" {
		tbl["ca"] = e.CA
	}
	if e.Client[0] != "" {
		tbl["client"] = []any{[]any{e.Client[0], e.Client[1]}}
	}
}

// rebuildHostsTOML re-encodes the document with e applied: top-level keys
// first, then the [host] tables in their original order, the new one last.
func rebuildHostsTOML(existing []byte, m map[string]any, e HostsEntry, key string) ([]byte, error) {
	order := HostOrder(existing)
	applyEntry(m, e, key)
	hosts := m["host"].(map[string]any)
	seen := map[string]bool{}
	var names []string
	for _, h := range order {
		if _, ok := hosts[h]; ok && !seen[h] {
			seen[h] = true
			names = append(names, h)
		}
	}
	var rest []string
	for h := range hosts {
		if !seen[h] {
			rest = append(rest, h)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)
	newKey := key
	if newKey == "" {
		newKey = e.Server
	}
	// The new entry goes last: the existing hosts keep their priority.
	for i, h := range names {
		if h == newKey && key == "" {
			names = append(append(names[:i:i], names[i+1:]...), h)
			break
		}
	}
	top := map[string]any{}
	for k, v := range m {
		if k != "host" {
			top[k] = v
		}
	}
	var b bytes.Buffer
	head, err := toml.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("encoding hosts.toml: %w", err)
	}
	b.Write(head)
	for _, h := range names {
		part, err := toml.Marshal(map[string]any{"host": map[string]any{h: hosts[h]}})
		if err != nil {
			return nil, fmt.Errorf("encoding hosts.toml: %w", err)
		}
		b.WriteByte('\n')
		b.Write(bytes.TrimPrefix(part, []byte("[host]\n")))
	}
	out := b.Bytes()
	if err := verifyMerged(out, m, e, newKey); err != nil {
		return nil, err
	}
	if got := HostOrder(out); !reflect.DeepEqual(got, names) {
		return nil, fmt.Errorf("merging hosts.toml: host order %q, want %q", got, names)
	}
	return out, nil
}

// verifyMerged parses the merged file and checks it holds exactly the
// original document with e applied.
func verifyMerged(data []byte, orig map[string]any, e HostsEntry, key string) error {
	var got map[string]any
	if err := toml.Unmarshal(data, &got); err != nil {
		return fmt.Errorf("merging hosts.toml produced invalid TOML: %w", err)
	}
	want := deepCopy(orig).(map[string]any)
	applyEntry(want, e, key)
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("merging hosts.toml: the merged file does not round-trip")
	}
	return nil
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

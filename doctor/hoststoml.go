package doctor

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The go.mod has no TOML library, and containerd's hosts.toml uses a small
// part of TOML: tables ([host."https://r:5000"]), strings, booleans,
// numbers, arrays (nested) and inline tables. This parser reads that part
// and reports anything else as a syntax error with its line.

type tomlParser struct {
	s    string
	i    int
	line int
}

func (p *tomlParser) errf(format string, a ...any) error {
	return fmt.Errorf("line %d: %s", p.line, fmt.Sprintf(format, a...))
}

func (p *tomlParser) skipSpace(newlines bool) {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			p.i++
		case c == '\n' && newlines:
			p.line++
			p.i++
		case c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		default:
			return
		}
	}
}

// parseHostsTOML returns the document as nested maps.
func parseHostsTOML(s string) (map[string]any, error) {
	p := &tomlParser{s: s, line: 1}
	root := map[string]any{}
	cur := root
	for {
		p.skipSpace(true)
		if p.i >= len(p.s) {
			return root, nil
		}
		if p.s[p.i] == '[' {
			if strings.HasPrefix(p.s[p.i:], "[[") {
				return nil, p.errf("arrays of tables are not used in hosts.toml")
			}
			p.i++
			keys, err := p.keyPath()
			if err != nil {
				return nil, err
			}
			p.skipSpace(false)
			if p.i >= len(p.s) || p.s[p.i] != ']' {
				return nil, p.errf("expected ] after table name")
			}
			p.i++
			cur = root
			for _, k := range keys {
				next, ok := cur[k].(map[string]any)
				if !ok {
					if _, exists := cur[k]; exists {
						return nil, p.errf("key %q is both a value and a table", k)
					}
					next = map[string]any{}
					cur[k] = next
				}
				cur = next
			}
		} else {
			if err := p.keyValue(cur); err != nil {
				return nil, err
			}
		}
		p.skipSpace(false)
		if p.i < len(p.s) && p.s[p.i] != '\n' {
			return nil, p.errf("unexpected %q after value", p.s[p.i])
		}
	}
}

func (p *tomlParser) keyValue(into map[string]any) error {
	keys, err := p.keyPath()
	if err != nil {
		return err
	}
	p.skipSpace(false)
	if p.i >= len(p.s) || p.s[p.i] != '=' {
		return p.errf("expected = after key %q", strings.Join(keys, "."))
	}
	p.i++
	p.skipSpace(false)
	v, err := p.value()
	if err != nil {
		return err
	}
	m := into
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	last := keys[len(keys)-1]
	if _, dup := m[last]; dup {
		return p.errf("key %q defined twice", last)
	}
	m[last] = v
	return nil
}

func (p *tomlParser) keyPath() ([]string, error) {
	var keys []string
	for {
		p.skipSpace(false)
		if p.i >= len(p.s) {
			return nil, p.errf("expected a key")
		}
		var k string
		switch c := p.s[p.i]; {
		case c == '"' || c == '\'':
			s, err := p.str()
			if err != nil {
				return nil, err
			}
			k = s
		default:
			start := p.i
			for p.i < len(p.s) && isBareKey(p.s[p.i]) {
				p.i++
			}
			if p.i == start {
				return nil, p.errf("expected a key, found %q", p.s[p.i])
			}
			k = p.s[start:p.i]
		}
		keys = append(keys, k)
		p.skipSpace(false)
		if p.i < len(p.s) && p.s[p.i] == '.' {
			p.i++
			continue
		}
		return keys, nil
	}
}

func isBareKey(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func (p *tomlParser) str() (string, error) {
	q := p.s[p.i]
	if strings.HasPrefix(p.s[p.i:], strings.Repeat(string(q), 3)) {
		return "", p.errf("multi-line strings are not used in hosts.toml")
	}
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\n':
			return "", p.errf("unterminated string")
		case c == '\\' && q == '"':
			if p.i+1 >= len(p.s) {
				return "", p.errf("unterminated string")
			}
			p.i++
			switch e := p.s[p.i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '"', '\\':
				b.WriteByte(e)
			default:
				return "", p.errf("unsupported escape \\%c", e)
			}
			p.i++
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errf("unterminated string")
}

func (p *tomlParser) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, p.errf("expected a value")
	}
	switch c := p.s[p.i]; {
	case c == '"' || c == '\'':
		return p.str()
	case c == '[':
		p.i++
		var arr []any
		for {
			p.skipSpace(true)
			if p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				return arr, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			p.skipSpace(true)
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				return arr, nil
			}
			return nil, p.errf("expected , or ] in array")
		}
	case c == '{':
		p.i++
		m := map[string]any{}
		for {
			p.skipSpace(false)
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return m, nil
			}
			if err := p.keyValue(m); err != nil {
				return nil, err
			}
			p.skipSpace(false)
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return m, nil
			}
			return nil, p.errf("expected , or } in inline table")
		}
	default:
		start := p.i
		for p.i < len(p.s) && !strings.ContainsRune(" \t\r\n,]}#", rune(p.s[p.i])) {
			p.i++
		}
		word := p.s[start:p.i]
		switch word {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		if n, err := strconv.ParseFloat(strings.ReplaceAll(word, "_", ""), 64); err == nil {
			return n, nil
		}
		if word == "" {
			return nil, p.errf("expected a value")
		}
		return nil, p.errf("unsupported value %q", word)
	}
}

// hostsTLS is the TLS part of one hosts.toml: CA files and client pairs
// (key "" means a combined certificate+key PEM), made absolute.
type hostsTLS struct {
	cas     []string
	clients [][2]string
}

// hostsTOMLFiles collects ca and client from the top level and from every
// [host."..."] table, the way containerd's parseHostsFile decodes them.
func hostsTOMLFiles(doc map[string]any, baseDir string) (hostsTLS, error) {
	var out hostsTLS
	tables := []map[string]any{doc}
	if hosts, ok := doc["host"].(map[string]any); ok {
		names := make([]string, 0, len(hosts))
		for n := range hosts {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			t, ok := hosts[n].(map[string]any)
			if !ok {
				return out, fmt.Errorf("host %q is not a table", n)
			}
			tables = append(tables, t)
		}
	}
	abs := func(p string) string {
		if path.IsAbs(p) {
			return path.Clean(p)
		}
		return path.Join(baseDir, p)
	}
	for _, t := range tables {
		switch ca := t["ca"].(type) {
		case nil:
		case string:
			out.cas = append(out.cas, abs(ca))
		case []any:
			for _, x := range ca {
				s, ok := x.(string)
				if !ok {
					return out, fmt.Errorf("invalid type %T for \"ca\"", x)
				}
				out.cas = append(out.cas, abs(s))
			}
		default:
			return out, fmt.Errorf("invalid type %T for \"ca\"", ca)
		}
		switch cl := t["client"].(type) {
		case nil:
		case string:
			out.clients = append(out.clients, [2]string{abs(cl), ""})
		case []any:
			for _, x := range cl {
				switch v := x.(type) {
				case string:
					out.clients = append(out.clients, [2]string{abs(v), ""})
				case []any:
					if len(v) > 2 {
						return out, fmt.Errorf("invalid pair %v for \"client\"", v)
					}
					var pair [2]string
					for i, y := range v {
						s, ok := y.(string)
						if !ok {
							return out, fmt.Errorf("invalid type %T for \"client\"", y)
						}
						pair[i] = abs(s)
					}
					out.clients = append(out.clients, pair)
				default:
					return out, fmt.Errorf("invalid type %T for \"client\"", x)
				}
			}
		default:
			return out, fmt.Errorf("invalid type %T for \"client\"", cl)
		}
	}
	return out, nil
}

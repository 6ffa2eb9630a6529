// Package daemoncfg reads and edits dockerd's daemon.json without losing
// anything it does not manage, and reads the docker.service systemd unit's
// ExecStart to find flags that conflict with daemon.json.
package daemoncfg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// TLS keys of daemon.json (moby daemon/config/config.go).
const (
	KeyHosts     = "hosts"
	KeyTLS       = "tls"
	KeyTLSVerify = "tlsverify"
	KeyTLSCACert = "tlscacert"
	KeyTLSCert   = "tlscert"
	KeyTLSKey    = "tlskey"
)

// Object is a JSON object that keeps its keys in file order, so that
// editing daemon.json changes only the keys docker-tls manages.
type Object struct {
	keys []string
	vals map[string]json.RawMessage
}

// Parse reads a daemon.json. Empty or whitespace-only input is an empty
// object. name is used in errors.
func Parse(name string, data []byte) (*Object, error) {
	o := &Object{vals: map[string]json.RawMessage{}}
	if len(bytes.TrimSpace(data)) == 0 {
		return o, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %v", name, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s: expected a JSON object ({…}), found %v", name, tok)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: invalid JSON: %v", name, err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: invalid JSON at key %q: %v", name, key, err)
		}
		if _, dup := o.vals[key]; dup {
			return nil, fmt.Errorf("%s: key %q appears twice; dockerd would refuse this file", name, key)
		}
		o.keys = append(o.keys, key)
		o.vals[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %v", name, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: unexpected data after the JSON object", name)
	}
	return o, nil
}

// Keys returns the keys in file order.
func (o *Object) Keys() []string { return append([]string(nil), o.keys...) }

// Raw returns a key's raw JSON value.
func (o *Object) Raw(key string) (json.RawMessage, bool) {
	v, ok := o.vals[key]
	return v, ok
}

// Get decodes a key's value into v; ok is false when the key is absent.
func (o *Object) Get(key string, v any) (bool, error) {
	raw, ok := o.vals[key]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("key %q: %v", key, err)
	}
	return true, nil
}

// Set stores v under key, keeping the key's position when it exists.
func (o *Object) Set(key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = raw
	return nil
}

// Delete removes key.
func (o *Object) Delete(key string) {
	if _, ok := o.vals[key]; !ok {
		return
	}
	delete(o.vals, key)
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

// Marshal renders the object with two-space indentation and a final newline.
func (o *Object) Marshal() []byte {
	var b bytes.Buffer
	if len(o.keys) == 0 {
		return []byte("{}\n")
	}
	b.WriteString("{\n")
	for i, k := range o.keys {
		kj, _ := json.Marshal(k)
		var v bytes.Buffer
		if err := json.Indent(&v, o.vals[k], "  ", "  "); err != nil {
			v.Reset()
			v.Write(o.vals[k])
		}
		fmt.Fprintf(&b, "  %s: %s", kj, v.Bytes())
		if i < len(o.keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// TLSSettings are the daemon's TLS-related settings from daemon.json.
type TLSSettings struct {
	Hosts     []string
	TLS       *bool
	TLSVerify *bool
	CACert    string
	Cert      string
	Key       string
}

// TLS extracts the TLS settings; type errors name the key.
func (o *Object) TLS() (TLSSettings, error) {
	var s TLSSettings
	var errs []error
	get := func(k string, v any) {
		if _, err := o.Get(k, v); err != nil {
			errs = append(errs, err)
		}
	}
	get(KeyHosts, &s.Hosts)
	get(KeyTLS, &s.TLS)
	get(KeyTLSVerify, &s.TLSVerify)
	get(KeyTLSCACert, &s.CACert)
	get(KeyTLSCert, &s.Cert)
	get(KeyTLSKey, &s.Key)
	return s, errors.Join(errs...)
}

// ExecStart is the effective ExecStart of a systemd service after its unit
// file and drop-ins (given in the order systemd applies them): an empty
// "ExecStart=" resets the list, the last non-empty one wins for a simple
// service. Source names the file it came from.
type ExecStart struct {
	Args   []string
	Source string
}

// UnitFile is one unit or drop-in file's name and content.
type UnitFile struct {
	Name string
	Data []byte
}

// EffectiveExecStart applies files in order and returns the effective
// ExecStart, or ok=false when none is set.
func EffectiveExecStart(files []UnitFile) (ExecStart, bool) {
	var cur ExecStart
	ok := false
	for _, f := range files {
		section := ""
		lines := strings.Split(strings.ReplaceAll(string(f.Data), "\\\n", " "), "\n")
		for _, line := range lines {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' || line[0] == ';' {
				continue
			}
			if strings.HasPrefix(line, "[") {
				section = strings.Trim(line, "[]")
				continue
			}
			if section != "Service" {
				continue
			}
			k, v, found := strings.Cut(line, "=")
			if !found || strings.TrimSpace(k) != "ExecStart" {
				continue
			}
			v = strings.TrimSpace(v)
			if v == "" {
				cur, ok = ExecStart{}, false
				continue
			}
			v = strings.TrimLeft(v, "-@:+!")
			cur, ok = ExecStart{Args: splitCommand(v), Source: f.Name}, true
		}
	}
	return cur, ok
}

// splitCommand splits a systemd command line (double and single quotes).
func splitCommand(s string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// FlagsAlsoInFile returns the daemon.json keys among keys that the
// command line also sets as flags: dockerd refuses to start then ("the
// following directives are specified both as a flag and in the
// configuration file").
func FlagsAlsoInFile(args []string, keys []string) []string {
	flagKey := map[string]string{
		"-H": KeyHosts, "--host": KeyHosts,
		"--tls": KeyTLS, "--tlsverify": KeyTLSVerify,
		"--tlscacert": KeyTLSCACert, "--tlscert": KeyTLSCert, "--tlskey": KeyTLSKey,
	}
	inFile := map[string]bool{}
	for _, k := range keys {
		inFile[k] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range args {
		name := a
		if i := strings.IndexByte(a, '='); i >= 0 {
			name = a[:i]
		}
		if strings.HasPrefix(name, "-H") && name != "-H" && !strings.HasPrefix(name, "--") {
			name = "-H" // -Hfd://
		}
		if k, ok := flagKey[name]; ok && inFile[k] && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// DropInFix is the systemd drop-in that clears the unit's ExecStart flags
// so daemon.json alone configures the daemon.
func DropInFix(dockerd string) string {
	if dockerd == "" {
		dockerd = "/usr/bin/dockerd"
	}
	return "[Service]\nExecStart=\nExecStart=" + dockerd + "\n"
}

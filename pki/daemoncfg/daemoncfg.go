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

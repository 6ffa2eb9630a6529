package loader

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/pki/loader/internal/config"
	config1 "github.com/docker-tls/docker-tls/pki/loader/internal/config1"
)

// ContainerdVersion selects the hosts.toml rules of a containerd release.
type ContainerdVersion int

const (
	// Containerd1 is containerd 1.6 / 1.7 (remotes/docker/config/hosts.go,
	// decoded with go-toml v1.9.5 toml.LoadBytes + Tree.Unmarshal): a file
	// without a [host] table is rejected ("invalid `host` tree"), there is
	// no dial_timeout and no "referrers" capability.
	Containerd1 ContainerdVersion = 1
	// Containerd2 is containerd 2.x (core/remotes/docker/config/hosts.go,
	// decoded with go-toml/v2 toml.Unmarshal; host order from the unstable
	// parser's [host."…"] table headers, so hosts written as inline tables
	// or dotted keys are dropped).
	Containerd2 ContainerdVersion = 2
)

func (v ContainerdVersion) String() string {
	if v == Containerd1 {
		return "containerd 1.6/1.7"
	}
	return "containerd 2.x"
}

// ContainerdHostPaths are the directories containerd's HostDirFromRoot
// probes for a registry host, in order (config_unix.go / config_windows.go
// hostPaths): "host_port_" (the last ":port" rewritten by hostDirectory),
// then "host:port", then "_default"; on Windows every ':' is removed.
func ContainerdHostPaths(root, host, goos string) []string {
	var out []string
	ch := host
	if i := strings.LastIndex(host, ":"); i > 0 {
		ch = host[:i] + "_" + host[i+1:] + "_"
	}
	clean := func(s string) string {
		if goos == "windows" {
			return strings.ReplaceAll(s, ":", "")
		}
		return s
	}
	if ch != host {
		out = append(out, path.Join(root, clean(ch)))
	}
	return append(out, path.Join(root, clean(host)), path.Join(root, "_default"))
}

// ContainerdHostDir is HostDirFromRoot: the first candidate that exists (a
// file counts: os.Stat succeeds), "" when none does; a stat error other
// than not-found is returned.
func ContainerdHostDir(t Tree, root, host, goos string) (string, error) {
	for _, p := range ContainerdHostPaths(root, host, goos) {
		_, err := t.stat(p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", nil
}

// Capability names in containerd's order.
var capNames = []string{"pull", "resolve", "push", "referrers"}

// ContainerdHost is one registry host containerd resolves, with the TLS it
// loads for it.
type ContainerdHost struct {
	Scheme, Host, Path string
	Capabilities       []string
	// CAFiles and ClientPairs are what the configuration names (fs paths;
	// Key "" means the cert file holds the key too). Outside records
	// configured paths outside the model's tree.
	CAFiles     []string
	ClientPairs [][2]string
	Header      map[string][]string
	DialTimeout *time.Duration
	// CAsSet / ClientsSet: the configuration set "ca" / "client" (even to
	// an empty list), which makes containerd build a TLS config.
	CAsSet, ClientsSet bool
	TLS                TLS
}

// ExplicitTLS is containerd's explicitTLSFromHost.
func (h *ContainerdHost) ExplicitTLS() bool {
	return h.CAsSet || h.ClientsSet || h.TLS.SkipVerify != nil
}

// ContainerdResult is one ConfigureHosts run for one registry host.
type ContainerdResult struct {
	Version ContainerdVersion
	Dir     string // host directory used, "" when none exists
	// HostsTOML is true when <dir>/hosts.toml was read and not empty.
	HostsTOML bool
	// DecodeErr is why hosts.toml was dropped (containerd logs "failed to
	// decode …/hosts.toml" and falls back to the certs.d files).
	DecodeErr error
	// Fallback is true when loadCertFiles (Docker's .crt/.cert/.key
	// layout) supplied the configuration.
	Fallback bool
	// Hosts in resolution order; the last is the default (server) entry.
	Hosts []ContainerdHost
	// DroppedHosts are [host] entries decoded but never used: containerd
	// 2.x orders hosts by their [host."…"] table headers, so a host written
	// as an inline table or with dotted keys is dropped silently.
	DroppedHosts []string
	// Skipped lists directory entries the fallback ignores.
	Skipped []Skip
	// Err is the error ConfigureHosts returns for this host (a pull fails
	// with it); hosts after the failing one are not loaded.
	Err error
}

// Loaded reports whether fs path p is read as TLS material for any host.
func (r *ContainerdResult) Loaded(p string) bool {
	for i := range r.Hosts {
		if r.Hosts[i].TLS.Loaded(p) {
			return true
		}
	}
	return false
}

// Referenced reports whether the configuration names fs path p (loaded or
// not, e.g. because an earlier file failed).
func (r *ContainerdResult) Referenced(p string) bool {
	for _, h := range r.Hosts {
		for _, c := range h.CAFiles {
			if c == p {
				return true
			}
		}
		for _, c := range h.ClientPairs {
			if c[0] == p || c[1] == p {
				return true
			}
		}
	}
	return false
}

// ContainerdOptions are the HostOptions that change what is loaded.
type ContainerdOptions struct {
	Version ContainerdVersion
	GOOS    string
	// DefaultScheme is HostOptions.DefaultScheme ("http" for ctr
	// --plain-http; "" for dockerd and ctr's default).
	DefaultScheme string
}

// ContainerdConfigureHosts models containerd's
// config.ConfigureHosts(ctx, HostOptions{HostDir: HostDirFromRoot(root)})(host)
// over the tree: directory lookup, hosts.toml decoding and validation (or
// the loadCertFiles fallback), the default entry, and the TLS material
// updateTLSConfigFromHost (2.x; inline in 1.x) loads for each host.
func ContainerdConfigureHosts(t Tree, root, host string, o ContainerdOptions) ContainerdResult {
	dir, err := ContainerdHostDir(t, root, host, o.GOOS)
	if err != nil {
		return ContainerdResult{Version: o.Version, Err: err}
	}
	if dir == "" {
		r := ContainerdResult{Version: o.Version}
		r.Hosts = make([]ContainerdHost, 1)
		fillDefault(&r.Hosts[0], host, o)
		return r
	}
	return ContainerdLoad(t, dir, host, o)
}

// ContainerdLoad is ConfigureHosts once the host directory dir is known:
// loadHostDir, the default entry for host (registry host[:port]), and the
// TLS material of every host, in order (the first failure is Err).
func ContainerdLoad(t Tree, dir, host string, o ContainerdOptions) ContainerdResult {
	r := ContainerdHostDirConfig(t, dir, o.Version)
	if r.Err != nil {
		return r
	}
	if r.Hosts == nil {
		r.Hosts = make([]ContainerdHost, 1)
	}
	if last := &r.Hosts[len(r.Hosts)-1]; last.Host == "" {
		fillDefault(last, host, o)
	}
	for i := range r.Hosts {
		h := &r.Hosts[i]
		if !h.ExplicitTLS() {
			continue
		}
		if err := t.containerdTLS(h, o); err != nil {
			r.Err = err
			return r
		}
	}
	return r
}

func allCaps(v ContainerdVersion) []string {
	if v == Containerd1 {
		return capNames[:3]
	}
	return append([]string(nil), capNames...)
}

func fillDefault(h *ContainerdHost, host string, o ContainerdOptions) {
	switch {
	case host == "docker.io":
		h.Scheme = "https"
		h.Host = "registry-1.docker.io"
	case isLocalhost(host):
		h.Host = host
		if o.DefaultScheme == "" {
			_, port, _ := net.SplitHostPort(host)
			if port == "" || port == "443" {
				h.Scheme = "https"
			} else {
				h.Scheme = "http"
			}
			if port != "80" {
				t := true
				h.TLS.SkipVerify = &t
			}
		} else {
			h.Scheme = o.DefaultScheme
		}
	default:
		h.Host = host
		h.Scheme = "https"
		if o.DefaultScheme != "" {
			h.Scheme = o.DefaultScheme
		}
	}
	h.Path = "/v2"
	h.Capabilities = allCaps(o.Version)
}

// isLocalhost is containerd's docker.IsLocalhost (resolver.go).
func isLocalhost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	return net.ParseIP(host).IsLoopback()
}

// containerdTLS is updateTLSConfigFromHost: CA files must add at least one
// certificate ("unable to load CA cert %q"), client pairs go through
// tls.X509KeyPair (an empty key path means the key is in the cert file).
func (t Tree) containerdTLS(h *ContainerdHost, o ContainerdOptions) error {
	if h.CAsSet {
		// 2.x: x509.SystemCertPool; 1.x on Windows: an empty pool.
		h.TLS.SystemRoots = !(o.Version == Containerd1 && o.GOOS == "windows")
		for _, f := range h.CAFiles {
			data, err := t.readAbs(f)
			if err != nil {
				return fmt.Errorf("unable to read CA cert %q: %w", t.OSPath(f), err)
			}
			c := t.caFile(f, data)
			h.TLS.CAs = append(h.TLS.CAs, c)
			if len(c.Certs) == 0 {
				return fmt.Errorf("unable to load CA cert %q", t.OSPath(f))
			}
		}
	}
	for _, pair := range h.ClientPairs {
		certPEM, err := t.readAbs(pair[0])
		if err != nil {
			return fmt.Errorf("unable to read CERT file %q: %w", t.OSPath(pair[0]), err)
		}
		keyPEM := certPEM
		key := pair[0]
		if pair[1] != "" {
			key = pair[1]
			keyPEM, err = t.readAbs(pair[1])
			if err != nil {
				return fmt.Errorf("unable to read CERT file %q: %w", t.OSPath(pair[1]), err)
			}
		}
		c, err := t.x509KeyPair(certPEM, keyPEM)
		if err != nil {
			return fmt.Errorf("failed to load X509 key pair: %w", err)
		}
		h.TLS.Clients = append(h.TLS.Clients, ClientPair{Cert: pair[0], Key: key, Pair: c, Leaf: leafOf(c), CertData: certPEM, KeyData: keyPEM})
	}
	return nil
}

// outsidePrefix marks a configured path outside the model's tree.
const outsidePrefix = "\x00outside:"

func (t Tree) readAbs(p string) ([]byte, error) {
	if strings.HasPrefix(p, outsidePrefix) {
		osp := strings.TrimPrefix(p, outsidePrefix)
		return nil, &fs.PathError{Op: "open", Path: osp, Err: errors.New("outside the tree docker-tls reads")}
	}
	return t.readFile(p)
}

// ContainerdHostDirConfig models loadHostDir over the fs directory dir:
// hosts.toml when present and not empty, decoded and validated as the
// given containerd version does; on a decode error (logged by containerd)
// or without hosts.toml, loadCertFiles. A read error other than not-found
// is returned.
func ContainerdHostDirConfig(t Tree, dir string, v ContainerdVersion) ContainerdResult {
	r := ContainerdResult{Version: v, Dir: dir}
	b, err := t.readFile(joinFS(dir, "hosts.toml"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		r.Err = err
		return r
	}
	if len(b) > 0 {
		r.HostsTOML = true
		hosts, dropped, err := t.parseHostsFile(dir, b, v)
		if err == nil {
			r.Hosts, r.DroppedHosts = hosts, dropped
			return r
		}
		r.DecodeErr = err
	}
	r.Fallback = true
	hosts, skipped, err := t.loadCertFiles(dir)
	r.Hosts, r.Skipped, r.Err = hosts, skipped, err
	return r
}

// ContainerdReferences returns the fs paths a hosts.toml in dir names (ca
// and client entries) when it decodes with version v; nil when there is no
// hosts.toml or it does not decode. It reads nothing else.
func ContainerdReferences(t Tree, dir string, v ContainerdVersion) []string {
	b, err := t.readFile(joinFS(dir, "hosts.toml"))
	if err != nil || len(b) == 0 {
		return nil
	}
	hosts, _, err := t.parseHostsFile(dir, b, v)
	if err != nil {
		return nil
	}
	var out []string
	for _, h := range hosts {
		out = append(out, h.CAFiles...)
		for _, c := range h.ClientPairs {
			out = append(out, c[0])
			if c[1] != "" {
				out = append(out, c[1])
			}
		}
	}
	return out
}

// loadCertFiles is hosts.go loadCertFiles: directories are skipped; names
// ending ".crt" are CA files; ".cert" files pair with "<base>.key" when
// os.Stat finds it, else the cert file must hold the key; a lone ".key" is
// ignored.
func (t Tree) loadCertFiles(dir string) ([]ContainerdHost, []Skip, error) {
	es, err := t.readDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	hosts := make([]ContainerdHost, 1)
	var skipped []Skip
	for _, e := range es {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		p := joinFS(dir, name)
		used := false
		if strings.HasSuffix(name, ".crt") {
			hosts[0].CAFiles = append(hosts[0].CAFiles, p)
			hosts[0].CAsSet = true
			used = true
		}
		if strings.HasSuffix(name, ".cert") {
			pair := [2]string{p, ""}
			kp := joinFS(dir, name[:len(name)-5]+".key")
			if _, err := t.stat(kp); err == nil {
				pair[1] = kp
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, nil, err
			}
			hosts[0].ClientPairs = append(hosts[0].ClientPairs, pair)
			hosts[0].ClientsSet = true
			used = true
		}
		if !used && name != "hosts.toml" {
			reason := "not named *.crt or *.cert: containerd's certs.d fallback ignores it"
			if strings.HasSuffix(name, ".key") {
				reason = "a .key is read only as the pair of a <base>.cert"
			}
			skipped = append(skipped, Skip{Path: p, Reason: reason})
		}
	}
	return hosts, skipped, nil
}

func (t Tree) parseHostsFile(dir string, b []byte, v ContainerdVersion) ([]ContainerdHost, []string, error) {
	decode := config.DecodeV2
	if v == Containerd1 {
		decode = config1.DecodeV1
	}
	d, err := decode(b)
	if err != nil {
		return nil, nil, err
	}
	var dropped []string
	for k := range d.Hosts {
		found := false
		for _, o := range d.Order {
			found = found || o == k
		}
		if !found {
			dropped = append(dropped, k)
		}
	}
	sort.Strings(dropped)
	base := t.OSPath(dir)
	var hosts []ContainerdHost
	for _, h := range d.Order {
		parsed, err := t.parseHostConfig(h, base, d.Hosts[h], v)
		if err != nil {
			return nil, nil, err
		}
		hosts = append(hosts, parsed)
	}
	parsed, err := t.parseHostConfig(d.Server, base, d.Root, v)
	if err != nil {
		return nil, nil, err
	}
	return append(hosts, parsed), dropped, nil
}

// parseHostConfig is hosts.go parseHostConfig, with its error texts.
func (t Tree) parseHostConfig(server, base string, c config.HostFile, v ContainerdVersion) (ContainerdHost, error) {
	var h ContainerdHost
	if server != "" {
		server = ContainerdServerURL(server)
		u, err := url.Parse(server)
		if err != nil {
			return ContainerdHost{}, fmt.Errorf("unable to parse server %v: %w", server, err)
		}
		h.Scheme, h.Host = u.Scheme, u.Host
		if len(u.Path) > 0 {
			u.Path = path.Clean(u.Path)
			if !strings.HasSuffix(u.Path, "/v2") && !c.OverridePath {
				u.Path += "/v2"
			}
		} else if !c.OverridePath {
			u.Path = "/v2"
		}
		h.Path = u.Path
	}
	h.TLS.SkipVerify = c.SkipVerify
	if len(c.Capabilities) > 0 {
		var mask [4]bool
		for _, cp := range c.Capabilities {
			i := -1
			for j, n := range capNames {
				if strings.ToLower(cp) == n {
					i = j
				}
			}
			if i < 0 || (i == 3 && v == Containerd1) {
				return ContainerdHost{}, fmt.Errorf("unknown capability %v", cp)
			}
			mask[i] = true
		}
		for j, ok := range mask {
			if ok {
				h.Capabilities = append(h.Capabilities, capNames[j])
			}
		}
	} else {
		h.Capabilities = allCaps(v)
	}
	abs := func(p string) string { return t.absFS(p, base) }
	if c.CACert != nil {
		switch ca := c.CACert.(type) {
		case string:
			h.CAFiles = []string{abs(ca)}
		case []any:
			s, err := makeStringSlice(ca, abs)
			if err != nil {
				return ContainerdHost{}, err
			}
			h.CAFiles = s
		default:
			return ContainerdHost{}, fmt.Errorf("invalid type %v for \"ca\"", ca)
		}
		h.CAsSet = true
	}
	if c.Client != nil {
		switch cl := c.Client.(type) {
		case string:
			h.ClientPairs = [][2]string{{abs(cl), ""}}
		case []any:
			for _, pairs := range cl {
				switch p := pairs.(type) {
				case string:
					h.ClientPairs = append(h.ClientPairs, [2]string{abs(p), ""})
				case []any:
					s, err := makeStringSlice(p, abs)
					if err != nil {
						return ContainerdHost{}, err
					}
					if len(s) != 2 {
						return ContainerdHost{}, fmt.Errorf("invalid pair %v for \"client\"", p)
					}
					h.ClientPairs = append(h.ClientPairs, [2]string{s[0], s[1]})
				default:
					return ContainerdHost{}, fmt.Errorf("invalid type %T for \"client\"", p)
				}
			}
		default:
			return ContainerdHost{}, fmt.Errorf("invalid type %v for \"client\"", cl)
		}
		h.ClientsSet = h.ClientPairs != nil
	}
	if c.Header != nil {
		// containerd ranges over the header map, so which bad header it
		// reports is random; the model reports the first in sorted order
		// and keeps every text containerd may print.
		hd := map[string][]string{}
		keys := make([]string, 0, len(c.Header))
		for k := range c.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var herr *VariantError
		for _, k := range keys {
			var err error
			switch val := c.Header[k].(type) {
			case string:
				hd[k] = []string{val}
			case []any:
				hd[k], err = makeStringSlice(val, nil)
			default:
				err = fmt.Errorf("invalid type %v for header %q", val, k)
			}
			if err != nil {
				if herr == nil {
					herr = &VariantError{}
				}
				herr.Alternatives = append(herr.Alternatives, err.Error())
			}
		}
		if herr != nil {
			return ContainerdHost{}, herr
		}
		h.Header = hd
	}
	if v != Containerd1 && c.DialTimeout != "" {
		d, err := time.ParseDuration(c.DialTimeout)
		if err != nil {
			return ContainerdHost{}, err
		}
		h.DialTimeout = &d
	}
	return h, nil
}

func makeStringSlice(slice []any, cb func(string) string) ([]string, error) {
	out := make([]string, len(slice))
	for i, value := range slice {
		str, ok := value.(string)
		if !ok {
			return nil, fmt.Errorf("unable to cast %v to string", value)
		}
		if cb != nil {
			out[i] = cb(str)
		} else {
			out[i] = str
		}
	}
	return out, nil
}

// absFS is makeAbsPath (relative paths join the host directory's OS path)
// mapped back to an fs path. Note makeAbsPath("") is the host directory
// itself: containerd applies it to both halves of a [cert, key] pair, so an
// empty key there names the directory (read fails: "is a directory"); only
// a bare string client entry means "the key is in the cert file".
func (t Tree) absFS(p, base string) string {
	osp := ContainerdAbsPath(p, base)
	if f, ok := t.FSPath(osp); ok {
		return f
	}
	return outsidePrefix + osp
}

// ContainerdAbsPath is containerd's makeAbsPath: a relative ca or client
// path of a hosts.toml joins base, the OS path of the hosts.toml's
// directory; an absolute one is kept as written.
func ContainerdAbsPath(p, base string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// ContainerdServerURL is how parseHostConfig reads a server or host key
// before url.Parse: https:// is implied when no http(s) scheme is written.
func ContainerdServerURL(s string) string {
	if !strings.HasPrefix(s, "http") {
		return "https://" + s
	}
	return s
}

// VariantError is a loader error whose text containerd picks at random
// among Alternatives (a header map in 2.x, the host map in go-toml v1's
// decoder); Error returns the first, sorted.
type VariantError = config.VariantError

// ContainerdHostOrder is the order containerd 2.x tries the hosts of a
// hosts.toml (getSortedHosts): its [host."…"] table headers, in file order.
func ContainerdHostOrder(b []byte) []string { return config.SortedHosts(b) }

// ParseContainerdVersion reads the output of `containerd --version` or
// `ctr --version` ("containerd github.com/containerd/containerd v1.6.20 …",
// "ctr containerd.io 1.7.27", "ctr github.com/containerd/containerd/v2
// v2.1.4"): the rules of that release, 0 when the text names none.
func ParseContainerdVersion(out string) ContainerdVersion {
	for _, f := range strings.Fields(out) {
		f = strings.TrimPrefix(f, "v")
		major, _, ok := strings.Cut(f, ".")
		if !ok {
			continue
		}
		switch major {
		case "1":
			return Containerd1
		case "2", "3":
			return Containerd2
		}
	}
	return 0
}

// Package registry is the differential suite for pki/loader: it runs the
// registry loaders' own code — containerd v2's core/remotes/docker/config
// ConfigureHosts, docker/docker v28.5.2 registry.ReadCertsDirectory and
// containers/image v5.36.2 tlsclientconfig.SetupCertificates — and the
// models over the same trees, and fails with the tree and both answers on
// any disagreement. It is a test-only module: never linked into docker-tls.
package registry

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unsafe"

	hostconfig1 "github.com/containerd/containerd/remotes/docker/config"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	hostconfig "github.com/containerd/containerd/v2/core/remotes/docker/config"
	"github.com/containerd/log"
	"github.com/containers/image/v5/pkg/tlsclientconfig"
	"github.com/docker-tls/docker-tls/pki/loader"
	mobyregistry "github.com/docker/docker/registry"
	"github.com/sirupsen/logrus"
)

func sortStrings(s []string) { sort.Strings(s) }

// entry is one file of a tree: contents, a directory, or a symlink.
type entry struct {
	data    []byte
	dir     bool
	symlink string
}

// tree maps slash paths below the test root to entries.
type tree map[string]entry

func (tr tree) String() string {
	var names []string
	for n := range tr {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		e := tr[n]
		switch {
		case e.dir:
			fmt.Fprintf(&b, "  %s/\n", n)
		case e.symlink != "":
			fmt.Fprintf(&b, "  %s -> %s\n", n, e.symlink)
		case strings.HasSuffix(n, ".toml"):
			fmt.Fprintf(&b, "  %s:\n    %s\n", n, strings.ReplaceAll(strings.TrimSpace(string(e.data)), "\n", "\n    "))
		default:
			fmt.Fprintf(&b, "  %s (%s)\n", n, describe(e.data))
		}
	}
	return b.String()
}

func describe(b []byte) string {
	for _, k := range matKeys {
		if bytes.Equal(mat[k], b) {
			return k
		}
	}
	return fmt.Sprintf("%d bytes", len(b))
}

// write materialises the tree under a fresh temporary directory.
func (tr tree) write(t testing.TB) string {
	root := t.TempDir()
	var names []string
	for n := range tr {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := tr[n]
		p := filepath.Join(root, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case e.dir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case e.symlink != "":
			if err := os.Symlink(e.symlink, p); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, e.data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

var fsRoot = loader.Tree{FS: os.DirFS("/"), Root: "/"}

func fsPath(osPath string) string { return strings.TrimPrefix(filepath.ToSlash(osPath), "/") }

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func fps(cs []tls.Certificate) []string {
	var out []string
	for _, c := range cs {
		if len(c.Certificate) > 0 {
			out = append(out, loader.Fingerprint(c.Certificate[0])[:16])
		}
	}
	return out
}

func modelFps(cs []loader.ClientPair) []string {
	var out []string
	for _, c := range cs {
		out = append(out, loader.Fingerprint(c.Pair.Certificate[0])[:16])
	}
	return out
}

func subjects(cs []*x509.Certificate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Subject.CommonName+"/"+loader.Fingerprint(c.Raw)[:12])
	}
	return out
}

// comparePools reports a difference between the loader's RootCAs and the
// pool the model says it builds (system roots + the model's roots).
func comparePools(got *x509.CertPool, m *loader.TLS) string {
	if !m.SystemRoots {
		if got != nil {
			return "loader built RootCAs, model says none"
		}
		return ""
	}
	if got == nil {
		return fmt.Sprintf("model says RootCAs = system + %v, loader has none", subjects(m.Roots()))
	}
	want, err := x509.SystemCertPool()
	if err != nil {
		return "system pool: " + err.Error()
	}
	for _, c := range m.Roots() {
		want.AddCert(c)
	}
	if !got.Equal(want) {
		return fmt.Sprintf("RootCAs differ: model = system + %v", subjects(m.Roots()))
	}
	return ""
}

func mobyCase(t *testing.T, label string, tr tree, hostDir string) {
	t.Helper()
	root := tr.write(t)
	dir := filepath.Join(root, filepath.FromSlash(hostDir))
	cfg := &tls.Config{}
	err := mobyregistry.ReadCertsDirectory(cfg, dir)
	m := loader.MobyCertsDir(fsRoot, fsPath(dir), loader.Moby24)
	var diffs []string
	if errText(err) != errText(m.Err) {
		diffs = append(diffs, fmt.Sprintf("error: moby %q, model %q", errText(err), errText(m.Err)))
	}
	if err == nil && m.Err == nil {
		if d := comparePools(cfg.RootCAs, &m.TLS); d != "" {
			diffs = append(diffs, d)
		}
		if g, w := fps(cfg.Certificates), modelFps(m.Clients); !reflect.DeepEqual(g, w) {
			diffs = append(diffs, fmt.Sprintf("clients: moby %v, model %v", g, w))
		}
	}
	report(t, "docker/docker v28.5.2 registry.ReadCertsDirectory", label, tr, diffs)
	cfg = &tls.Config{}
	err = tlsclientconfig.SetupCertificates(dir, cfg)
	c := loader.ContainersCertsDir(fsRoot, fsPath(dir))
	diffs = nil
	if errText(err) != errText(c.Err) {
		diffs = append(diffs, fmt.Sprintf("error: containers/image %q, model %q", errText(err), errText(c.Err)))
	}
	if err == nil && c.Err == nil {
		if d := comparePools(cfg.RootCAs, &c.TLS); d != "" {
			diffs = append(diffs, d)
		}
		if g, w := fps(cfg.Certificates), modelFps(c.Clients); !reflect.DeepEqual(g, w) {
			diffs = append(diffs, fmt.Sprintf("clients: containers/image %v, model %v", g, w))
		}
	}
	report(t, "containers/image v5.36.2 tlsclientconfig.SetupCertificates", label, tr, diffs)
}

func report(t *testing.T, who, label string, tr tree, diffs []string) {
	t.Helper()
	if len(diffs) > 0 {
		t.Errorf("%s: %s disagrees with the model:\n  %s\ntree:\n%s", label, who, strings.Join(diffs, "\n  "), tr)
	}
}

// transportOf digs the *http.Transport out of a RegistryHost's client,
// through containerd's httpFallback wrapper (unexported field "super").
func transportOf(rt http.RoundTripper) *http.Transport {
	for i := 0; i < 3; i++ {
		if tr, ok := rt.(*http.Transport); ok {
			return tr
		}
		v := reflect.ValueOf(rt)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			return nil
		}
		f := v.Elem().FieldByName("super")
		if !f.IsValid() {
			return nil
		}
		rt = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(http.RoundTripper)
	}
	return nil
}

type logCapture struct{ errs []string }

func (l *logCapture) Levels() []logrus.Level { return logrus.AllLevels }
func (l *logCapture) Fire(e *logrus.Entry) error {
	if strings.HasPrefix(e.Message, "failed to decode") {
		if err, ok := e.Data[logrus.ErrorKey].(error); ok {
			l.errs = append(l.errs, err.Error())
		}
	}
	return nil
}

var capBits = map[string]docker.HostCapabilities{
	"pull": docker.HostCapabilityPull, "resolve": docker.HostCapabilityResolve,
	"push": docker.HostCapabilityPush, "referrers": docker.HostCapabilityReferrers,
}

// rhost is a RegistryHost of either containerd major version.
type rhost struct {
	Scheme, Host, Path string
	Caps               uint
	Header             http.Header
	Transport          http.RoundTripper
}

// containerdRun runs one containerd version's ConfigureHosts.
type containerdRun func(ctx context.Context, certsRoot, host string) ([]rhost, error)

func runV2(ctx context.Context, certsRoot, host string) ([]rhost, error) {
	hs, err := hostconfig.ConfigureHosts(ctx, hostconfig.HostOptions{HostDir: hostconfig.HostDirFromRoot(certsRoot)})(host)
	var out []rhost
	for _, h := range hs {
		out = append(out, rhost{h.Scheme, h.Host, h.Path, uint(h.Capabilities), h.Header, h.Client.Transport})
	}
	return out, err
}

func runV1(ctx context.Context, certsRoot, host string) ([]rhost, error) {
	hs, err := hostconfig1.ConfigureHosts(ctx, hostconfig1.HostOptions{HostDir: hostconfig1.HostDirFromRoot(certsRoot)})(host)
	var out []rhost
	for _, h := range hs {
		out = append(out, rhost{h.Scheme, h.Host, h.Path, uint(h.Capabilities), h.Header, h.Client.Transport})
	}
	return out, err
}

// containerdCase runs containerd v2.4.2's and v1.7.29's ConfigureHosts
// for host over the certs.d root rootDir of the tree, and the model of
// each version.
func containerdCase(t *testing.T, label string, tr tree, rootDir, host string) {
	t.Helper()
	root := tr.write(t)
	certsRoot := filepath.Join(root, filepath.FromSlash(rootDir))
	containerdCompare(t, "containerd v2.4.2", runV2, loader.Containerd2, label, tr, certsRoot, host)
	containerdCompare(t, "containerd v1.7.29", runV1, loader.Containerd1, label, tr, certsRoot, host)
}

func containerdCompare(t *testing.T, who string, run containerdRun, v loader.ContainerdVersion, label string, tr tree, certsRoot, host string) {
	t.Helper()
	lc := &logCapture{}
	lg := logrus.New()
	lg.SetOutput(ioDiscard{})
	lg.AddHook(lc)
	ctx := log.WithLogger(context.Background(), logrus.NewEntry(lg))
	hosts, err := run(ctx, certsRoot, host)
	m := loader.ContainerdConfigureHosts(fsRoot, fsPath(certsRoot), host, loader.ContainerdOptions{Version: v, GOOS: "linux"})
	var diffs []string
	if errText(err) != errText(m.Err) {
		diffs = append(diffs, fmt.Sprintf("error: containerd %q, model %q", errText(err), errText(m.Err)))
	}
	var logged string
	if len(lc.errs) > 0 {
		logged = lc.errs[0]
	}
	if m.DecodeErr == nil && logged != "" || m.DecodeErr != nil && logged != m.DecodeErr.Error() && !isAlternative(m.DecodeErr, logged) {
		diffs = append(diffs, fmt.Sprintf("hosts.toml decode: containerd logged %q, model %q", logged, errText(m.DecodeErr)))
	}
	if err == nil && m.Err == nil {
		if len(hosts) != len(m.Hosts) {
			diffs = append(diffs, fmt.Sprintf("hosts: containerd %d, model %d", len(hosts), len(m.Hosts)))
		} else {
			for i, h := range hosts {
				mh := &m.Hosts[i]
				var caps uint
				for _, c := range mh.Capabilities {
					caps |= uint(capBits[c])
				}
				// containerd upgrades an http host with explicit TLS to
				// https with an HTTP fallback.
				scheme := mh.Scheme
				if scheme == "http" && mh.ExplicitTLS() && !strings.HasSuffix(mh.Host, ":80") {
					scheme = "https"
				}
				if h.Scheme != scheme || h.Host != mh.Host || h.Path != mh.Path || h.Caps != caps {
					diffs = append(diffs, fmt.Sprintf("host %d: containerd %s://%s%s caps %b, model %s://%s%s caps %b", i, h.Scheme, h.Host, h.Path, h.Caps, scheme, mh.Host, mh.Path, caps))
				}
				var wantHdr http.Header
				if len(mh.Header) > 0 {
					wantHdr = http.Header(mh.Header)
				}
				if len(h.Header) > 0 || wantHdr != nil {
					if !reflect.DeepEqual(h.Header, wantHdr) {
						diffs = append(diffs, fmt.Sprintf("host %d header: containerd %v, model %v", i, h.Header, mh.Header))
					}
				}
				tr := transportOf(h.Transport)
				if tr == nil || tr.TLSClientConfig == nil {
					diffs = append(diffs, fmt.Sprintf("host %d: no transport TLS config found", i))
					continue
				}
				tc := tr.TLSClientConfig
				if d := comparePools(tc.RootCAs, &mh.TLS); d != "" {
					diffs = append(diffs, fmt.Sprintf("host %d: %s", i, d))
				}
				if g, w := fps(tc.Certificates), modelFps(mh.TLS.Clients); !reflect.DeepEqual(g, w) {
					diffs = append(diffs, fmt.Sprintf("host %d clients: containerd %v, model %v", i, g, w))
				}
				sv := mh.TLS.SkipVerify != nil && *mh.TLS.SkipVerify
				if tc.InsecureSkipVerify != sv {
					diffs = append(diffs, fmt.Sprintf("host %d skip_verify: containerd %v, model %v", i, tc.InsecureSkipVerify, sv))
				}
			}
		}
	}
	report(t, who+" ConfigureHosts("+host+")", label, tr, diffs)
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }

// allLoaders runs every oracle on a tree whose registry directory for
// reg.example:5000 lives under certs.d/.
func allLoaders(t *testing.T, label string, tr tree) {
	t.Helper()
	mobyCase(t, label, tr, "certs.d/reg.example:5000")
	containerdCase(t, label, tr, "certs.d", "reg.example:5000")
}

// isAlternative accepts any text containerd may log for a VariantError
// (it ranges over a map).
func isAlternative(err error, got string) bool {
	var he *loader.VariantError
	if errors.As(err, &he) {
		for _, a := range he.Alternatives {
			if a == got {
				return true
			}
		}
	}
	return false
}

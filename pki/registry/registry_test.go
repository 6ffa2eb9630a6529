package registry

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/pelletier/go-toml/v2"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	ca             *pki.CA
	caPEM          []byte
	server         *pki.Issued
	client         *pki.Issued
	serverPEM      []byte
	clientPEM      []byte
	clientKey      []byte
	serverKey      []byte
	otherClientKey []byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	caIss, err := pki.NewCA(pki.Request{CommonName: "Test Registry CA", Now: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ca := &pki.CA{Cert: caIss.Cert, Key: caIss.Key}
	srv, err := ca.Issue(pki.Request{Role: pki.RoleServer, CommonName: "myreg", DNSNames: []string{"myreg", "localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}, Now: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := ca.Issue(pki.Request{Role: pki.RoleClient, CommonName: "ci-bot", Now: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	other, err := ca.Issue(pki.Request{Role: pki.RoleClient, CommonName: "other", Now: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ca: ca, caPEM: caIss.CertPEM(), server: srv, client: cl, serverPEM: srv.CertPEM(), clientPEM: cl.CertPEM()}
	f.clientKey, _ = cl.KeyPEM()
	f.serverKey, _ = srv.KeyPEM()
	f.otherClientKey, _ = other.KeyPEM()
	return f
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want:\n%s", want)
	}
	if err.Error() != want {
		t.Fatalf("error:\n%s\nwant:\n%s", err, want)
	}
}

func TestCheckCA(t *testing.T) {
	f := newFixture(t)
	t.Run("server certificate", func(t *testing.T) {
		_, _, _, err := CheckCA("x.pem", f.serverPEM, now)
		wantErr(t, err, `x.pem: found a server certificate for "myreg" (extended key usage serverAuth, not a CA), expected the CA certificate that signed the registry's certificate`)
	})
	t.Run("client certificate", func(t *testing.T) {
		_, _, _, err := CheckCA("c.pem", f.clientPEM, now)
		wantErr(t, err, `c.pem: found a client certificate for "ci-bot" (extended key usage clientAuth, not a CA), expected the CA certificate that signed the registry's certificate`)
	})
	t.Run("full chain with the leaf first", func(t *testing.T) {
		_, _, _, err := CheckCA("fullchain.pem", append(append([]byte{}, f.serverPEM...), f.caPEM...), now)
		wantErr(t, err, `fullchain.pem: found a server certificate for "myreg" (extended key usage serverAuth, not a CA) (certificate 1 of 2), expected the CA certificate that signed the registry's certificate`)
	})
	t.Run("private key inside", func(t *testing.T) {
		caKey, _ := pki.EncodeKey(f.ca.Key)
		_, _, _, err := CheckCA("ca+key.pem", append(append([]byte{}, f.caPEM...), caKey...), now)
		wantErr(t, err, `ca+key.pem: found a private key next to the certificate; refusing to install it as the world-readable ca.crt: pass a file with only the CA certificate`)
	})
	t.Run("a key instead of a certificate", func(t *testing.T) {
		_, _, _, err := CheckCA("k.pem", f.clientKey, now)
		wantErr(t, err, `k.pem: found a private key, expected a PEM certificate (-----BEGIN CERTIFICATE-----) (are the certificate and key files swapped?)`)
	})
	t.Run("CA", func(t *testing.T) {
		in := append([]byte("# my CA\n"), f.caPEM...)
		out, certs, warn, err := CheckCA("ca.pem", in, now)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, f.caPEM) || len(certs) != 1 || len(warn) != 0 {
			t.Fatalf("out %q certs %d warnings %q", out, len(certs), warn)
		}
	})
	t.Run("expired CA warns", func(t *testing.T) {
		_, _, warn, err := CheckCA("ca.pem", f.caPEM, now.AddDate(20, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		want := `ca.pem: the CA "Test Registry CA" expired on ` + f.ca.Cert.NotAfter.UTC().Format(time.DateOnly) + `: clients will reject the registry's certificate ("x509: certificate has expired or is not yet valid")`
		if len(warn) != 1 || warn[0] != want {
			t.Fatalf("warnings %q, want %q", warn, want)
		}
	})
}

func TestCheckClientPair(t *testing.T) {
	f := newFixture(t)
	pair, warn, err := CheckClientPair("client.pem", f.clientPEM, "client-key.pem", f.clientKey, now)
	if err != nil || len(warn) != 0 || !bytes.Equal(pair.CertPEM, f.clientPEM) || !bytes.Equal(pair.KeyPEM, f.clientKey) {
		t.Fatalf("valid pair: %v %q", err, warn)
	}
	_, _, err = CheckClientPair("client.pem", f.clientPEM, "other-key.pem", f.otherClientKey, now)
	wantErr(t, err, `other-key.pem does not match client.pem: the key's public key (ECDSA P-256) is not the certificate's (ECDSA P-256)`)
	_, _, err = CheckClientPair("server.pem", f.serverPEM, "server-key.pem", f.serverKey, now)
	wantErr(t, err, `server.pem: certificate "myreg" does not allow client authentication (extended key usage serverAuth, expected clientAuth); the registry would answer "remote error: tls: bad certificate"`)
	caKey, _ := pki.EncodeKey(f.ca.Key)
	_, _, err = CheckClientPair("ca.pem", f.caPEM, "ca-key.pem", caKey, now)
	wantErr(t, err, `ca.pem: found a CA certificate ("Test Registry CA"), expected the client certificate to present to the registry`)
}

// tlsServer serves TLS on loopback with the given chain until the test ends.
func tlsServer(t *testing.T, chain [][]byte, key any, clientAuth tls.ClientAuthType) layout.RegistryHost {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: chain, PrivateKey: key}}, ClientAuth: clientAuth}
	if clientAuth == tls.RequireAndVerifyClientCert {
		cfg.ClientCAs = x509.NewCertPool()
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	return layout.RegistryHost{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port}
}

func TestFetchCA(t *testing.T) {
	f := newFixture(t)
	full := [][]byte{f.server.Cert.Raw, f.ca.Cert.Raw}
	ctx := context.Background()
	caFP := pki.Fingerprint(f.ca.Cert)
	srvFP := pki.Fingerprint(f.server.Cert)

	t.Run("full chain, client certificates required", func(t *testing.T) {
		h := tlsServer(t, full, f.server.Key, tls.RequireAndVerifyClientCert)
		chain, err := FetchChain(ctx, h, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(chain) != 2 || !chain[1].Equal(f.ca.Cert) {
			t.Fatalf("got %d certificates", len(chain))
		}
		lines := DescribeChain(chain, now)
		if lines[4] != "2. subject     CN=Test Registry CA (CA, self-signed)" || lines[6] != "   fingerprint "+caFP {
			t.Fatalf("description:\n%s", strings.Join(lines, "\n"))
		}
		root, warn, err := RootOf(h, chain, now)
		if err != nil || !root.Equal(f.ca.Cert) || len(warn) != 0 {
			t.Fatalf("root: %v %q", err, warn)
		}
		if err := MatchFingerprint(strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(caFP, "SHA256:"), ":", "")), h, root, chain); err != nil {
			t.Fatalf("bare lower-case hex of the CA: %v", err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(h.Port)
		wantErr(t, MatchFingerprint(srvFP, h, root, chain),
			`--fingerprint `+srvFP+` is the fingerprint of certificate 1 of the chain `+addr+` presented ("myreg"), not of the CA that would be installed ("Test Registry CA", `+caFP+`)`)
		wrong := "SHA256:" + strings.Repeat("AB:", 31) + "AB"
		wantErr(t, MatchFingerprint(wrong, h, root, chain),
			`--fingerprint `+wrong+` does not match the CA `+addr+` presented ("Test Registry CA", `+caFP+`): nothing was installed; the connection may be intercepted, or the registry's CA has changed`)
		wantErr(t, MatchFingerprint("SHA256:12:34", h, root, chain), `--fingerprint "SHA256:12:34": expected SHA256: followed by 32 hex bytes, as --fetch-ca prints it`)
		wantErr(t, NotConfirmedError(h, root),
			addr+` presented the CA "Test Registry CA" with fingerprint `+caFP+`; standard input is not a terminal, so it cannot be confirmed interactively: check the fingerprint with the registry's administrator and rerun with --fingerprint `+caFP)
	})
	t.Run("leaf only", func(t *testing.T) {
		h := tlsServer(t, [][]byte{f.server.Cert.Raw}, f.server.Key, tls.NoClientCert)
		chain, err := FetchChain(ctx, h, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = RootOf(h, chain, now)
		wantErr(t, err, `127.0.0.1:`+strconv.Itoa(h.Port)+` did not send its root CA: the last certificate it presented ("myreg") was issued by "CN=Test Registry CA", which is not in the chain; get that CA certificate from the registry's administrator and pass it with --ca FILE`)
	})
	t.Run("name not covered", func(t *testing.T) {
		h := tlsServer(t, full, f.server.Key, tls.NoClientCert)
		chain, err := FetchChain(ctx, h, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_, warn, err := RootOf(layout.RegistryHost{Host: "127.0.0.2", Port: h.Port}, chain, now)
		if err != nil || len(warn) != 1 || !strings.HasPrefix(warn[0], "the registry's certificate does not cover 127.0.0.2 (x509: certificate is valid for 127.0.0.1, not 127.0.0.2)") {
			t.Fatalf("%v %q", err, warn)
		}
	})
	t.Run("plain TCP", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			c, err := l.Accept()
			if err == nil {
				c.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n"))
				c.Close()
			}
		}()
		h := layout.RegistryHost{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port}
		_, err = FetchChain(ctx, h, 5*time.Second)
		if err == nil || !strings.HasSuffix(err.Error(), "(is it a plain-HTTP registry? certs.d is only used for TLS registries)") {
			t.Fatalf("error %v", err)
		}
	})
}

func parseTOML(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := toml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return m
}

func TestMergeHostsTOML(t *testing.T) {
	dir := "/etc/containerd/certs.d/myreg:5000"
	e := HostsEntry{Server: "https://myreg:5000", Dir: dir, CA: dir + "/ca.crt", Client: [2]string{dir + "/client.cert", dir + "/client.key"}}
	fresh := FreshHostsTOML(e)
	wantFresh := `# Registry TLS for myreg:5000, written by docker tls install-registry.
server = "https://myreg:5000"

[host."https://myreg:5000"]
  capabilities = ["pull", "resolve", "push"]
  ca = "/etc/containerd/certs.d/myreg:5000/ca.crt"
  client = [["/etc/containerd/certs.d/myreg:5000/client.cert", "/etc/containerd/certs.d/myreg:5000/client.key"]]
`
	if string(fresh) != wantFresh {
		t.Fatalf("fresh:\n%s", fresh)
	}
	t.Run("none", func(t *testing.T) {
		r, err := MergeHostsTOML(nil, e)
		if err != nil || !bytes.Equal(r.Data, fresh) || r.Conflict != "" {
			t.Fatalf("%v %q %s", err, r.Conflict, r.Data)
		}
	})
	t.Run("same again", func(t *testing.T) {
		r, err := MergeHostsTOML(fresh, e)
		if err != nil || !bytes.Equal(r.Data, fresh) || r.Conflict != "" || len(r.Notes) != 0 {
			t.Fatalf("%v %q %q", err, r.Conflict, r.Notes)
		}
	})
	t.Run("keeps other hosts, keys and comments", func(t *testing.T) {
		old := `# site mirrors, keep this comment
dial_timeout = "3s"

[host."https://mirror-b.example"]
  capabilities = ["pull", "resolve"]
  [host."https://mirror-b.example".header]
    x-team = ["infra"]

[host."https://mirror-a.example"]
  skip_verify = false`
		r, err := MergeHostsTOML([]byte(old), e)
		if err != nil || r.Conflict != "" {
			t.Fatalf("%v %q", err, r.Conflict)
		}
		want := `server = "https://myreg:5000"
` + old + `

[host."https://myreg:5000"]
  capabilities = ["pull", "resolve", "push"]
  ca = "/etc/containerd/certs.d/myreg:5000/ca.crt"
  client = [["/etc/containerd/certs.d/myreg:5000/client.cert", "/etc/containerd/certs.d/myreg:5000/client.key"]]
`
		if string(r.Data) != want {
			t.Fatalf("merged:\n%s\nwant:\n%s", r.Data, want)
		}
		if got := HostOrder(r.Data); !reflect.DeepEqual(got, []string{"https://mirror-b.example", "https://mirror-a.example", "https://myreg:5000"}) {
			t.Fatalf("order %q", got)
		}
		again, err := MergeHostsTOML(r.Data, e)
		if err != nil || !bytes.Equal(again.Data, r.Data) {
			t.Fatalf("merging twice changed the file: %v\n%s", err, again.Data)
		}
	})
	t.Run("entry without ca gets one, rest kept", func(t *testing.T) {
		old := "server = \"https://myreg:5000\"\n\n[host.\"https://mirror\"]\n  capabilities = [\"pull\"]\n\n[host.\"myreg:5000\"]\n  capabilities = [\"pull\", \"resolve\"]\n  override_path = true\n\n[host.\"https://other\"]\n  capabilities = [\"pull\"]\n"
		r, err := MergeHostsTOML([]byte(old), e)
		if err != nil || r.Conflict != "" {
			t.Fatalf("%v %q", err, r.Conflict)
		}
		m := parseTOML(t, r.Data)
		tbl := m["host"].(map[string]any)["myreg:5000"].(map[string]any)
		if tbl["ca"] != e.CA || tbl["override_path"] != true || !reflect.DeepEqual(tbl["capabilities"], []any{"pull", "resolve"}) {
			t.Fatalf("entry %#v", tbl)
		}
		if got := HostOrder(r.Data); !reflect.DeepEqual(got, []string{"https://mirror", "myreg:5000", "https://other"}) {
			t.Fatalf("order %q\n%s", got, r.Data)
		}
	})
	t.Run("different ca is a conflict", func(t *testing.T) {
		old := "# hand-made\nserver = \"https://myreg:5000\"\n\n[host.\"https://myreg:5000\"]\n  ca = \"/srv/ca.pem\"\n  dial_timeout = \"2s\"\n\n[host.\"https://fallback\"]\n"
		r, err := MergeHostsTOML([]byte(old), e)
		if err != nil {
			t.Fatal(err)
		}
		if r.Conflict != `[host."https://myreg:5000"] has ca = '/srv/ca.pem', not "/etc/containerd/certs.d/myreg:5000/ca.crt"` {
			t.Fatalf("conflict %q", r.Conflict)
		}
		m := parseTOML(t, r.Data)
		tbl := m["host"].(map[string]any)["https://myreg:5000"].(map[string]any)
		if tbl["ca"] != e.CA || tbl["dial_timeout"] != "2s" {
			t.Fatalf("forced entry %#v", tbl)
		}
		if got := HostOrder(r.Data); !reflect.DeepEqual(got, []string{"https://myreg:5000", "https://fallback"}) {
			t.Fatalf("order %q", got)
		}
		if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "comments") {
			t.Fatalf("notes %q", r.Notes)
		}
	})
	t.Run("other server is a conflict", func(t *testing.T) {
		r, err := MergeHostsTOML([]byte("server = \"https://elsewhere:5000\"\n"), e)
		if err != nil || r.Conflict != `it sets server = "https://elsewhere:5000", not "https://myreg:5000"` {
			t.Fatalf("%v %q", err, r.Conflict)
		}
	})
	t.Run("relative paths match", func(t *testing.T) {
		old := "server = \"myreg:5000\"\n[host.\"https://myreg:5000/\"]\n  ca = \"ca.crt\"\n  client = [[\"client.cert\", \"client.key\"]]\n"
		r, err := MergeHostsTOML([]byte(old), e)
		if err != nil || r.Conflict != "" || string(r.Data) != old {
			t.Fatalf("%v %q\n%s", err, r.Conflict, r.Data)
		}
	})
	t.Run("invalid TOML", func(t *testing.T) {
		r, err := MergeHostsTOML([]byte("server = \n"), e)
		if err != nil || !strings.HasPrefix(r.Conflict, "it is not valid TOML (") || !strings.HasSuffix(r.Conflict, "), so containerd ignores it") || !bytes.Equal(r.Data, fresh) {
			t.Fatalf("%v %q", err, r.Conflict)
		}
	})
}

func TestParseTargets(t *testing.T) {
	got, err := ParseTargets([]string{"containerd,docker", "docker", " Containers "})
	if err != nil || !reflect.DeepEqual(got, []Target{TargetContainerd, TargetDocker, TargetContainers}) {
		t.Fatalf("%v %v", got, err)
	}
	if got, _ := ParseTargets(nil); !reflect.DeepEqual(got, []Target{TargetDocker}) {
		t.Fatalf("default %v", got)
	}
	_, err = ParseTargets([]string{"podman"})
	wantErr(t, err, `--target "podman": use --target containers (podman, CRI-O, skopeo and buildah read /etc/containers/certs.d)`)
	_, err = ParseTargets([]string{"docker,rkt"})
	wantErr(t, err, `--target "rkt": unknown target, expected docker, containers or containerd`)
}

func TestLocations(t *testing.T) {
	h5000 := layout.RegistryHost{Host: "myreg", Port: 5000}
	env := map[string]string{"HOME": "/home/u", "XDG_CONFIG_HOME": "/home/u/.cfg", "XDG_RUNTIME_DIR": "/run/user/1000"}
	getenv := func(k string) string { return env[k] }
	t.Run("defaults", func(t *testing.T) {
		locs, _ := Request{Host: h5000, Targets: Targets, GOOS: "linux"}.Locations()
		want := []string{"/etc/docker/certs.d/myreg:5000", "/etc/containers/certs.d/myreg:5000", "/etc/containerd/certs.d/myreg:5000"}
		for i, l := range locs {
			if l.Dir != want[i] {
				t.Fatalf("%s: %s, want %s", l.Target, l.Dir, want[i])
			}
		}
	})
	t.Run("rootless", func(t *testing.T) {
		locs, _ := Request{Host: h5000, GOOS: "linux", Rootless: true, Getenv: getenv}.Locations()
		if locs[0].Dir != "/home/u/.cfg/docker/certs.d/myreg:5000" {
			t.Fatal(locs[0].Dir)
		}
		on, why := DetectRootless(getenv, 1000, func(p string) bool { return p == "/run/user/1000/docker.sock" })
		if !on || why != "the rootless dockerd socket /run/user/1000/docker.sock exists" {
			t.Fatal(on, why)
		}
		if on, _ := DetectRootless(getenv, 0, func(string) bool { return true }); on {
			t.Fatal("root with a socket in XDG_RUNTIME_DIR is not rootless")
		}
		if on, _ := DetectRootless(getenv, 1000, func(string) bool { return false }); on {
			t.Fatal("no socket, no rootlesskit: not rootless")
		}
		env["ROOTLESSKIT_STATE_DIR"] = "/run/user/1000/dockerd-rootless"
		defer delete(env, "ROOTLESSKIT_STATE_DIR")
		if on, why := DetectRootless(getenv, 0, func(string) bool { return false }); !on || why != "ROOTLESSKIT_STATE_DIR is set" {
			t.Fatal(on, why)
		}
	})
	t.Run("windows naming", func(t *testing.T) {
		locs, _ := Request{Host: h5000, Targets: Targets, GOOS: "windows", CertsDir: "/out"}.Locations()
		want := []string{"/out/myreg5000", "/out/myreg:5000", "/out/myreg5000"}
		for i, l := range locs {
			if l.Dir != want[i] {
				t.Fatalf("%s: %s, want %s", l.Target, l.Dir, want[i])
			}
		}
		_, err := Build(Request{Host: h5000, GOOS: "windows", CA: []byte("x")})
		if runtimeIsWindows() {
			t.Skip("running on Windows")
		}
		wantErr(t, err, `--os windows: pass --certs-dir DIR to prepare the files in DIR, then copy DIR\myreg5000 to C:\ProgramData\docker\certs.d on the Windows host`)
	})
	t.Run("containerd host_port_ directory first", func(t *testing.T) {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, "myreg_5000_"), 0o755); err != nil {
			t.Fatal(err)
		}
		locs, notes := Request{Host: h5000, Targets: []Target{TargetContainerd}, GOOS: "linux", CertsDir: root}.Locations()
		if locs[0].Dir != filepath.Join(root, "myreg_5000_") || len(notes) != 1 ||
			notes[0] != "containerd looks in "+root+"/myreg_5000_ before "+root+"/myreg:5000, and it exists: installing there" {
			t.Fatalf("%s %q", locs[0].Dir, notes)
		}
	})
}

func TestPort443Warning(t *testing.T) {
	f := newFixture(t)
	in, err := Build(Request{Host: layout.RegistryHost{Host: "myreg", Port: 443}, GOOS: "linux", CertsDir: t.TempDir(), CA: f.caPEM})
	if err != nil {
		t.Fatal(err)
	}
	want := "myreg:443 names the directory myreg:443, which is only used for images named myreg:443/…; for images named myreg/… (port 443 left out, as usual) install for myreg instead"
	if len(in.Warnings) != 1 || in.Warnings[0] != want {
		t.Fatalf("warnings %q", in.Warnings)
	}
	in, _ = Build(Request{Host: layout.RegistryHost{Host: "myreg"}, GOOS: "linux", CertsDir: t.TempDir(), CA: f.caPEM})
	if len(in.Warnings) != 0 {
		t.Fatalf("warnings without port: %q", in.Warnings)
	}
}

// tree lists every file below root with its mode and content.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		if fi.IsDir() {
			out[rel+"/"] = fi.Mode().Perm().String()
			return nil
		}
		data, _ := os.ReadFile(p)
		out[rel] = fi.Mode().Perm().String() + " " + string(data)
		return nil
	})
	return out
}

func TestInstallApply(t *testing.T) {
	f := newFixture(t)
	root := filepath.Join(t.TempDir(), "certs.d")
	h := layout.RegistryHost{Host: "myreg", Port: 5000}
	req := Request{Host: h, Targets: []Target{TargetDocker, TargetContainerd}, GOOS: "linux", CertsDir: root,
		CA: f.caPEM, ClientCert: f.clientPEM, ClientKey: f.clientKey, ContainerdConfig: filepath.Join(t.TempDir(), "none.toml")}
	in, err := Build(req)
	if err != nil {
		t.Fatal(err)
	}
	// Docker and containerd share the directory here: four files, not seven.
	if len(in.Files) != 4 {
		t.Fatalf("%d files", len(in.Files))
	}
	for _, s := range in.Preview(false) {
		if s.Action != fsutil.ActionCreate {
			t.Fatalf("%s: %s", s.Path, s.Action)
		}
	}
	if _, err := os.Stat(root); err == nil {
		t.Fatal("Preview created the directory")
	}
	res, err := in.Apply(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != fsutil.Created {
			t.Fatalf("%s: %s", r.Path, r.Outcome)
		}
	}
	got := tree(t, root)
	dir := "myreg:5000"
	if got["./"] != "-rwxr-xr-x" || got[dir+"/"] != "-rwxr-xr-x" || !strings.HasPrefix(got[dir+"/client.key"], "-rw------- ") ||
		!strings.HasPrefix(got[dir+"/ca.crt"], "-rw-r--r-- ") || !strings.HasPrefix(got[dir+"/hosts.toml"], "-rw-r--r-- ") {
		t.Fatalf("modes: %v", got)
	}
	if !strings.Contains(in.ContainerdConfigNote, `set config_path = "`+root+`"`) {
		t.Fatalf("config note %q", in.ContainerdConfigNote)
	}

	// The same again: unchanged, nothing touched.
	in2, err := Build(req)
	if err != nil {
		t.Fatal(err)
	}
	res, err = in2.Apply(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != fsutil.Unchanged {
			t.Fatalf("second run: %s: %s", r.Path, r.Outcome)
		}
	}
	if after := tree(t, root); !reflect.DeepEqual(after, got) {
		t.Fatal("second run changed files")
	}

	// Different material without --force: refused, nothing written.
	other := newFixture(t)
	req3 := req
	req3.CA, req3.ClientCert, req3.ClientKey = other.caPEM, other.clientPEM, other.clientKey
	in3, err := Build(req3)
	if err != nil {
		t.Fatal(err)
	}
	_, err = in3.Apply(false)
	if !errors.Is(err, fsutil.ErrExists) {
		t.Fatalf("error %v", err)
	}
	d := filepath.Join(root, dir)
	wantErr(t, err, "nothing was written; 3 files are in the way:\n"+
		"  "+d+"/ca.crt (registry CA): exists with different content\n"+
		"  "+d+"/client.cert (client certificate): exists with different content\n"+
		"  "+d+"/client.key (client private key): exists with different content\n"+
		"use --force to replace them (old files are kept as .bak-<time> backups): file exists with different content")
	if after := tree(t, root); !reflect.DeepEqual(after, got) {
		t.Fatal("refused run changed files")
	}

	// With --force: replaced, backups kept, hosts.toml unchanged (same paths).
	res, err = in3.Apply(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		want := fsutil.Replaced
		if strings.HasSuffix(r.Path, "hosts.toml") {
			want = fsutil.Unchanged
		}
		if r.Outcome != want || (want == fsutil.Replaced && r.Backup == "") {
			t.Fatalf("%s: %s backup %q", r.Path, r.Outcome, r.Backup)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(d, "ca.crt")); !bytes.Equal(data, other.caPEM) {
		t.Fatal("ca.crt not replaced")
	}
}

func TestInstallHostsTOMLConflict(t *testing.T) {
	f := newFixture(t)
	root := t.TempDir()
	d := filepath.Join(root, "myreg:5000")
	os.MkdirAll(d, 0o755)
	old := "server = \"https://myreg:5000\"\n[host.\"https://myreg:5000\"]\n  ca = \"/srv/ca.pem\"\n"
	os.WriteFile(filepath.Join(d, "hosts.toml"), []byte(old), 0o644)
	in, err := Build(Request{Host: layout.RegistryHost{Host: "myreg", Port: 5000}, Targets: []Target{TargetContainerd}, GOOS: "linux", CertsDir: root, CA: f.caPEM})
	if err != nil {
		t.Fatal(err)
	}
	steps := in.Preview(false)
	if steps[0].Action != fsutil.ActionCreate || steps[1].Action != fsutil.ActionConflict {
		t.Fatalf("%v %v", steps[0].Action, steps[1].Action)
	}
	_, err = in.Apply(false)
	wantErr(t, err, "nothing was written; 1 file is in the way:\n  "+d+"/hosts.toml (containerd hosts configuration): [host.\"https://myreg:5000\"] has ca = '/srv/ca.pem', not \""+d+"/ca.crt\"\nuse --force to replace them (old files are kept as .bak-<time> backups): file exists with different content")
	if _, err := os.Stat(filepath.Join(d, "ca.crt")); err == nil {
		t.Fatal("ca.crt written although the plan was refused")
	}
	if _, err := in.Apply(true); err != nil {
		t.Fatal(err)
	}
	m := parseTOML(t, mustRead(t, filepath.Join(d, "hosts.toml")))
	if m["host"].(map[string]any)["https://myreg:5000"].(map[string]any)["ca"] != d+"/ca.crt" {
		t.Fatal("forced hosts.toml does not name the installed CA")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFindClientPair(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "client.cert"), f.clientPEM, 0o644)
	os.WriteFile(filepath.Join(dir, "client.key"), f.clientKey, 0o600)
	c, k, d, ok := FindClientPair([]string{filepath.Join(dir, "missing"), dir}, f.ca.Cert, now)
	if !ok || d != dir || !bytes.Equal(c, f.clientPEM) || !bytes.Equal(k, f.clientKey) {
		t.Fatal("valid pair not found")
	}
	if _, _, _, ok := FindClientPair([]string{dir}, newFixture(t).ca.Cert, now); ok {
		t.Fatal("pair from another CA reused")
	}
	if _, _, _, ok := FindClientPair([]string{dir}, f.ca.Cert, f.client.Cert.NotAfter.AddDate(0, 0, -10)); ok {
		t.Fatal("pair expiring in 10 days reused")
	}
}

// TestVerifyPlanned: the install plan is checked with the loader models
// on the tree it would leave.
func TestVerifyPlanned(t *testing.T) {
	f := newFixture(t)
	h := layout.RegistryHost{Host: "myreg", Port: 5000}
	root := t.TempDir()
	in, err := Build(Request{Host: h, GOOS: "linux", CertsDir: root, CA: f.caPEM})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Warnings) != 0 {
		t.Fatalf("a clean install warns: %q", in.Warnings)
	}
	// A stray key already in the directory: dockerd's loader still fails.
	dir := filepath.Join(root, h.DirName("linux"))
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "domain.key"), []byte("x"), 0o600)
	in, err = Build(Request{Host: h, GOOS: "linux", CertsDir: root, CA: f.caPEM})
	if err != nil {
		t.Fatal(err)
	}
	want := "dockerd's certs.d loader would still fail for myreg:5000: missing client certificate domain.cert for key domain.key"
	if len(in.Warnings) == 0 || in.Warnings[0] != want {
		t.Errorf("warnings %q, want %q", in.Warnings, want)
	}
	// containerd stats myreg_5000_ before myreg:5000: a stray file of that
	// name wins (and then fails).
	croot := t.TempDir()
	os.WriteFile(filepath.Join(croot, "myreg_5000_"), nil, 0o644)
	in, err = Build(Request{Host: h, Targets: []Target{TargetContainerd}, GOOS: "linux", CertsDir: croot, CA: f.caPEM})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range in.Warnings {
		found = found || strings.Contains(w, "containerd reads "+filepath.Join(croot, "myreg_5000_")+" for myreg:5000")
	}
	if !found {
		t.Errorf("no warning about the shadowing directory: %q", in.Warnings)
	}
}

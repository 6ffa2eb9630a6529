package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/pki"
)

// TestRegistryLoaderProfiles probes one registry with the material of each
// loader: dockerd's certs.d (CA only: no client certificate), containerd's
// hosts.toml (CA and client pair) and containers/image's certs.d (a .cert
// and .key pair). Each profile is its own finding, named after it.
func TestRegistryLoaderProfiles(t *testing.T) {
	ca, srv, cli := testTrio(t, "", pki.Request{DNSNames: []string{"registry.test"}}, "puller")
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		fmt.Fprint(w, "{}")
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{srv.Cert.Raw}, PrivateKey: srv.Key}},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	defer s.Close()
	_, portStr, _ := net.SplitHostPort(s.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	hp := "127.0.0.1:" + portStr

	root := t.TempDir()
	write := func(p string, data []byte) {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keyPEM, _ := cli.KeyPEM()
	write("etc/docker/certs.d/"+hp+"/ca.crt", pki.EncodeCert(ca.Cert))
	write("etc/containerd/certs.d/127.0.0.1_"+portStr+"_/hosts.toml", []byte(fmt.Sprintf("server = \"https://%s\"\n\n[host.\"https://%s\"]\n  ca = \"ca.crt\"\n  client = [[\"puller.cert\", \"puller.key\"]]\n", hp, hp)))
	write("etc/containerd/certs.d/127.0.0.1_"+portStr+"_/ca.crt", pki.EncodeCert(ca.Cert))
	write("etc/containerd/certs.d/127.0.0.1_"+portStr+"_/puller.cert", cli.CertPEM())
	write("etc/containerd/certs.d/127.0.0.1_"+portStr+"_/puller.key", keyPEM)
	write("etc/containers/certs.d/"+hp+"/ca.crt", pki.EncodeCert(ca.Cert))
	write("etc/containers/certs.d/"+hp+"/client.cert", cli.CertPEM())
	write("etc/containers/certs.d/"+hp+"/client.key", keyPEM)

	osRoot, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer osRoot.Close()
	opts := Options{FS: RootFS(osRoot), Root: root, Env: map[string]string{"HOME": "/root"}}
	target := probe.Target{Role: probe.RoleRegistry, Host: "127.0.0.1", Port: port, Input: hp}
	live := RegistryTargets(opts, target, false)
	if len(live) != 3 {
		t.Fatalf("profiles: %+v", live)
	}
	results := Probe(context.Background(), live, probe.Options{Timeout: 2 * time.Second}, 2)
	rep := &catalog.Report{}
	AddLive(rep, live, results)
	got := map[string]string{}
	for _, f := range rep.Findings {
		got[f.Subject] = f.CheckID
		if strings.HasSuffix(f.Subject, ")") && f.DockerError != "" {
			t.Errorf("%s: a non-docker profile carries a docker line %q", f.Subject, f.DockerError)
		}
	}
	want := map[string]string{
		"https://" + hp:                   "probe-client-cert-missing",
		"https://" + hp + " (containerd)": "probe-ok",
		"https://" + hp + " (containers)": "probe-ok",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s (all: %v)", k, got[k], v, got)
		}
	}
	if !strings.Contains(live[1].Client.Source, "/etc/containerd/certs.d/127.0.0.1_"+portStr+"_") {
		t.Errorf("containerd dir %q: host_port_ form expected", live[1].Client.Source)
	}
}

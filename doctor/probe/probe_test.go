package probe

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/regerr"
)

// world is a set of CAs and certificates for loopback servers.
type world struct {
	caA, caB               *pki.CA
	srv, srvDNSOnly        *pki.Issued
	srvCNOnly, srvExpired  *pki.Issued
	srvFuture, srvClientEK *pki.Issued
	cliA, cliB, cliServerE *pki.Issued
	cliExpired             *pki.Issued
	root                   *pki.CA
	inter                  *x509.Certificate
	leafViaInter           *tlsPair
	leafSiblingCA          *tlsPair
	leafBadParent          *tlsPair
	badParent              *pki.Issued
}

type tlsPair struct {
	cert *x509.Certificate
	key  crypto.Signer
	tls  tls.Certificate
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func newCA(t *testing.T, cn, org string) *pki.CA {
	iss := must(pki.NewCA(pki.Request{CommonName: cn, Organization: org}))
	return &pki.CA{Cert: iss.Cert, Key: iss.Key}
}

var (
	worldOnce sync.Once
	theWorld  *world
)

func getWorld(t *testing.T) *world {
	worldOnce.Do(func() { theWorld = buildWorld(t) })
	return theWorld
}

func buildWorld(t *testing.T) *world {
	w := &world{caA: newCA(t, "CA A", ""), caB: newCA(t, "CA B", "")}
	now := time.Now()
	ip := []net.IP{net.ParseIP("127.0.0.1").To4()}
	srv := func(ca *pki.CA, r pki.Request) *pki.Issued {
		r.Role = pki.RoleServer
		if r.CommonName == "" {
			r.CommonName = "srv"
		}
		return must(ca.Issue(r))
	}
	w.srv = srv(w.caA, pki.Request{DNSNames: []string{"localhost"}, IPs: ip})
	w.srvDNSOnly = srv(w.caA, pki.Request{DNSNames: []string{"docker.example"}})
	w.srvExpired = srv(w.caA, pki.Request{DNSNames: []string{"localhost"}, IPs: ip, Now: now.AddDate(0, 0, -10), Days: 2})
	w.srvFuture = srv(w.caA, pki.Request{DNSNames: []string{"localhost"}, IPs: ip})
	w.cliA = must(w.caA.Issue(pki.Request{Role: pki.RoleClient, CommonName: "alice"}))
	w.cliB = must(w.caB.Issue(pki.Request{Role: pki.RoleClient, CommonName: "mallory"}))
	w.cliExpired = must(w.caA.Issue(pki.Request{Role: pki.RoleClient, CommonName: "old", Now: now.AddDate(0, 0, -10), Days: 2}))
	// A "client" certificate with serverAuth only.
	w.cliServerE = srv(w.caA, pki.Request{CommonName: "wrong-eku", DNSNames: []string{"client.example"}})
	// A "server" certificate with clientAuth only, with SANs.
	w.srvClientEK = manual(t, w.caA.Cert, w.caA.Key, func(c *x509.Certificate) {
		c.DNSNames, c.IPAddresses = []string{"localhost"}, ip
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}).issued()
	// CN-only: no SAN extension at all.
	w.srvCNOnly = manual(t, w.caA.Cert, w.caA.Key, func(c *x509.Certificate) {
		c.Subject = pkix.Name{CommonName: "localhost"}
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}).issued()
	// Root → intermediate → leaf, all of organisation Acme.
	// A root without a path length limit (docker-tls' own CAs have path
	// length 0 and cannot have intermediates).
	rootKey := must(pki.GenerateKey(pki.KeyECDSAP256, nil))
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Acme Root", Organization: []string{"Acme"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	rootCert := must(x509.ParseCertificate(must(x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey))))
	w.root = &pki.CA{Cert: rootCert, Key: rootKey}
	interPair := manual(t, w.root.Cert, w.root.Key, func(c *x509.Certificate) {
		c.Subject = pkix.Name{CommonName: "Acme Intermediate", Organization: []string{"Acme"}}
		c.IsCA, c.BasicConstraintsValid = true, true
		c.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		c.MaxPathLen, c.MaxPathLenZero = 0, true
	})
	w.inter = interPair.cert
	w.leafViaInter = manual(t, interPair.cert, interPair.key, func(c *x509.Certificate) {
		c.DNSNames, c.IPAddresses = []string{"localhost"}, ip
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		// AIA caIssuers: where the issuer is published (Go never fetches
		// it): the evidence that the issuer is an intermediate.
		c.IssuingCertificateURL = []string{"http://pki.acme.example/intermediate.crt"}
	})
	// Another root of the same organisation, not trusted: it merely
	// shares the Organization; nothing says it is an intermediate.
	sibKey := must(pki.GenerateKey(pki.KeyECDSAP256, nil))
	sibTmpl := &x509.Certificate{SerialNumber: big.NewInt(8), Subject: pkix.Name{CommonName: "Acme Other CA", Organization: []string{"Acme"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	sibCert := must(x509.ParseCertificate(must(x509.CreateCertificate(rand.Reader, sibTmpl, sibTmpl, sibKey.Public(), sibKey))))
	w.leafSiblingCA = manual(t, sibCert, sibKey, func(c *x509.Certificate) {
		c.DNSNames, c.IPAddresses = []string{"localhost"}, ip
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	// A leaf (not a CA) used as the issuer.
	w.badParent = must(w.caA.Issue(pki.Request{Role: pki.RoleClient, CommonName: "not-a-ca"}))
	w.leafBadParent = manual(t, w.badParent.Cert, w.badParent.Key, func(c *x509.Certificate) {
		c.DNSNames, c.IPAddresses = []string{"localhost"}, ip
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	return w
}

func (p *tlsPair) issued() *pki.Issued { return &pki.Issued{Cert: p.cert, Key: p.key} }

// manual signs a certificate from a hand-made template (shapes pki refuses
// to issue).
func manual(t *testing.T, parent *x509.Certificate, parentKey crypto.Signer, edit func(*x509.Certificate)) *tlsPair {
	key := must(pki.GenerateKey(pki.KeyECDSAP256, nil))
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "manual"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	edit(tmpl)
	der := must(x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey))
	c := must(x509.ParseCertificate(der))
	return &tlsPair{cert: c, key: key, tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}}
}

func daemonClient(t *testing.T, ca *x509.Certificate, pairs ...*pki.Issued) Client {
	c := Client{TLS: true, Source: "the test client"}
	if ca != nil {
		c.CA, c.CAFile = pki.EncodeCert(ca), "ca.pem"
	}
	for _, p := range pairs {
		key := must(p.KeyPEM())
		c.Pairs = append(c.Pairs, Pair{CertFile: "cert.pem", KeyFile: "key.pem", Cert: p.CertPEM(), Key: key})
	}
	return c
}

type probeCase struct {
	name     string
	port     int
	host     string
	role     Role
	client   Client
	opts     Options
	want     Outcome
	stage    Stage
	docker   []string // substrings of DockerError
	push     []string // substrings of DockerPushError (registries)
	cause    []string // substrings of Cause
	notIn    []string // not in Cause
	fix      []string // substrings of Fix
	evidence func(*testing.T, *Result)
}

func runCases(t *testing.T, cases []probeCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			host := tc.host
			if host == "" {
				host = "127.0.0.1"
			}
			role := tc.role
			if role == "" {
				role = RoleDaemon
			}
			target := Target{Role: role, Host: host, Port: tc.port, Input: fmt.Sprintf("%s:%d", host, tc.port)}
			opts := tc.opts
			if opts.Timeout == 0 {
				opts.Timeout = 2 * time.Second
			}
			if host == "localhost" {
				opts.Resolver = func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }
			}
			r := Probe(context.Background(), target, tc.client, opts)
			if r.Outcome != tc.want {
				t.Fatalf("outcome %s (stage %s, err %q), want %s\ncause: %s\ndocker: %s", r.Outcome, r.Stage, r.Err, tc.want, r.Cause, r.DockerError)
			}
			if tc.stage != "" && r.Stage != tc.stage {
				t.Errorf("stage %s, want %s", r.Stage, tc.stage)
			}
			for _, s := range tc.docker {
				if !strings.Contains(r.DockerError, s) {
					t.Errorf("docker error %q lacks %q", r.DockerError, s)
				}
			}
			if strings.HasPrefix(r.DockerPushError, dockerdPrefix) || (tc.role == RoleRegistry) != (r.DockerPushError != "") && r.DockerError != "" {
				t.Errorf("docker push's line %q (pull's %q): a registry's, never prefixed as the daemon's API errors are", r.DockerPushError, r.DockerError)
			}
			for _, s := range tc.push {
				if !strings.Contains(r.DockerPushError, s) {
					t.Errorf("docker push error %q lacks %q", r.DockerPushError, s)
				}
			}
			for _, s := range tc.cause {
				if !strings.Contains(r.Cause, s) {
					t.Errorf("cause %q lacks %q", r.Cause, s)
				}
			}
			for _, s := range tc.fix {
				if !strings.Contains(r.Fix, s) {
					t.Errorf("fix %q lacks %q", r.Fix, s)
				}
			}
			for _, s := range tc.notIn {
				if strings.Contains(r.Cause, s) {
					t.Errorf("cause %q has %q", r.Cause, s)
				}
			}
			if r.Cause == "" || (!r.Outcome.OK() && r.Fix == "") {
				t.Errorf("no cause or fix: %+v", r)
			}
			if tc.evidence != nil {
				tc.evidence(t, r)
			}
			// Evidence never carries key material.
			b, _ := json.Marshal(r)
			if strings.Contains(string(b), "PRIVATE KEY") {
				t.Error("result carries key material")
			}
		})
	}
}

func TestProbeDaemonOutcomes(t *testing.T) {
	w := getWorld(t)
	mtls := func(cert tls.Certificate, mutate ...func(*tls.Config)) int {
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: poolOf(w.caA.Cert)}
		for _, m := range mutate {
			m(cfg)
		}
		return tlsServer(t, cfg, dockerHandler())
	}
	good := mtls(pairOf(t, w.srv))
	tls12 := mtls(pairOf(t, w.srv), func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 })
	serverOnly := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{pairOf(t, w.srv)}}, dockerHandler())
	dnsOnly := mtls(pairOf(t, w.srvDNSOnly))
	cnOnly := mtls(pairOf(t, w.srvCNOnly))
	expired := mtls(pairOf(t, w.srvExpired))
	wrongEKU := mtls(pairOf(t, w.srvClientEK))
	leafOnly := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{w.leafViaInter.tls}}, dockerHandler())
	siblingCA := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{w.leafSiblingCA.tls}}, dockerHandler())
	fullChain := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{w.leafViaInter.cert.Raw, w.inter.Raw}, PrivateKey: w.leafViaInter.key}}}, dockerHandler())
	badParent := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{w.leafBadParent.tls}}, dockerHandler())
	plain := plainServer(t, dockerHandler())
	ssh := rawServer(t, func(c net.Conn) { c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")); io.Copy(io.Discard, c) })
	silent := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	garbage := rawServer(t, func(c net.Conn) { c.Read(make([]byte, 512)); c.Write([]byte("\x00\x01garbage garbage garbage")) })
	midClose := rawServer(t, func(c net.Conn) { c.Read(make([]byte, 512)) })
	drip := rawServer(t, func(c net.Conn) { c.Read(make([]byte, 512)); slowDrip(c) })

	cases := []probeCase{
		{name: "ok", port: good, client: daemonClient(t, w.caA.Cert, w.cliA), want: OutcomeOK,
			cause: []string{"the daemon answered over TLS 1.3 (Docker 99.0.0-test)"},
			evidence: func(t *testing.T, r *Result) {
				if !r.Evidence.CertRequested || r.Evidence.ClientCertSent != "CN=alice" || len(r.Evidence.AcceptableCAs) != 1 || r.Evidence.AcceptableCAs[0] != "CN=CA A" {
					t.Errorf("evidence: %+v", r.Evidence)
				}
			}},
		{name: "ok by name", host: "localhost", port: good, client: daemonClient(t, w.caA.Cert, w.cliA), want: OutcomeOK},
		{name: "no client cert", port: good, client: daemonClient(t, w.caA.Cert), want: OutcomeClientCertMissing, stage: StageClientCrt,
			docker: []string{"remote error: tls: certificate required"},
			cause:  []string{"the server requires a client certificate (tlsverify) and the test client has none"}},
		{name: "no client cert TLS 1.2", port: tls12, client: daemonClient(t, w.caA.Cert), want: OutcomeClientCertMissing, stage: StageHandshake,
			docker: []string{"the server probably has client authentication (--tlsverify) enabled; check your TLS client certification settings", "remote error: tls: handshake failure"}},
		{name: "client cert from another CA", port: good, client: daemonClient(t, w.caA.Cert, w.cliB), want: OutcomeClientCertNotAccepted,
			docker: []string{"remote error: tls: certificate required"},
			cause:  []string{"was issued by CN=CA B, but the server accepts only certificates from CN=CA A, so Go silently sent none"}},
		{name: "client cert without clientAuth", port: good, client: daemonClient(t, w.caA.Cert, w.cliServerE), want: OutcomeClientCertWrongEKU,
			docker: []string{"remote error: tls: bad certificate"}},
		{name: "expired client cert", port: good, client: daemonClient(t, w.caA.Cert, w.cliExpired), want: OutcomeClientCertExpired,
			docker: []string{"remote error: tls: expired certificate"}},
		{name: "server from unknown CA", port: good, client: daemonClient(t, w.caB.Cert, w.cliA), want: OutcomeServerUnknownCA, stage: StageVerify,
			docker: []string{"error during connect: Get \"https://127.0.0.1:", "/version\": tls: failed to verify certificate: x509: certificate signed by unknown authority"},
			cause:  []string{"issued by CN=CA A, but the client trusts only CN=CA B (ca.pem)"}},
		{name: "IP not in SANs", port: dnsOnly, client: daemonClient(t, w.caA.Cert, w.cliA), want: OutcomeServerNameMismatch,
			docker: []string{"x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs"},
			cause:  []string{`the client connects to "127.0.0.1", but the server's certificate is valid only for docker.example (an IP address must be an IP SAN; a CN never counts)`}},
		{name: "CN only", host: "localhost", port: cnOnly, client: daemonClient(t, w.caA.Cert, w.cliA), want: OutcomeServerCNOnly,
			docker: []string{"x509: certificate relies on legacy Common Name field, use SANs instead"}},
		{name: "expired server", port: expired, client: daemonClient(t, w.caA.Cert, w.cliA), want: OutcomeServerExpired,
			docker: []string{"x509: certificate has expired or is not yet valid"}},
		{name: "server not yet valid (clock skew)", port: good, client: daemonClient(t, w.caA.Cert, w.cliA),
			opts: Options{Now: func() time.Time { return time.Now().Add(-48 * time.Hour) }}, want: OutcomeServerNotYetValid,
			cause: []string{"this machine's clock is 4"}},
		{name: "server cert without serverAuth", port: wrongEKU, client: daemonClient(t, w.caA.Cert, w.cliA), want: OutcomeServerWrongEKU,
			docker: []string{"x509: certificate specifies an incompatible key usage"},
			// Every SAN once: the host the client uses is already one.
			fix: []string{"docker tls issue server --san " + strings.Join(append(append([]string{}, w.srvClientEK.Cert.DNSNames...), ipStrings(w.srvClientEK.Cert)...), ",") + " --ca-cert ca.pem --ca-key <the key of ca.pem> --out <dir>"}},
		{name: "missing intermediate", port: leafOnly, client: daemonClient(t, w.root.Cert), want: OutcomeServerChainIncomplete,
			cause: []string{"CN=Acme Intermediate,O=Acme looks like an intermediate CA the server must send"},
			// Where the intermediate is, which file to append it to, and
			// the restart.
			fix: []string{"append the intermediate CN=Acme Intermediate,O=Acme (published at http://pki.acme.example/intermediate.crt) to the file dockerd's tlscert (--tlscert) names, then restart dockerd: curl -fsSL http://pki.acme.example/intermediate.crt | openssl x509 -inform der -out intermediate.pem && cat server-cert.pem intermediate.pem > server-cert.pem.chain && mv server-cert.pem.chain server-cert.pem"}},
		{name: "CA of the same organisation is not an intermediate", port: siblingCA, client: daemonClient(t, w.root.Cert), want: OutcomeServerUnknownCA,
			cause: []string{"issued by CN=Acme Other CA,O=Acme, but the client trusts only CN=Acme Root,O=Acme", "if that issuer is an intermediate, the server must also send it"},
			notIn: []string{"looks like an intermediate"}},
		{name: "full chain", port: fullChain, client: daemonClient(t, w.root.Cert), want: OutcomeOK},
		{name: "CA cannot sign", port: badParent, client: daemonClient(t, w.badParent.Cert), want: OutcomeServerCACannotSign,
			docker: []string{"parent certificate cannot sign this kind of certificate"}},
		{name: "skip verify", port: serverOnly, client: Client{TLS: true, SkipVerify: true}, want: OutcomeOK},
		{name: "plain client to TLS", port: serverOnly, client: Client{}, want: OutcomePlainClientToTLS,
			docker: []string{"Error response from daemon: Client sent an HTTP request to an HTTPS server."},
			evidence: func(t *testing.T, r *Result) {
				if r.Evidence.SpeaksTLS == nil || !*r.Evidence.SpeaksTLS || r.Evidence.HTTPStatus != 400 || r.Evidence.CertRequested {
					t.Errorf("evidence: %+v", r.Evidence)
				}
			}},
		// A daemon with tlsverify seen from a plain client: it asks for a
		// client certificate (TLS 1.3 completes the client's side of the
		// handshake before the refusal), and the evidence says so.
		{name: "plain client to TLS with client auth", port: good, client: Client{}, want: OutcomePlainClientToTLS,
			evidence: func(t *testing.T, r *Result) {
				if r.Evidence.TLSVersion != "TLS 1.3" || !r.Evidence.CertRequested {
					t.Errorf("evidence: %+v", r.Evidence)
				}
			}},
		{name: "plain client to plain daemon", port: plain, client: Client{}, want: OutcomeOKPlain},
		{name: "TLS client to plain HTTP", port: plain, client: daemonClient(t, w.caA.Cert, w.cliA), want: OutcomePlainHTTPServer,
			docker: []string{"http: server gave HTTP response to HTTPS client"}},
		{name: "SSH banner", port: ssh, client: daemonClient(t, w.caA.Cert, w.cliA), want: OutcomeNotTLS, stage: StageSniff,
			docker: []string{"tls: first record does not look like a TLS handshake"},
			cause:  []string{"is an SSH server, not a TLS endpoint"}},
		{name: "garbage", port: garbage, client: daemonClient(t, w.caA.Cert, w.cliA), want: OutcomeNotTLS, stage: StageSniff,
			docker: []string{"tls: first record does not look like a TLS handshake"}},
		{name: "accepts and says nothing", port: silent, client: daemonClient(t, w.caA.Cert, w.cliA), opts: Options{Timeout: 500 * time.Millisecond}, want: OutcomeSilent},
		{name: "slow drip", port: drip, client: daemonClient(t, w.caA.Cert, w.cliA), opts: Options{Timeout: 500 * time.Millisecond}, want: OutcomeSilent},
		{name: "closes mid-handshake", port: midClose, client: daemonClient(t, w.caA.Cert, w.cliA), want: OutcomeHandshakeFailed,
			docker: []string{"error during connect: Get \"https://127.0.0.1:"}},
		{name: "refused", port: closedPort(t), client: daemonClient(t, w.caA.Cert, w.cliA), want: OutcomeConnectRefused,
			docker: []string{"Cannot connect to the Docker daemon at tcp://127.0.0.1:"}},
		{name: "bad ca.pem", port: good, client: Client{TLS: true, CA: []byte("not pem"), CAFile: "ca.pem"}, want: OutcomeClientConfig,
			docker: []string{"failed to retrieve context tls info: ca.pem seems invalid"}},
		{name: "unresolvable", host: "no-such-host.invalid", port: good, client: daemonClient(t, w.caA.Cert, w.cliA), want: OutcomeResolveFailed},
	}
	runCases(t, cases)
}

func TestProbeRegistryOutcomes(t *testing.T) {
	w := getWorld(t)
	reg := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{pairOf(t, w.srv)}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: poolOf(w.caA.Cert)}, registryHandler())
	notReg := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{pairOf(t, w.srv)}}, http.NotFoundHandler())
	certsd := func(files map[string][]byte) string {
		dir := t.TempDir()
		for n, b := range files {
			if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	key := must(w.cliA.KeyPEM())
	full := must(ClientFromCertsDir(certsd(map[string][]byte{"ca.crt": pki.EncodeCert(w.caA.Cert), "client.cert": w.cliA.CertPEM(), "client.key": key})))
	caOnly := must(ClientFromCertsDir(certsd(map[string][]byte{"ca.crt": pki.EncodeCert(w.caA.Cert)})))
	none := must(ClientFromCertsDir(filepath.Join(t.TempDir(), "missing")))
	legacy := none
	legacy.LegacyErrors = true
	insecure := caOnly
	insecure.Insecure, insecure.SkipVerify = "127.0.0.0/8", true
	runCases(t, []probeCase{
		{name: "ok", role: RoleRegistry, port: reg, client: full, want: OutcomeOK,
			evidence: func(t *testing.T, r *Result) {
				if r.Evidence.RegistryAPI != "registry/2.0" || r.Evidence.HTTPStatus != 200 {
					t.Errorf("evidence %+v", r.Evidence)
				}
			}},
		// With TLS 1.3 the server's alert comes after the handshake: Go's
		// transport (dockerd's too) reports it either from the request or,
		// when its read loop sees it first, as "/v2/": readLoopPeekFailLocked:
		// remote error: …; both are what docker prints.
		{name: "no client pair", role: RoleRegistry, port: reg, client: caOnly, want: OutcomeClientCertMissing,
			docker: []string{"Error response from daemon: Get \"https://127.0.0.1:", "/v2/\": ", "remote error: tls: certificate required"}},
		{name: "no certs.d", role: RoleRegistry, port: reg, client: none, want: OutcomeServerUnknownCA,
			docker: []string{"Error response from daemon: Get \"https://127.0.0.1:", "/v2/\": tls: failed to verify certificate: x509: certificate signed by unknown authority"},
			push:   []string{"Get \"https://127.0.0.1:", "/v2/\": tls: failed to verify certificate: x509: certificate signed by unknown authority"}},
		// dockerd 20.10 (Go 1.19) words the verification failure without
		// Go 1.20's "tls: failed to verify certificate: ".
		{name: "no certs.d, dockerd 20.10", role: RoleRegistry, port: reg, client: legacy, want: OutcomeServerUnknownCA,
			docker: []string{"Error response from daemon: Get \"https://127.0.0.1:", "/v2/\": x509: certificate signed by unknown authority"},
			push:   []string{"/v2/\": x509: certificate signed by unknown authority"}},
		// An insecure registry under the classic store: docker push
		// reports the http endpoint's answer (the last endpoint tried),
		// without the body's newline; docker pull's line is not modelled.
		{name: "insecure, no client pair", role: RoleRegistry, port: reg, client: insecure, want: OutcomeClientCertMissing,
			evidence: func(t *testing.T, r *Result) {
				if r.DockerPushError != "unknown: Client sent an HTTP request to an HTTPS server." || r.DockerError != "" {
					t.Errorf("pull %q, push %q", r.DockerError, r.DockerPushError)
				}
			}},
		{name: "not a registry", role: RoleRegistry, port: notReg, client: caOnly, want: OutcomeNotRegistry},
	})
	// dockerd with the containerd image store: containerd's resolver's line.
	caOnlyCtd, noneCtd := caOnly, none
	caOnlyCtd.ContainerdStore, noneCtd.ContainerdStore = true, true
	runCases(t, []probeCase{
		// docker pull resolves the tag first; docker push starts with a
		// blob and prints its error without the daemon prefix.
		{name: "containerd store, no client pair", role: RoleRegistry, port: reg, client: caOnlyCtd, want: OutcomeClientCertMissing,
			docker: []string{"Error response from daemon: failed to resolve reference \"127.0.0.1:", "/REPOSITORY:TAG\": failed to do request: Head \"https://127.0.0.1:", "/v2/REPOSITORY/manifests/TAG\": remote error: tls: certificate required"},
			push:   []string{"failed to do request: Head \"https://127.0.0.1:", "/v2/REPOSITORY/blobs/sha256:DIGEST\": remote error: tls: certificate required"}},
		{name: "containerd store, no certs.d", role: RoleRegistry, port: reg, client: noneCtd, want: OutcomeServerUnknownCA,
			docker: []string{"Error response from daemon: failed to resolve reference \"127.0.0.1:", "/v2/REPOSITORY/manifests/TAG\": tls: failed to verify certificate: x509: certificate signed by unknown authority"},
			push:   []string{"failed to do request: Head \"https://127.0.0.1:", "/v2/REPOSITORY/blobs/sha256:DIGEST\": tls: failed to verify certificate: x509: certificate signed by unknown authority"}},
	})
	// The classic loader's own errors for broken certs.d contents.
	_, err := ClientFromCertsDir(certsd(map[string][]byte{"ca.cert": pki.EncodeCert(w.caA.Cert)}))
	if err == nil || err.Error() != "missing key ca.key for client certificate ca.cert. CA certificates must use the extension .crt" {
		t.Errorf("ca.cert: %v", err)
	}
	_, err = ClientFromCertsDir(certsd(map[string][]byte{"domain.key": key, "ca.crt": pki.EncodeCert(w.caA.Cert)}))
	if err == nil || err.Error() != "missing client certificate domain.cert for key domain.key" {
		t.Errorf("stray key: %v", err)
	}
}

// TestProbeLeavesNoGoroutines runs hostile endpoints and checks that every
// goroutine the probe started has ended.
func TestProbeLeavesNoGoroutines(t *testing.T) {
	w := getWorld(t)
	silent := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	drip := rawServer(t, func(c net.Conn) { c.Read(make([]byte, 512)); slowDrip(c) })
	good := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{pairOf(t, w.srv)}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: poolOf(w.caA.Cert)}, dockerHandler())
	before := runtime.NumGoroutine()
	for _, port := range []int{silent, drip, good, good} {
		Probe(context.Background(), Target{Role: RoleDaemon, Host: "127.0.0.1", Port: port}, daemonClient(t, w.caA.Cert), Options{Timeout: 300 * time.Millisecond})
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]string{
		"docker.example.com:2376":           "daemon tcp://docker.example.com:2376",
		"docker.example.com":                "daemon tcp://docker.example.com:2376",
		"tcp://10.0.0.5:2376":               "daemon tcp://10.0.0.5:2376",
		"[::1]:2376":                        "daemon tcp://[::1]:2376",
		"https://registry.example":          "registry https://registry.example",
		"https://registry.example:5000/v2/": "registry https://registry.example:5000",
	} {
		tg, err := ParseTarget(in, false)
		if err != nil || string(tg.Role)+" "+tg.String() != want {
			t.Errorf("ParseTarget(%q) = %v %v, want %s", in, tg, err, want)
		}
	}
	if tg, err := ParseTarget("myreg:5000", true); err != nil || tg.String() != "https://myreg:5000" {
		t.Errorf("registry flag: %v %v", tg, err)
	}
	for in, want := range map[string]string{
		"":                            "empty target: expected host:port, tcp://host:port or https://host[:port]",
		"unix:///var/run/docker.sock": `target "unix:///var/run/docker.sock" uses unix://: only TCP endpoints use TLS; nothing to probe`,
		"http://h:2375":               `invalid target "http://h:2375": http:// is plain HTTP; to probe a TLS registry use https://, for a daemon tcp://`,
		"h:0":                         `invalid target "h:0": port "0" is not a number from 1 to 65535`,
		"::1":                         `invalid target "::1": write an IPv6 address in brackets, for example [::1]:2376`,
		"tcp://h:2376/path":           `invalid target "tcp://h:2376/path": unexpected path "/path"`,
	} {
		if _, err := ParseTarget(in, false); err == nil || err.Error() != want {
			t.Errorf("ParseTarget(%q) = %v, want %q", in, err, want)
		}
	}
}

func ipStrings(c *x509.Certificate) []string {
	var out []string
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

func TestDistributionError(t *testing.T) {
	body := []byte("Client sent an HTTP request to an HTTPS server.\n")
	for _, c := range []struct {
		status int
		ct     string
		legacy bool
		want   string
	}{
		// As docker push prints them in the e2e matrix (dockerd 28.5, 20.10).
		{400, "", false, "unknown: Client sent an HTTP request to an HTTPS server.\n"},
		{400, "", true, `error parsing HTTP 400 response body: invalid character 'C' looking for beginning of value: "Client sent an HTTP request to an HTTPS server.\n"`},
		{401, "text/plain", false, "unauthorized: Client sent an HTTP request to an HTTPS server.\n"},
		{403, "", false, "denied: Client sent an HTTP request to an HTTPS server.\n"},
		{429, "", false, "toomanyrequests: Client sent an HTTP request to an HTTPS server.\n"},
		// A non-JSON body under a JSON content type.
		{400, "application/json; charset=utf-8", false, `error parsing HTTP 400 response body: invalid character 'C' looking for beginning of value: "Client sent an HTTP request to an HTTPS server.\n"`},
	} {
		h := http.Header{}
		if c.ct != "" {
			h.Set("Content-Type", c.ct)
		}
		if got, _ := regerr.Text(c.status, fmt.Sprint(c.status), h, body, c.legacy); got != c.want {
			t.Errorf("%d %q legacy %v: %q, want %q", c.status, c.ct, c.legacy, got, c.want)
		}
	}
}

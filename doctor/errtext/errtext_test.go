package errtext

import (
	"strings"
	"testing"
)

func TestExplainRecognisesDockerErrors(t *testing.T) {
	for _, tc := range []struct {
		text, id, host, command string
	}{
		{`Error response from daemon: Get "https://registry.example.com:5000/v2/": x509: certificate signed by unknown authority`, "unknown-authority", "registry.example.com:5000", "docker tls doctor --registry registry.example.com:5000"},
		{`error during connect: Get "https://10.0.0.5:2376/v1.50/version": tls: failed to verify certificate: x509: cannot validate certificate for 10.0.0.5 because it doesn't contain any IP SANs`, "no-ip-sans", "10.0.0.5:2376", "docker tls doctor 10.0.0.5:2376"},
		{`the server probably has client authentication (--tlsverify) enabled; check your TLS client certification settings: Get "https://127.0.0.1:2376/v1.50/version": remote error: tls: bad certificate`, "client-cert-bad", "127.0.0.1:2376", "docker tls doctor 127.0.0.1:2376"},
		{`The server probably has client authentication (--tlsverify) enabled. Please check your TLS client certification settings: Get https://192.168.99.100:2376/v1.20/version: remote error: bad certificate`, "client-cert-bad", "192.168.99.100:2376", "docker tls doctor 192.168.99.100:2376"},
		{`the server probably has client authentication (--tlsverify) enabled; check your TLS client certification settings: Get "https://h:2376/v1.51/version": remote error: tls: handshake failure`, "client-cert-required", "h:2376", "docker tls doctor h:2376"},
		{`Get "https://h:2376/v1.51/version": remote error: tls: certificate required`, "client-cert-required", "h:2376", "docker tls doctor h:2376"},
		{`Error response from daemon: Client sent an HTTP request to an HTTPS server.`, "plain-client-to-tls", "", "docker tls doctor"},
		{"error during connect: Get \"http://docker:2376/v1.24/version\": malformed HTTP response \"\\x15\\x03\\x01\\x00\\x02\\x02\".\n* Are you trying to connect to a TLS-enabled daemon without TLS?", "plain-client-to-tls", "docker:2376", "docker tls doctor docker:2376"},
		{`Error response from daemon: missing key ca.key for client certificate ca.cert. CA certificates must use the extension .crt`, "missing-key-for-client-cert", "", "docker tls doctor --registry <registry host:port>"},
		{`Missing key client.key for client certificate client.cert. Note that CA certificates should use the extension .crt.`, "missing-key-for-client-cert", "", "docker tls doctor --registry <registry host:port>"},
		{`missing client certificate domain.cert for key domain.key`, "missing-client-cert-for-key", "", "docker tls doctor --registry <registry host:port>"},
		{`Get "https://myreg:5000/v2/": http: server gave HTTP response to HTTPS client`, "http-response-to-https-client", "myreg:5000", "docker tls doctor --registry myreg:5000"},
		{`x509: certificate relies on legacy Common Name field, use SANs instead`, "cn-only", "", "docker tls doctor"},
		{`X509: CERTIFICATE IS VALID FOR DOCKER.EXAMPLE, NOT LOCALHOST`, "name-mismatch", "", "docker tls doctor"},
		{`unable to configure the Docker daemon with file /etc/docker/daemon.json: the following directives are specified both as a flag and in the configuration file: hosts: (from flag: [fd://], from file: [tcp://0.0.0.0:2376])`, "daemon-directives-conflict", "0.0.0.0:2376", "docker tls doctor 0.0.0.0:2376"},
		{`failed to retrieve context tls info: ca.pem seems invalid`, "not-pem", "", "docker tls doctor"},
		{`private key is encrypted - support for encrypted private keys has been removed, see https://docs.docker.com/go/deprecated/`, "encrypted-key", "", "docker tls doctor"},
		{`x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "srv")`, "ca-cannot-sign", "", "docker tls doctor"},
		{`Cannot connect to the Docker daemon at tcp://docker:2375. Is the docker daemon running?`, "cannot-connect", "docker:2375", "docker tls doctor docker:2375"},
		{`ERROR: could not create a builder instance with TLS data loaded from environment. Please use 'docker context create <context-name>' to create a context for current environment and then create a builder instance with context set to <context-name>`, "buildx-env-tls", "", "docker tls doctor"},
	} {
		m := Explain(tc.text)
		if len(m) == 0 {
			t.Errorf("nothing recognised in %q", tc.text)
			continue
		}
		if m[0].ID != tc.id || m[0].Host != tc.host || m[0].Command != tc.command {
			t.Errorf("%q:\n got %s host=%q cmd=%q\nwant %s host=%q cmd=%q", tc.text, m[0].ID, m[0].Host, m[0].Command, tc.id, tc.host, tc.command)
		}
		if len(m[0].Causes) == 0 || m[0].Title == "" {
			t.Errorf("%s has no causes or title", m[0].ID)
		}
	}
	if m := Explain("all is well"); len(m) != 0 {
		t.Errorf("recognised something in an unrelated text: %v", m[0].ID)
	}
}

func TestCausesRankedBySide(t *testing.T) {
	d := Explain(`error during connect: Get "https://10.0.0.5:2376/v1.50/version": tls: failed to verify certificate: x509: certificate signed by unknown authority`)
	r := Explain(`Error response from daemon: Get "https://r:5000/v2/": x509: certificate signed by unknown authority`)
	if !strings.HasPrefix(d[0].Causes[0], "daemon:") || !strings.HasPrefix(r[0].Causes[0], "registry:") {
		t.Errorf("daemon text first cause %q; registry text first cause %q", d[0].Causes[0], r[0].Causes[0])
	}
}

func TestRender(t *testing.T) {
	out := Render(Explain(`Get "https://r:5000/v2/": x509: certificate signed by unknown authority`))
	for _, s := range []string{"the server's certificate is signed by a CA the client does not trust [unknown-authority]", "  likely causes, most likely first:\n    1. registry: the issuing CA is not in", "  confirm with: docker tls doctor --registry r:5000"} {
		if !strings.Contains(out, s) {
			t.Errorf("render lacks %q:\n%s", s, out)
		}
	}
}

func TestIDsUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, id := range IDs() {
		if seen[id] {
			t.Errorf("duplicate ID %s", id)
		}
		seen[id] = true
	}
}

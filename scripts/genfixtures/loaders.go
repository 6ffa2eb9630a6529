package main

import (
	"encoding/pem"
)

// loaderScenarios are the issue-11 classes: each stays silent or fires
// exactly as the real loader (pki/loader, proven by scripts/oracle/registry)
// behaves.
func (g *gen) loaderScenarios(w *world, add func(name, desc string, env []string, build func(s *scenario))) {
	ctdDir := "/etc/containerd/certs.d/" + reg
	regDir := certsD + "/" + reg
	regServer := g.cert(certSpec{name: "registry-server", cn: "registry.example.com", dns: []string{"registry.example.com"}, eku: serverAuth, parent: w.regCA})
	selfClient := g.cert(certSpec{name: "self-client", cn: "ci-runner", ca: true, noKU: true})
	toml := func(s string) []byte { return []byte(s) }

	add("loader-hoststoml-referenced", "Healthy: hosts.toml naming ca.pem (with a \\u escape, as install-registry writes), a client pair in a literal string and a CA in a sibling directory, plus a datetime key containerd ignores.", nil, func(s *scenario) {
		s.registry(ctdDir, map[string][]byte{
			"hosts.toml": toml("updated = 2026-01-01T00:00:00Z\nserver = \"https://" + reg + "\"\n\n[host.\"https://" + reg + "\"]\n  ca = [\"c\\u0061.pem\", \"../shared/ca.pem\"]\n  client = [['''cert.pem''', \"key.pem\"]]\n"),
			"ca.pem":     certPEM(w.regCA), "cert.pem": certPEM(w.regClient),
		})
		s.put(ctdDir+"/key.pem", keyPEM(w.regClient), 0o600)
		s.registry("/etc/containerd/certs.d/shared", map[string][]byte{"ca.pem": certPEM(w.regCA)})
	})
	add("loader-hoststoml-empty-key", "hosts.toml client pair with an empty key (containerd's docs form): containerd joins \"\" to the host directory and fails reading the directory.", nil, func(s *scenario) {
		s.registry(ctdDir, map[string][]byte{
			"hosts.toml": toml("[host.\"https://" + reg + "\"]\n  ca = \"ca.pem\"\n  client = [[\"client.pem\", \"\"]]\n"),
			"ca.pem":     certPEM(w.regCA), "client.pem": append(certPEM(w.regClient), keyPEM(w.regClient)...),
		})
	})
	for _, c := range []struct{ name, body string }{
		{"capability", "  capabilities = [\"pull\", \"fetch\"]\n"},
		{"duration", "  dial_timeout = \"5\"\n"},
		{"skip-verify-string", "  skip_verify = \"true\"\n"},
		{"one-element-pair", "  client = [[\"client.pem\"]]\n"},
		{"header-type", "  header = { x-token = 1 }\n"},
	} {
		add("loader-hoststoml-"+c.name, "hosts.toml with a semantic error containerd rejects, dropping the whole file ("+c.name+").", nil, func(s *scenario) {
			s.registry(ctdDir, map[string][]byte{
				"hosts.toml": toml("[host.\"https://" + reg + "\"]\n  ca = \"ca.pem\"\n" + c.body),
				"ca.pem":     certPEM(w.regCA),
			})
		})
	}
	add("hoststoml-file-unused", "ca.crt beside a valid hosts.toml that does not name it: containerd does not load it.", nil, func(s *scenario) {
		s.registry(ctdDir, map[string][]byte{
			"hosts.toml": toml("[host.\"https://" + reg + "\"]\n  capabilities = [\"pull\", \"resolve\"]\n"),
			"ca.crt":     certPEM(w.regCA),
		})
	})
	add("loader-hoststoml-no-host-table", "hosts.toml without a [host] table (a containerd docs example): 1.6/1.7 reject it, 2.x reads it.", nil, func(s *scenario) {
		s.registry(ctdDir, map[string][]byte{
			"hosts.toml": toml("server = \"https://" + reg + "\"\nca = \"ca.pem\"\n"),
			"ca.pem":     certPEM(w.regCA),
		})
	})
	add("hoststoml-host-dropped", "hosts.toml with a host written as an inline table: containerd 2.x drops it.", nil, func(s *scenario) {
		s.registry(ctdDir, map[string][]byte{
			"hosts.toml": toml("server = \"https://" + reg + "\"\nhost = { \"https://mirror.example.com\" = { ca = \"ca.pem\" } }\n"),
			"ca.pem":     certPEM(w.regCA),
		})
	})
	add("loader-containers-user-dir", "Healthy: podman's per-user ~/.config/containers/certs.d with the registry CA and a client pair (containers/image rules).", nil, func(s *scenario) {
		s.registry(home+"/.config/containers/certs.d/"+reg, map[string][]byte{"ca.crt": certPEM(w.regCA), "client.cert": certPEM(w.regClient), "client.key": keyPEM(w.regClient)})
	})
	add("loader-containerd-shadowed-dir", "Both registry.example.com_5000_ and registry.example.com:5000 under /etc/containerd/certs.d: containerd reads only the first.", nil, func(s *scenario) {
		s.registry("/etc/containerd/certs.d/registry.example.com_5000_", map[string][]byte{"ca.crt": certPEM(w.regCA)})
		s.registry(ctdDir, map[string][]byte{"ca.crt": certPEM(w.regCA)})
	})
	add("loader-containers-shadowed-dir", "The registry in both ~/.config/containers/certs.d and /etc/containers/certs.d: the user's podman reads only the first.", nil, func(s *scenario) {
		s.registry(home+"/.config/containers/certs.d/"+reg, map[string][]byte{"ca.crt": certPEM(w.regCA)})
		s.registry("/etc/containers/certs.d/"+reg, map[string][]byte{"ca.crt": certPEM(w.regCA)})
	})
	add("loader-certsd-pinned-leaf", "Healthy: the registry's own server certificate pinned as reg.crt (Go trusts a leaf in its root pool).", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"reg.crt": certPEM(regServer)})
	})
	add("certsd-crt-useless", "An empty .crt beside a good ca.crt: the loader skips it, pulls work.", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"ca.crt": certPEM(w.regCA), "empty.crt": nil})
	})
	add("loader-certsd-selfsigned-client", "Healthy: a self-signed client certificate (CA:TRUE, openssl req -x509) as client.cert with its key.", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"ca.crt": certPEM(w.regCA), "client.cert": certPEM(selfClient), "client.key": keyPEM(selfClient)})
	})
	add("loader-certsd-domain-pair", "The registry's own domain.crt and domain.key copied in: domain.key makes the loader fail; domain.crt is the trust anchor.", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"domain.crt": certPEM(regServer), "domain.key": keyPEM(regServer)})
	})
	add("loader-certsd-trusted-certificate", "ca.crt in OpenSSL's BEGIN TRUSTED CERTIFICATE form, which Go skips.", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"ca.crt": pem.EncodeToMemory(&pem.Block{Type: "TRUSTED CERTIFICATE", Bytes: w.regCA.cert.Raw})})
	})
	add("loader-certsd-stray-ca-key", "The CA's private key beside its self-signed ca.crt: the loader fails on the lone .key, every pull fails.", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"ca.crt": certPEM(w.regCA), "ca.key": keyPEM(w.regCA)})
	})
}

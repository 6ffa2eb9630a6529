package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

const (
	home     = "/home/alice"
	dotD     = home + "/.docker"
	certsD   = "/etc/docker/certs.d"
	reg      = "registry.example.com:5000"
	tlsDir   = "/etc/docker/tls"
	unitPath = "/lib/systemd/system/docker.service"
	dropIn   = "/etc/systemd/system/docker.service.d/override.conf"
	daemonJS = "/etc/docker/daemon.json"
	tlsHost  = "tcp://docker.example.com:2376"
)

var (
	serverAuth = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	clientAuth = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
)

// world is the set of certificates scenarios share.
type world struct {
	ca, server, client       *issued // the docker-tls ECDSA CA and its leaves
	otherCA, otherClient     *issued // a second, unrelated CA
	regCA, regClient         *issued // a registry's CA and a client cert from it
	rsaCA, rsaServer, rsaCli *issued // the Docker docs recipe (RSA 4096)
	strayKey                 *issued // a key that matches nothing
}

func (g *gen) world() *world {
	w := &world{}
	w.ca = g.cert(certSpec{name: "ca", cn: "docker-tls CA", ca: true})
	w.server = g.cert(certSpec{name: "server", cn: "docker.example.com", dns: []string{"docker.example.com", "localhost"}, ips: []string{"127.0.0.1", "10.0.0.5"}, eku: serverAuth, parent: w.ca})
	w.client = g.cert(certSpec{name: "client", cn: "alice", eku: clientAuth, parent: w.ca})
	w.otherCA = g.cert(certSpec{name: "other-ca", cn: "Other CA", ca: true})
	w.otherClient = g.cert(certSpec{name: "other-client", cn: "alice", eku: clientAuth, parent: w.otherCA})
	w.regCA = g.cert(certSpec{name: "registry-ca", cn: "Example Registry CA", ca: true})
	w.regClient = g.cert(certSpec{name: "registry-client", cn: "ci-runner", eku: clientAuth, parent: w.regCA})
	docsFrom := fixtureNow.Add(-7 * 24 * time.Hour)
	w.rsaCA = g.cert(certSpec{name: "docs-ca", keyKind: "rsa4096", cn: "docker.example.com", ca: true, noKU: true, from: docsFrom, to: docsFrom.Add(365 * 24 * time.Hour)})
	w.rsaServer = g.cert(certSpec{name: "docs-server", keyKind: "rsa4096", cn: "docker.example.com", noKU: true, dns: []string{"docker.example.com"}, ips: []string{"10.10.10.20", "127.0.0.1"}, eku: serverAuth, parent: w.rsaCA, from: docsFrom, to: docsFrom.Add(365 * 24 * time.Hour)})
	w.rsaCli = g.cert(certSpec{name: "docs-client", keyKind: "rsa4096", cn: "client", noKU: true, eku: clientAuth, parent: w.rsaCA, from: docsFrom, to: docsFrom.Add(365 * 24 * time.Hour)})
	w.strayKey = g.cert(certSpec{name: "stray", cn: "stray"})
	return w
}

// Scenario building blocks.

func (s *scenario) clientDir(dir string, ca, leaf *issued) {
	if ca != nil {
		s.put(dir+"/ca.pem", certPEM(ca), 0o644)
	}
	if leaf != nil {
		s.put(dir+"/cert.pem", certPEM(leaf), 0o644)
		s.put(dir+"/key.pem", keyPEM(leaf), 0o600)
	}
}

func (s *scenario) unit(execStart string) {
	s.put(unitPath, []byte("[Unit]\nDescription=Docker Application Container Engine\nAfter=network-online.target containerd.service\n\n[Service]\nType=notify\n"+
		"ExecStart="+execStart+"\nExecReload=/bin/kill -s HUP $MAINPID\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n"), 0o644)
}

// daemonTLS installs a daemon with TLS the way docker tls install daemon
// does: files in /etc/docker/tls, daemon.json with hosts and tlsverify, and
// a drop-in so the unit's -H fd:// does not conflict.
func (s *scenario) daemonTLS(ca, server *issued, extra map[string]any) {
	s.put(tlsDir+"/ca.pem", certPEM(ca), 0o644)
	s.put(tlsDir+"/server-cert.pem", certPEM(server), 0o644)
	s.put(tlsDir+"/server-key.pem", keyPEM(server), 0o600)
	cfg := map[string]any{
		"hosts":     []string{"unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"},
		"tlsverify": true,
		"tlscacert": tlsDir + "/ca.pem",
		"tlscert":   tlsDir + "/server-cert.pem",
		"tlskey":    tlsDir + "/server-key.pem",
	}
	for k, v := range extra {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = v
		}
	}
	s.daemonJSON(cfg)
	s.unit("/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock")
	s.put(dropIn, []byte("[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --containerd=/run/containerd/containerd.sock\n"), 0o644)
}

func (s *scenario) daemonJSON(cfg map[string]any) {
	b, err := json.MarshalIndent(cfg, "", "  ")
	must(err)
	s.put(daemonJS, append(b, '\n'), 0o644)
}

func (s *scenario) configJSON(current string, auths ...string) {
	cfg := map[string]any{}
	if current != "" {
		cfg["currentContext"] = current
	}
	if len(auths) > 0 {
		a := map[string]any{}
		for _, x := range auths {
			a[x] = map[string]string{}
		}
		cfg["auths"] = a
	}
	b, err := json.MarshalIndent(cfg, "", "\t")
	must(err)
	s.put(dotD+"/config.json", append(b, '\n'), 0o600)
}

// context writes a docker CLI context like docker context create does.
func (s *scenario) context(name, host string, ca, leaf *issued) {
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	meta := map[string]any{"Name": name, "Metadata": map[string]any{}, "Endpoints": map[string]any{"docker": map[string]any{"Host": host, "SkipTLSVerify": false}}}
	b, err := json.Marshal(meta)
	must(err)
	s.put(dotD+"/contexts/meta/"+id+"/meta.json", b, 0o644)
	if ca != nil || leaf != nil {
		dir := dotD + "/contexts/tls/" + id + "/docker"
		if ca != nil {
			s.put(dir+"/ca.pem", certPEM(ca), 0o600)
		}
		if leaf != nil {
			s.put(dir+"/cert.pem", certPEM(leaf), 0o600)
			s.put(dir+"/key.pem", keyPEM(leaf), 0o600)
		}
	}
}

func (s *scenario) registry(dir string, files map[string][]byte) {
	for n, d := range files {
		mode := 0o644
		if strings.HasSuffix(n, ".key") {
			mode = 0o600
		}
		s.put(path.Join(dir, n), d, fileMode(mode))
	}
}

func fileMode(m int) fs.FileMode { return fs.FileMode(m) }

// clientEnv is the environment of a client using ~/.docker with TLS.
func clientEnv(host string) []string {
	return []string{"HOME=" + home, "DOCKER_HOST=" + host, "DOCKER_TLS_VERIFY=1"}
}

func (g *gen) scenarios() []*scenario {
	w := g.world()
	var out []*scenario
	add := func(name, desc string, env []string, build func(s *scenario)) {
		s := &scenario{name: name, desc: desc, env: env}
		if s.env == nil {
			s.env = []string{"HOME=" + home}
		}
		build(s)
		out = append(out, s)
	}

	// Healthy setups: no error or warning.
	add("healthy-docs-rsa", "Healthy: the Docker docs recipe (\"Protect the Docker daemon socket\"): RSA 4096 CA made with openssl req -x509, server and client certificates with extfile EKUs, dockerd with tlsverify on 0.0.0.0:2376, client in ~/.docker with DOCKER_HOST and DOCKER_TLS_VERIFY=1, keys 0400.",
		clientEnv(tlsHost), func(s *scenario) {
			s.daemonTLS(w.rsaCA, w.rsaServer, nil)
			s.put(tlsDir+"/server-key.pem", keyPEM(w.rsaServer), 0o400)
			s.put(dotD+"/ca.pem", certPEM(w.rsaCA), 0o444)
			s.put(dotD+"/cert.pem", certPEM(w.rsaCli), 0o444)
			s.put(dotD+"/key.pem", keyPEM(w.rsaCli), 0o400)
		})
	add("healthy-ecdsa-context", "Healthy: docker-tls style ECDSA P-256 CA, daemon with tlsverify, and the client using a context (docker context use prod) instead of environment variables; a second context uses the local socket.",
		nil, func(s *scenario) {
			s.daemonTLS(w.ca, w.server, nil)
			s.context("prod", tlsHost, w.ca, w.client)
			s.context("local", "unix:///var/run/docker.sock", nil, nil)
			s.configJSON("prod")
		})
	add("healthy-registries", "Healthy: registry client certificates in /etc/docker/certs.d (CA, client pair), a port-less mirror, the same registry for podman in /etc/containers/certs.d and for containerd through hosts.toml; the daemon has no TCP listener.",
		nil, func(s *scenario) {
			s.unit("/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock")
			s.daemonJSON(map[string]any{"registry-mirrors": []string{"https://mirror.example.com"}})
			s.configJSON("", reg)
			s.registry(certsD+"/"+reg, map[string][]byte{"ca.crt": certPEM(w.regCA), "client.cert": certPEM(w.regClient), "client.key": keyPEM(w.regClient)})
			s.registry(certsD+"/mirror.example.com", map[string][]byte{"ca.crt": certPEM(w.regCA)})
			s.registry("/etc/containers/certs.d/"+reg, map[string][]byte{"ca.crt": certPEM(w.regCA)})
			s.registry("/etc/containerd/certs.d/"+reg, map[string][]byte{
				"hosts.toml": []byte("server = \"https://" + reg + "\"\n\n[host.\"https://" + reg + "\"]\n  capabilities = [\"pull\", \"resolve\", \"push\"]\n  ca = \"ca.crt\"\n  client = [[\"client.cert\", \"client.key\"]]\n"),
				"ca.crt":     certPEM(w.regCA), "client.cert": certPEM(w.regClient), "client.key": keyPEM(w.regClient)})
		})
	add("healthy-empty", "Healthy: a machine with Docker installed and nothing TLS-related configured.", nil, func(s *scenario) {
		s.unit("/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock")
	})
	ed := g.cert(certSpec{name: "ed-client", keyKind: "ed25519", cn: "rootless", eku: clientAuth, parent: w.regCA})
	add("healthy-rootless-ed25519", "Healthy: rootless Docker with registry certificates in $XDG_CONFIG_HOME/docker/certs.d, an Ed25519 client key, and DOCKER_CONTEXT selecting a TLS context.",
		[]string{"HOME=" + home, "XDG_CONFIG_HOME=" + home + "/.config", "DOCKER_CONTEXT=remote"}, func(s *scenario) {
			s.registry(home+"/.config/docker/certs.d/"+reg, map[string][]byte{"ca.crt": certPEM(w.regCA), "client.cert": certPEM(ed), "client.key": keyPEM(ed)})
			s.context("remote", tlsHost, w.ca, w.client)
		})

	// One scenario per check, named after it.
	regDir := certsD + "/" + reg
	add("certsd-ca-named-cert", "The registry CA saved as ca.cert instead of ca.crt.", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"ca.cert": certPEM(w.regCA)})
	})
	add("certsd-client-cert-named-crt", "The client certificate saved as client.crt next to client.key.", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"ca.crt": certPEM(w.regCA), "client.crt": certPEM(w.regClient), "client.key": keyPEM(w.regClient)})
	})
	add("certsd-cert-without-key", "A client certificate without its key.", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"ca.crt": certPEM(w.regCA), "client.cert": certPEM(w.regClient)})
	})
	add("certsd-key-without-cert", "A stray domain.key copied next to ca.crt (registry guides' copy pattern).", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"ca.crt": certPEM(w.regCA), "domain.key": keyPEM(w.strayKey)})
	})
	add("certsd-ignored-file", "The CA saved as registry-ca.pem, a CA placed directly in certs.d, and a docker.io directory.", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"registry-ca.pem": certPEM(w.regCA)})
		s.put(certsD+"/ca.crt", certPEM(w.regCA), 0o644)
		s.registry(certsD+"/docker.io", map[string][]byte{"ca.crt": certPEM(w.regCA)})
	})
	add("certsd-daemon-key", "A setup script copied the daemon's server key and the CA key into certs.d.", nil, func(s *scenario) {
		s.daemonTLS(w.ca, w.server, nil)
		s.registry(regDir, map[string][]byte{"ca.crt": certPEM(w.ca), "ca-key.pem": keyPEM(w.ca), "server.key": keyPEM(w.server)})
	})
	add("certsd-port-443", "A directory named registry.example.com:443, which port-less image references never use.", nil, func(s *scenario) {
		s.registry(certsD+"/registry.example.com:443", map[string][]byte{"ca.crt": certPEM(w.regCA)})
	})
	add("certsd-port-missing", "The user logged in to registry.example.com:5000 but the certs.d directory has no port.", nil, func(s *scenario) {
		s.configJSON("", reg)
		s.registry(certsD+"/registry.example.com", map[string][]byte{"ca.crt": certPEM(w.regCA)})
	})
	add("certsd-crt-not-pem", "ca.crt in DER (a Windows .cer export renamed).", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"ca.crt": w.regCA.cert.Raw})
	})
	add("pem-truncated", "certs.d ca.crt: a CA bundle whose last certificate was cut off in the copy.", nil, func(s *scenario) {
		cut := certPEM(w.regCA)
		s.registry(regDir, map[string][]byte{"ca.crt": append(certPEM(w.ca), cut[:len(cut)/2]...)})
	})
	add("hoststoml-broken", "containerd hosts.toml naming a CA file that does not exist, and another that does not parse.", nil, func(s *scenario) {
		s.registry("/etc/containerd/certs.d/"+reg, map[string][]byte{"hosts.toml": []byte("server = \"https://" + reg + "\"\n\n[host.\"https://" + reg + "\"]\n  ca = \"/etc/containerd/certs.d/" + reg + "/registry-ca.crt\"\n")})
		s.registry("/etc/containerd/certs.d/mirror.example.com", map[string][]byte{"hosts.toml": []byte("[host.\"https://mirror.example.com\"\n  ca = \"ca.crt\"\n"), "ca.crt": certPEM(w.regCA)})
	})
	add("key-mismatch", "~/.docker/key.pem is from another key pair than cert.pem (partial regeneration).", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, w.ca, w.client)
		s.put(dotD+"/key.pem", keyPEM(w.strayKey), 0o600)
	})
	add("wrong-format-der", "~/.docker/ca.pem in DER.", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, nil, w.client)
		s.put(dotD+"/ca.pem", w.ca.cert.Raw, 0o644)
	})
	add("wrong-format-pkcs7", "~/.docker/ca.pem is a PKCS#7 bundle (.p7b) from a corporate CA.", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, nil, w.client)
		s.put(dotD+"/ca.pem", pkcs7(w.ca), 0o644)
	})
	add("wrong-format-pkcs12", "~/.docker/cert.pem is a PKCS#12 (.p12) bundle.", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, w.ca, w.client)
		s.put(dotD+"/cert.pem", pkcs12Shell(), 0o644)
	})
	add("wrong-format-unknown", "~/.docker/ca.pem holds text that is not PEM (an HTML error page saved by curl).", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, nil, w.client)
		s.put(dotD+"/ca.pem", []byte("<html><body>404 Not Found</body></html>\n"), 0o644)
	})
	add("files-swapped", "The daemon's server-cert.pem and server-key.pem swapped.", nil, func(s *scenario) {
		s.daemonTLS(w.ca, w.server, nil)
		s.put(tlsDir+"/server-cert.pem", keyPEM(w.server), 0o600)
		s.put(tlsDir+"/server-key.pem", certPEM(w.server), 0o600)
	})
	add("key-encrypted", "~/.docker/key.pem encrypted with a passphrase (openssl genrsa -aes256 habit).", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, w.ca, w.client)
		s.put(dotD+"/key.pem", encryptedKeyPEM(w.client), 0o600)
	})
	add("file-unreadable", "certs.d ca.crt is a FIFO and client.cert a 2 MiB file: the doctor must not block or read them.", nil, func(s *scenario) {
		s.put(regDir+"/client.key", keyPEM(w.regClient), 0o600)
		s.special = append(s.special, "fifo etc/docker/certs.d/"+reg+"/ca.crt", "sparse 2097152 etc/docker/certs.d/"+reg+"/client.cert")
	})
	add("tls-file-missing", "DOCKER_TLS_VERIFY=1 but ~/.docker has no ca.pem; the daemon's tlskey path does not exist.", clientEnv(tlsHost), func(s *scenario) {
		s.daemonTLS(w.ca, w.server, map[string]any{"tlskey": "/etc/docker/tls/server.key"})
	})
	add("certpath-wrong-names", "certs.d names in ~/.docker (ca.crt, client.cert, client.key) and docker CLI names in certs.d (ca.pem, cert.pem, key.pem).", clientEnv(tlsHost), func(s *scenario) {
		s.put(dotD+"/ca.crt", certPEM(w.ca), 0o644)
		s.put(dotD+"/client.cert", certPEM(w.client), 0o644)
		s.put(dotD+"/client.key", keyPEM(w.client), 0o600)
		s.registry(regDir, map[string][]byte{"ca.pem": certPEM(w.regCA), "cert.pem": certPEM(w.regClient), "key.pem": keyPEM(w.regClient)})
	})
	add("ca-mismatch-server", "The client's ca.pem is another CA than the one that signed the local daemon's certificate.", clientEnv("tcp://localhost:2376"), func(s *scenario) {
		s.daemonTLS(w.ca, w.server, nil)
		s.clientDir(dotD, w.otherCA, w.client)
	})
	add("ca-mismatch-client", "The client certificate comes from another CA than the daemon's tlscacert.", clientEnv("tcp://localhost:2376"), func(s *scenario) {
		s.daemonTLS(w.ca, w.server, nil)
		s.clientDir(dotD, w.ca, w.otherClient)
	})
	add("ca-not-ca", "The server certificate copied as the client's ca.pem.", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, w.server, w.client)
	})
	inter := g.cert(certSpec{name: "intermediate", cn: "docker-tls Intermediate CA", ca: true, parent: w.ca})
	interServer := g.cert(certSpec{name: "inter-server", cn: "docker.example.com", dns: []string{"docker.example.com", "localhost"}, ips: []string{"127.0.0.1"}, eku: serverAuth, parent: inter})
	add("missing-intermediate", "The daemon's certificate was issued by an intermediate CA that is next to it (intermediate.pem) but not in server-cert.pem.", clientEnv("tcp://localhost:2376"), func(s *scenario) {
		s.daemonTLS(w.ca, interServer, nil)
		s.put(tlsDir+"/intermediate.pem", certPEM(inter), 0o644)
		s.clientDir(dotD, w.ca, w.client)
	})
	expired := g.cert(certSpec{name: "expired-client", cn: "alice", eku: clientAuth, parent: w.ca, from: fixtureNow.AddDate(-1, -1, 0), to: fixtureNow.AddDate(0, -1, 0)})
	add("cert-expired", "The client certificate expired a month ago.", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, w.ca, expired)
	})
	future := g.cert(certSpec{name: "future-client", cn: "alice", eku: clientAuth, parent: w.ca, from: fixtureNow.AddDate(0, 5, 0), to: fixtureNow.AddDate(2, 0, 0)})
	add("cert-not-yet-valid", "The client certificate starts in five months (the issuing machine's clock was wrong).", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, w.ca, future)
	})
	soon := g.cert(certSpec{name: "soon-server", cn: "docker.example.com", dns: []string{"docker.example.com", "localhost"}, ips: []string{"127.0.0.1"}, eku: serverAuth, parent: w.ca, from: fixtureNow.AddDate(0, -11, 0), to: fixtureNow.AddDate(0, 0, 12)})
	add("cert-expiring", "The daemon's certificate expires in 12 days.", nil, func(s *scenario) {
		s.daemonTLS(w.ca, soon, nil)
	})
	add("expiry-fail-gate", "The daemon's certificate expires in 12 days and the doctor runs with --expiry-fail 14d: cert-expiring becomes an error (a renewal gate).", nil, func(s *scenario) {
		s.daemonTLS(w.ca, soon, nil)
		s.options = []string{"expiry-fail=14d"}
	})
	cnOnly := g.cert(certSpec{name: "cn-only-server", cn: "docker.example.com", eku: serverAuth, parent: w.ca})
	add("cert-cn-only", "The daemon's certificate has only a CN (old openssl recipe without extfile).", nil, func(s *scenario) {
		s.daemonTLS(w.ca, cnOnly, nil)
	})
	dnsOnly := g.cert(certSpec{name: "dns-only-server", cn: "docker.example.com", dns: []string{"docker.example.com"}, eku: serverAuth, parent: w.ca})
	add("host-not-in-sans", "DOCKER_HOST uses 127.0.0.1 and the daemon listens on 10.0.0.9, but the certificate only covers docker.example.com.", clientEnv("tcp://127.0.0.1:2376"), func(s *scenario) {
		s.daemonTLS(w.ca, dnsOnly, map[string]any{"hosts": []string{"unix:///var/run/docker.sock", "tcp://10.0.0.9:2376"}})
		s.clientDir(dotD, w.ca, w.client)
	})
	regServer := g.cert(certSpec{name: "registry-server", cn: "registry.example.com", dns: []string{"registry.example.com"}, eku: serverAuth, parent: w.regCA})
	add("eku-client-missing", "The registry's own server certificate and key copied into certs.d as the client pair (registry guides' copy pattern).", nil, func(s *scenario) {
		s.registry(regDir, map[string][]byte{"ca.crt": certPEM(w.regCA), "registry.example.com.cert": certPEM(regServer), "registry.example.com.key": keyPEM(regServer)})
	})
	clientAsServer := g.cert(certSpec{name: "client-as-server", cn: "docker.example.com", dns: []string{"docker.example.com"}, eku: clientAuth, parent: w.ca})
	add("eku-server-missing", "A client certificate used as the daemon's server certificate.", nil, func(s *scenario) {
		s.daemonTLS(w.ca, clientAsServer, nil)
	})
	legacyCA := g.cert(certSpec{name: "legacy-ca", keyKind: "rsa2048", cn: "Legacy CA", ca: true, sigAlg: x509.SHA1WithRSA})
	sha1Client := g.cert(certSpec{name: "sha1-client", cn: "alice", eku: clientAuth, parent: legacyCA, sigAlg: x509.SHA1WithRSA})
	add("sig-sha1", "A client certificate signed with SHA-1 by an old RSA CA (the CA's own self-signature is exempt).", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, legacyCA, sha1Client)
	})
	weak := g.cert(certSpec{name: "weak-client", keyKind: "rsa1024", cn: "alice", eku: clientAuth, parent: w.ca})
	add("rsa-weak", "A client certificate with a 1024-bit RSA key.", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, w.ca, weak)
	})
	neg := g.cert(certSpec{name: "negative-client", cn: "alice", eku: clientAuth, parent: w.ca, negSerial: true})
	add("serial-negative", "A client certificate with a negative serial number.", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, w.ca, nil)
		s.put(dotD+"/cert.pem", certPEM(neg), 0o644)
		s.put(dotD+"/key.pem", keyPEM(neg), 0o600)
	})
	add("key-permissions", "~/.docker/key.pem is world-readable (0644).", clientEnv(tlsHost), func(s *scenario) {
		s.clientDir(dotD, w.ca, w.client)
		s.put(dotD+"/key.pem", keyPEM(w.client), 0o644)
	})
	add("env-tls-verify-zero", "DOCKER_TLS_VERIFY=0 meant to turn verification off.", []string{"HOME=" + home, "DOCKER_HOST=" + tlsHost, "DOCKER_TLS_VERIFY=0"}, func(s *scenario) {
		s.clientDir(dotD, w.ca, w.client)
	})
	add("env-cert-path-missing", "A stale DOCKER_CERT_PATH from docker-machine in the shell profile.", []string{"HOME=" + home, "DOCKER_HOST=tcp://192.168.99.100:2376", "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + dotD + "/machine/machines/default"}, func(s *scenario) {
		s.clientDir(dotD, w.ca, w.client)
	})
	add("env-host-overrides-context", "docker context use prod, but DOCKER_HOST is still exported.", []string{"HOME=" + home, "DOCKER_HOST=tcp://old-host.example.com:2375"}, func(s *scenario) {
		s.context("prod", tlsHost, w.ca, w.client)
		s.configJSON("prod")
	})
	add("context-missing", "DOCKER_CONTEXT names a context that was removed.", []string{"HOME=" + home, "DOCKER_CONTEXT=staging"}, func(s *scenario) {
		s.context("prod", tlsHost, w.ca, w.client)
	})
	add("daemon-tcp-without-tlsverify", "dockerd listening on tcp://0.0.0.0:2375 without TLS.", nil, func(s *scenario) {
		s.daemonJSON(map[string]any{"hosts": []string{"unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"}})
		s.unit("/usr/bin/dockerd --containerd=/run/containerd/containerd.sock")
	})
	add("daemon-tls-implies-verify", "daemon.json has \"tls\": true and no tlsverify, meaning TLS without client certificates.", nil, func(s *scenario) {
		s.daemonTLS(w.ca, w.server, map[string]any{"tlsverify": nil, "tls": true})
	})
	add("daemon-hosts-conflict", "daemon.json sets hosts while the distribution's unit runs dockerd -H fd://.", nil, func(s *scenario) {
		s.daemonTLS(w.ca, w.server, nil)
		delete(s.files, dropIn)
	})
	add("daemon-host-invalid", "daemon.json hosts names TCP port 99999: dockerd accepts the address, then fails to listen.", nil, func(s *scenario) {
		s.daemonTLS(w.ca, w.server, map[string]any{"hosts": []string{"unix:///var/run/docker.sock", "tcp://0.0.0.0:99999"}})
	})
	add("daemon-registry-mirror-invalid", "daemon.json registry-mirrors lists mirror.example:5000 without a scheme: dockerd refuses to start.", nil, func(s *scenario) {
		s.daemonTLS(w.ca, w.server, map[string]any{"registry-mirrors": []string{"mirror.example:5000", "https://ok.example"}})
	})
	add("daemon-json-invalid", "daemon.json with a trailing comma.", nil, func(s *scenario) {
		s.unit("/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock")
		s.put(daemonJS, []byte("{\n  \"hosts\": [\"unix:///var/run/docker.sock\"],\n  \"tlsverify\": true,\n}\n"), 0o644)
	})
	g.loaderScenarios(w, add)
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	for _, s := range out {
		if s.desc == "" {
			panic(fmt.Sprintf("scenario %s has no description", s.name))
		}
	}
	return out
}

package probe

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// diagnose fills Cause and Fix from the outcome and the evidence: the root
// cause in one or two sentences naming the files and hosts, and the fix as
// something to run or do.
func (r *Result) diagnose(o Options) {
	t := r.Target
	hp := t.HostPort()
	src := r.client.Source
	if src == "" {
		src = "the client's settings"
	}
	leaf := func() *CertSummary {
		if len(r.Evidence.ServerChain) > 0 {
			return &r.Evidence.ServerChain[0]
		}
		return nil
	}()
	caHint := "the CA that signed the server's certificate"
	if leaf != nil {
		caHint = fmt.Sprintf("the CA that signed it (%s)", leaf.Issuer)
	}
	trustFix := func() string {
		if t.Role == RoleRegistry {
			return fmt.Sprintf("put %s in /etc/docker/certs.d/%s/ca.crt: docker tls install-registry %s --ca <that CA> (or --fetch-ca to review and pin the chain the registry presents)", caHint, hp, hp)
		}
		return fmt.Sprintf("install %s as the client's ca.pem: docker tls install client --context %s --host %s --ca <that CA> …", caHint, r.contextArg(), t)
	}
	sans := ""
	if leaf != nil {
		sans = strings.Join(append(append([]string{}, leaf.DNSNames...), leaf.IPAddresses...), ", ")
	}
	// issueServer is the command that re-issues the server certificate
	// with every name it has plus the one the client uses (each once),
	// signed by the CA the client trusts, named by its files when known.
	issueServer := func() string {
		var names []string
		if leaf != nil {
			names = append(append(names, leaf.DNSNames...), leaf.IPAddresses...)
		}
		cmd := "docker tls issue server --san " + JoinSANs(append(names, t.Host))
		switch {
		case r.client.IssueCA != "" && r.client.IssueCAKey != "":
			cmd += " --ca-cert " + shellQuote(r.client.IssueCA) + " --ca-key " + shellQuote(r.client.IssueCAKey)
		case r.client.CAFile != "":
			cmd += " --ca-cert " + shellQuote(r.client.CAFile) + " --ca-key <the key of " + shellQuote(r.client.CAFile) + ">"
		default:
			cmd += " --ca-cert <the CA the clients trust> --ca-key <its key>"
		}
		return cmd + " --out <dir>"
	}
	reissue := func() string {
		return "reissue the server certificate with every name and IP clients use: " + issueServer() + ", then install server-cert.pem and server-key.pem where the server reads them and restart it"
	}
	clientCA := strings.Join(r.Evidence.AcceptableCAs, "; ")
	switch r.Outcome {
	case OutcomeOK:
		r.Cause = fmt.Sprintf("%s answered over %s", describeRole(t.Role), r.Evidence.TLSVersion)
		if r.Evidence.ServerVersion != "" {
			r.Cause += " (Docker " + r.Evidence.ServerVersion + ")"
		}
		if t.Role == RoleRegistry && r.client.Insecure != "" {
			r.Cause += "; dockerd treats it as an insecure registry and does not verify its certificate (" + r.client.Insecure + ")"
		}
		if a := r.registryAnswer; a != "" {
			r.Cause += fmt.Sprintf("; GET /v2/ answered HTTP %d, which dockerd's registry client words as %q", r.Evidence.HTTPStatus, a)
			if r.Evidence.HTTPStatus == 401 {
				r.Cause += ": the registry asks for credentials"
				if r.registryChallenge == "basic" {
					// distribution's registry/client/auth
					// ErrNoBasicAuthCredentials; containerd's pusher wraps it
					// (checked with a real registry in every e2e cell).
					line := "no basic auth credentials"
					if r.client.ContainerdStore {
						line = "push access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials"
					}
					r.Cause += fmt.Sprintf(" (Basic): without them docker push prints %q", line)
				}
				r.Fix = "docker login " + hp + " before pushing, and before pulling unless the registry allows anonymous pulls (nothing to do when you have logged in: dockerd gets the credentials from the CLI)"
			}
		}
	case OutcomeOKPlain:
		r.Cause = fmt.Sprintf("%s answered over plain HTTP: the connection is not encrypted", describeRole(t.Role))
		r.Fix = "protect the daemon with TLS: docker tls init --san " + t.Host
		if t.Role == RoleRegistry {
			why := "dockerd uses plain HTTP for a registry on a loopback address, which it treats as insecure"
			if r.client.Insecure != "" {
				why = "dockerd falls back to plain HTTP for an insecure registry: " + r.client.Insecure
			}
			r.Cause += " (" + why + ")"
			r.Fix = "nothing to do for pulls and pushes from this machine; to serve it to other machines, enable TLS on the registry (http.tls) and install its CA: docker tls install-registry " + t.HostPort()
		}
	case OutcomeClientConfig:
		r.Cause = fmt.Sprintf("the client material in %s cannot be used: %s", src, r.Err)
		r.Fix = "repair the file named in the cause; the static findings of this report (docker tls doctor) say how"
	case OutcomeResolveFailed:
		r.Cause = fmt.Sprintf("the name %s does not resolve", t.Host)
		r.Fix = "check the host name (and /etc/hosts or DNS on this machine)"
	case OutcomeConnectRefused:
		r.Cause = fmt.Sprintf("nothing listens on %s (connection refused)", t.Addr())
		daemonFix := fmt.Sprintf("start dockerd, or check which address it listens on: \"hosts\" in daemon.json or -H on its command line must include tcp://%s (tcp://0.0.0.0:%d for every address)", t.HostPort(), t.Port)
		registryFix := fmt.Sprintf("start the registry, or check which address it listens on (http.addr in its config.yml, REGISTRY_HTTP_ADDR, or the port a container publishes) and use that in the image reference (%s/IMAGE)", t.HostPort())
		switch {
		case t.Unasked:
			r.Cause += ": the doctor could not ask whether a daemon or a registry belongs there"
			r.Fix = "is the daemon or registry running and listening there? For a daemon: " + daemonFix + ". For a registry: " + registryFix
		case t.Role == RoleRegistry:
			r.Fix = registryFix
		default:
			r.Fix = daemonFix
		}
	case OutcomeConnectTimeout, OutcomeConnectFailed:
		r.Cause = fmt.Sprintf("%s cannot be reached: %s", t.Addr(), r.Err)
		r.Fix = "check the address, routing and firewalls between this machine and the server"
	case OutcomeSilent:
		r.Cause = fmt.Sprintf("%s accepted the connection but answered nothing within %s", t.Addr(), o.Timeout)
		r.Fix = "the port is held by something that is not a TLS server (or is overloaded): check what listens there"
	case OutcomeNotTLS:
		what := "a service that does not speak TLS"
		if strings.HasPrefix(r.Evidence.Banner, "SSH-") {
			what = "an SSH server"
		}
		r.Cause = fmt.Sprintf("%s is %s, not a TLS endpoint", t.Addr(), what)
		r.Fix = "use the port the TLS daemon listens on (2376 by convention); an ssh:// DOCKER_HOST needs no TLS"
	case OutcomePlainHTTPServer:
		r.Cause = fmt.Sprintf("%s speaks plain HTTP, but %s uses TLS", t.Addr(), src)
		if t.Role == RoleRegistry {
			r.Fix = fmt.Sprintf("enable TLS on the registry (http.tls), or list %s in \"insecure-registries\" in daemon.json and restart dockerd", hp)
		} else {
			r.Fix = "enable TLS on the daemon: docker tls init --san " + t.Host + " and docker tls install daemon; or, if the port is meant to be plain, unset DOCKER_TLS_VERIFY/DOCKER_TLS"
		}
	case OutcomePlainClientToTLS:
		r.Cause = fmt.Sprintf("%s requires TLS, but the client connects with plain HTTP (%s has no TLS settings)", t.Addr(), src)
		r.Fix = fmt.Sprintf("export DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=<dir with ca.pem, cert.pem, key.pem>, or use a context: docker tls install client --context %s --host %s; tools built on the Go SDK also need DOCKER_CERT_PATH", r.contextArg(), t)
	case OutcomeServerUnknownCA, OutcomeServerChainIncomplete:
		trusted := trustedCerts(r.client.CA)
		var names []string
		for _, c := range trusted {
			names = append(names, c.Subject.String())
		}
		trustDesc := "the system roots"
		if len(names) > 0 {
			trustDesc = strings.Join(names, "; ") + " (" + r.client.CAFile + ")"
			if r.client.SystemRoots {
				trustDesc += " plus the system roots"
			}
		}
		if leaf != nil {
			r.Cause = fmt.Sprintf("the server's certificate was issued by %s, but the client trusts only %s", leaf.Issuer, trustDesc)
			for _, c := range trusted {
				if c.Subject.String() == leaf.Issuer {
					r.Cause += "; the trusted CA has the same name but a different key: it is another CA (re-created?)"
				}
			}
		}
		if r.Outcome == OutcomeServerChainIncomplete {
			r.Cause += fmt.Sprintf("; the server sent only its own certificate: %s looks like an intermediate CA the server must send with it (the certificate says it is published at %s, which Go never fetches)", leaf.Issuer, strings.Join(r.peer[0].IssuingCertificateURL, ", "))
			file, restart := "the file dockerd's tlscert (--tlscert) names", "restart dockerd"
			if t.Role == RoleRegistry {
				file, restart = "the registry's certificate file (http.tls.certificate)", "restart the registry"
			}
			r.Fix = fmt.Sprintf("serve the full chain: append the intermediate %s (published at %s) to %s, then %s: %s && cat server-cert.pem intermediate.pem > server-cert.pem.chain && mv server-cert.pem.chain server-cert.pem; or add the intermediate to the client's CA file",
				leaf.Issuer, r.peer[0].IssuingCertificateURL[0], file, restart, FetchIntermediate(r.peer[0].IssuingCertificateURL[0], "intermediate.pem"))
		} else {
			if leaf != nil && len(r.Evidence.ServerChain) == 1 && leaf.Issuer != leaf.Subject {
				r.Cause += "; if that issuer is an intermediate, the server must also send it"
			}
			r.Fix = trustFix()
		}
	case OutcomeServerNameMismatch:
		r.Cause = fmt.Sprintf("the client connects to %q, but the server's certificate is valid only for %s", t.Host, orNone(sans))
		if isIP(t.Host) {
			r.Cause += " (an IP address must be an IP SAN; a CN never counts)"
		}
		r.Fix = reissue() + "; or connect using a name the certificate carries"
	case OutcomeServerCNOnly:
		r.Cause = "the server's certificate has no subject alternative names, only a Common Name, which Go (and so Docker) ignores since Go 1.15"
		r.Fix = reissue()
	case OutcomeServerExpired:
		if leaf != nil {
			r.Cause = fmt.Sprintf("the server's certificate expired on %s (this machine's clock says %s)", leaf.NotAfter.Format(time.RFC3339), r.now().UTC().Format(time.RFC3339))
		} else {
			r.Cause = "a certificate in the server's chain has expired"
		}
		r.Fix = "renew it: " + issueServer() + ", install server-cert.pem and server-key.pem where the server reads them and restart it; if the dates look wrong, fix this machine's or the server's clock (NTP)"
	case OutcomeServerNotYetValid:
		if leaf != nil {
			skew := leaf.NotBefore.Sub(r.now())
			r.Cause = fmt.Sprintf("the server's certificate is valid only from %s; this machine's clock is %s behind that (clock skew)", leaf.NotBefore.Format(time.RFC3339), skew.Round(time.Second))
		}
		r.Fix = "fix the clock on this machine (or in the VM): timedatectl set-ntp true; or reissue the certificate"
	case OutcomeServerWrongEKU:
		eku := ""
		if leaf != nil {
			eku = strings.Join(leaf.ExtKeyUsage, ",")
		}
		r.Cause = fmt.Sprintf("the server's certificate does not allow server authentication (extended key usage %s, expected serverAuth)", orNone(eku))
		r.Fix = reissue()
	case OutcomeServerCACannotSign:
		r.Cause = "the CA the client trusts is not allowed to sign certificates (no basicConstraints CA:TRUE or no keyCertSign): often the server's own certificate was copied as the CA"
		r.Fix = "use the real CA certificate as the client's CA; issue CAs with docker tls ca create (critical CA:TRUE, keyCertSign)"
	case OutcomeServerCertInvalid:
		r.Cause = "the server's certificate chain is invalid: " + r.Err
		r.Fix = reissue()
	case OutcomeClientCertMissing:
		r.Cause = fmt.Sprintf("the server requires a client certificate (tlsverify) and %s has none", src)
		if t.Role == RoleRegistry && r.client.Insecure != "" && !r.client.ContainerdStore {
			// moby registry.newTLSConfig reads certs.d only for a secure
			// registry: an insecure one never gets a client certificate.
			r.Cause = fmt.Sprintf("the registry requires a client certificate, but dockerd treats %s as insecure (%s), and for an insecure registry it reads no certs.d directory, so it never sends one", hp, r.client.Insecure)
			r.Fix = fmt.Sprintf("remove %s from \"insecure-registries\" (daemon.json or --insecure-registry) and restart dockerd, then install the client pair: docker tls install-registry %s --issue-client; a loopback address is always insecure: reach the registry by a name that resolves to another address, or use the containerd image store, which reads certs.d for it", hp, hp)
			break
		}
		if t.Role == RoleRegistry {
			r.Fix = fmt.Sprintf("install a client pair signed by a CA the registry accepts (%s) as /etc/docker/certs.d/%s/client.cert and client.key: docker tls install-registry %s --issue-client --ca-cert <the certificate of %s> --ca-key <its key>", orNone(clientCA), hp, hp, orNone(clientCA))
		} else {
			r.Fix = fmt.Sprintf("give the client cert.pem and key.pem signed by the daemon's tlscacert (%s): docker tls install client --context %s --host %s --ca … --cert … --key …", orNone(clientCA), r.contextArg(), t)
		}
	case OutcomeClientCertNotAccepted:
		var issuer string
		if len(r.clientCrts) > 0 && len(r.clientCrts[0]) > 0 {
			issuer = r.clientCrts[0][0].Issuer.String()
		}
		r.Cause = fmt.Sprintf("the client certificate in %s was issued by %s, but the server accepts only certificates from %s, so Go silently sent none", src, issuer, orNone(clientCA))
		r.Fix = "issue the client certificate from the CA the server trusts: docker tls issue client --ca-cert <server's client CA> --ca-key <its key>, then install it"
	case OutcomeClientCertWrongEKU:
		r.Cause = fmt.Sprintf("the client certificate %s does not allow client authentication (no clientAuth extended key usage), so the server rejects it", r.Evidence.ClientCertSent)
		r.Fix = "issue a client certificate: docker tls issue client (EKU clientAuth), then install it"
	case OutcomeClientCertExpired:
		r.Cause = fmt.Sprintf("the server rejected the client certificate %s as expired", r.Evidence.ClientCertSent)
		r.Fix = "renew it: docker tls issue client --force, then install it; check both clocks"
	case OutcomeClientCertUnknownCA, OutcomeClientCertRejected:
		r.Cause = fmt.Sprintf("the server rejected the client certificate %s", r.Evidence.ClientCertSent)
		if c := r.sentCert(); c != nil && clientCA != "" && strings.Contains(clientCA, c.Issuer.String()) {
			r.Cause += fmt.Sprintf("; its issuer has the name of a CA the server accepts (%s), but the server could not verify it: it was signed by another CA of the same name (a re-created CA?), or is otherwise invalid", c.Issuer)
		} else if clientCA != "" {
			r.Cause += "; it accepts certificates from " + clientCA
		}
		r.Fix = "issue the client certificate from the CA in the server's tlscacert (or clientcas for a registry), then install it"
	case OutcomeTLSVersion:
		r.Cause = "client and server share no TLS version or cipher suite: Docker clients use TLS 1.2+ with ECDHE suites only"
		r.Fix = "enable TLS 1.2 or 1.3 and ECDHE cipher suites on the server (or the load balancer in front of it)"
	case OutcomeHandshakeFailed:
		r.Cause = "the TLS handshake failed: " + r.Err
		r.Fix = "compare the server's TLS settings with Docker's (TLS 1.2+, ECDHE suites); see the evidence for the alert"
	case OutcomeHandshakeTimeout:
		r.Cause = fmt.Sprintf("the TLS handshake with %s did not finish within %s", t.Addr(), o.Timeout)
		r.Fix = "check for a slow or overloaded server, or a proxy in between; raise --timeout"
	case OutcomeHTTPError:
		if r.client.TLS {
			r.Cause = "TLS worked, but the HTTP request failed: " + r.Err
		} else {
			r.Cause = "the plain-HTTP request failed (no TLS was spoken): " + r.Err
		}
		r.Fix = "check that this port belongs to " + describeRole(t.Role) + ": docker tls doctor " + hp + " asks the endpoint what it is"
	case OutcomeNotRegistry:
		r.Cause = fmt.Sprintf("%s answered GET /v2/ but is not a Docker registry (no Docker-Distribution-Api-Version header)", hp)
		r.Fix = "check the registry address and port"
	}
	if r.client.Mirror != "" && t.Role == RoleRegistry {
		r.mirrorWording()
	}
}

// mirrorWording says what a result means for a pull-through mirror of
// Docker Hub (registry-mirrors): dockerd uses it only for Docker Hub's
// images, and a failing mirror does not fail the pull, so docker prints
// nothing of its error.
func (r *Result) mirrorWording() {
	m, hp := r.client.Mirror, r.Target.HostPort()
	lists := fmt.Sprintf("registry-mirrors lists %s (a mirror of Docker Hub)", m)
	switch r.Outcome {
	case OutcomeOK:
		r.Cause += "; " + lists
		return
	case OutcomeOKPlain:
		r.Cause = fmt.Sprintf("the mirror answered over plain HTTP: %s, so dockerd speaks no TLS to it and no certificate applies; pulls of Docker Hub's images through it are not encrypted", lists)
		r.Fix = fmt.Sprintf("nothing to do for pulls to work; to encrypt them, serve the mirror over TLS and list it as https://%s in registry-mirrors (daemon.json or --registry-mirror), then restart dockerd", hp)
		return
	case OutcomePlainClientToTLS:
		r.Cause = fmt.Sprintf("%s, plain HTTP, but %s speaks TLS: dockerd's requests to the mirror fail", lists, hp)
		r.Fix = fmt.Sprintf("write https://%s in registry-mirrors (daemon.json or --registry-mirror) and restart dockerd; the CA that signed the mirror's certificate then goes in /etc/docker/certs.d/%s/ca.crt: docker tls install-registry %s --ca <that CA>", hp, hp, hp)
	default:
		r.Cause += "; " + lists
		if d := r.client.MirrorCertsDir; d != "" {
			r.Cause += "; with the containerd image store dockerd reaches a mirror with docker.io's configuration (" + d + "), not with the mirror's own certs.d directory"
			if r.Outcome == OutcomeServerUnknownCA || r.Outcome == OutcomeServerChainIncomplete {
				ca := "the CA that signed the mirror's certificate"
				if len(r.Evidence.ServerChain) > 0 {
					ca += " (" + r.Evidence.ServerChain[0].Issuer + ")"
				}
				r.Fix = "put " + ca + " in " + d + "/ca.crt (for example cp <that CA>.pem " + d + "/ca.crt); no restart is needed"
			}
		}
	}
	if r.client.MirrorFallback != "" {
		r.Cause += "; " + r.client.MirrorFallback
	}
	// docker pull does not print the mirror's error.
	r.DockerError = ""
}

// contextArg is the context a fix names: the client's own context when it
// has one, else a name docker context create accepts, made from the host.
func (r *Result) contextArg() string {
	if n := r.client.Context; n != "" {
		return n
	}
	var b strings.Builder
	b.WriteString("tls-")
	for _, c := range r.Target.Host {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

func describeRole(r Role) string {
	if r == RoleRegistry {
		return "the registry"
	}
	return "the daemon"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// JoinSANs joins names for --san, each once (an IP in any spelling, a
// DNS name in any case), in order.
func JoinSANs(names []string) string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		k := strings.ToLower(n)
		if ip := net.ParseIP(strings.Trim(n, "[]")); ip != nil {
			k, n = ip.String(), ip.String()
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}

// shellQuote quotes a path for a POSIX shell when needed.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/._-:=@%+,", c))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func isIP(h string) bool { return net.ParseIP(h) != nil }

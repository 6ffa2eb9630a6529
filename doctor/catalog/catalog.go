package catalog

// catalog is every check the doctor runs. CHECKS.md is generated from it
// (go test ./doctor -update).
var catalog = []Check{
	// certs.d: the registry client directories.
	{
		ID: IDCertsDCANamedCert, Title: "CA certificate saved as .cert in certs.d", Severity: SeverityError,
		Doc: "In /etc/docker/certs.d/<host>/ the registry loader treats *.crt as trusted CA roots and *.cert as client " +
			"certificates that need a sibling <base>.key. A CA certificate saved as ca.cert is therefore loaded as a " +
			"client certificate, its key is missing, and every pull, push and login for that registry fails with " +
			"\"missing key ca.key for client certificate ca.cert. CA certificates must use the extension .crt\" " +
			"(Docker 20.10: \"... Note that CA certificates should use the extension .crt\"). containerd's loader, used " +
			"by Docker 29's containerd image store, instead fails with \"failed to load X509 key pair: tls: failed to " +
			"find any PEM data in key input\".",
		Fix:      "Rename the file to the .crt extension (mv ca.cert ca.crt); no daemon restart is needed.",
		Citation: "moby registry/registry.go loadTLSConfig (case \".cert\" needs <base>.key; error text from moby PR #19507); containerd core/remotes/docker/config/hosts.go loadCertFiles",
	},
	{
		ID: IDCertsDClientCertNamedCRT, Title: "Client certificate saved as .crt in certs.d", Severity: SeverityError,
		Doc: "A .crt file in certs.d is added to the trusted roots, never sent as a client certificate. A client " +
			"certificate saved as client.crt is therefore not offered, and a registry that requires client " +
			"authentication rejects the connection (\"remote error: tls: certificate required\" with TLS 1.3, " +
			"\"remote error: tls: handshake failure\" or \"bad certificate\" with TLS 1.2). If its key is next to " +
			"it as client.key, the loader also fails outright with \"missing client certificate client.cert for key " +
			"client.key\".",
		Fix:      "Rename the client certificate to <base>.cert so that it pairs with <base>.key (mv client.crt client.cert).",
		Citation: "moby registry/registry.go loadTLSConfig (\".crt\" → RootCAs, \".key\" needs <base>.cert); Go crypto/tls handshake_client.go getClientCertificate",
	},
	{
		ID: IDCertsDCertWithoutKey, Title: "Client certificate in certs.d without its .key", Severity: SeverityError,
		Doc: "Every <base>.cert in a certs.d directory must have a <base>.key next to it. Without it the classic " +
			"loader refuses the whole directory and pulls fail with \"missing key <base>.key for client certificate " +
			"<base>.cert. CA certificates must use the extension .crt\". containerd's loader reads the .cert as a " +
			"combined certificate+key PEM and fails with \"failed to load X509 key pair: tls: failed to find any PEM " +
			"data in key input\".",
		Fix:      "Copy the matching private key next to the certificate as <base>.key (mode 0600), or remove the .cert if no client certificate is needed.",
		Citation: "moby registry/registry.go loadTLSConfig; containers/image pkg/tlsclientconfig SetupCertificates; containerd hosts.go loadCertFiles",
	},
	{
		ID: IDCertsDKeyWithoutCert, Title: "Private key in certs.d without its .cert", Severity: SeverityError,
		Doc: "Every <base>.key in a certs.d directory must have a <base>.cert next to it. A stray key (for example " +
			"the registry's domain.key copied along with its certificate, as some registry guides do) makes the " +
			"classic loader fail with \"missing client certificate <base>.cert for key <base>.key\". containerd's " +
			"loader ignores the key silently.",
		Fix:      "Remove the stray key from certs.d, or add its certificate as <base>.cert.",
		Citation: "moby registry/registry.go loadTLSConfig (case \".key\"); containerd hosts.go loadCertFiles ignores lone keys",
	},
	{
		ID: IDCertsDIgnoredFile, Title: "TLS material in certs.d that Docker ignores", Severity: SeverityWarning,
		Doc: "The certs.d loader only looks at *.crt, *.cert and *.key (and containerd at hosts.toml) inside " +
			"<host[:port]>/ directories. Files with another extension (.pem, .cer, .der, .p12, ca.crt.txt), files placed " +
			"directly in certs.d, and directories for docker.io (whose TLS settings are fixed and never read from " +
			"certs.d) are ignored without a message, so the CA the user meant to trust is not used and pulls fail " +
			"with \"x509: certificate signed by unknown authority\".",
		Fix:      "Rename the file to the extension Docker reads (a CA as ca.crt, a client pair as client.cert + client.key) inside /etc/docker/certs.d/<host:port>/.",
		Citation: "moby registry/registry.go loadTLSConfig (switch on filepath.Ext; other files skipped), hostCertsDir; docker.io uses tlsconfig.ServerDefault",
	},
	{
		ID: IDCertsDDaemonKey, Title: "Daemon server certificate or CA key in certs.d", Severity: SeverityWarning,
		Doc: "/etc/docker/certs.d is read by the Docker engine as a registry client. Setup scripts sometimes copy " +
			"the daemon's own server-cert.pem/server-key.pem, or even the CA's private key ca-key.pem, there. Docker " +
			"never uses them from there, so the daemon TLS configuration is not what it looks like, and a private key " +
			"sits in a directory that is often world-readable and copied between machines.",
		Fix:      "Move daemon material to the directory named in daemon.json tlscert/tlskey (for example /etc/docker/tls) and keep the CA key offline.",
		Citation: "moby registry/config.go CertsDir (registry client only); daemon TLS comes from daemon.json tlscacert/tlscert/tlskey (daemon/config/config.go)",
	},
	{
		ID: IDCertsDPort443, Title: "certs.d directory named host:443", Severity: SeverityWarning,
		Doc: "Docker looks up certs.d/<host[:port]> with exactly the host and port written in the image reference, " +
			"with no fallback. An image written as myreg.example.com/app (port 443 implied) is looked up in " +
			"certs.d/myreg.example.com, so a directory named myreg.example.com:443 is only used for references " +
			"that spell out :443, and pulls fail with \"x509: certificate signed by unknown authority\".",
		Fix:      "Rename (or copy) the directory to the host name without :443.",
		Citation: "moby registry/registry.go hostCertsDir and service_v2.go lookupV2Endpoints: filepath.Join(CertsDir(), host) with the reference's host[:port]",
	},
	{
		ID: IDCertsDPortMissing, Title: "certs.d directory lacks the registry's port", Severity: SeverityWarning,
		Doc: "A registry on a non-default port is looked up as certs.d/<host>:<port>; a directory named only <host> " +
			"is not consulted for it (there is no fallback). The doctor knows the port from the registries in the " +
			"client's config.json auths and daemon.json registry-mirrors/insecure-registries.",
		Fix:      "Rename the directory to <host>:<port> as written in image references and docker login.",
		Citation: "moby registry/registry.go hostCertsDir (exact host[:port], no fallback)",
	},
	{
		ID: IDCertsDCRTNotPEM, Title: ".crt in certs.d is not PEM", Severity: SeverityError,
		Doc: "The classic loader adds each *.crt with x509.CertPool.AppendCertsFromPEM and ignores its result, so a " +
			"DER, PKCS#7 or otherwise non-PEM .crt is skipped without any message and the registry's certificate " +
			"fails with \"x509: certificate signed by unknown authority\". containerd's loader fails instead with " +
			"\"unable to load CA cert\".",
		Fix:      "Convert the file to PEM (openssl x509 -inform der -in ca.crt -out ca.crt.pem, then move it over ca.crt).",
		Citation: "moby registry/registry.go loadTLSConfig (AppendCertsFromPEM result ignored); containerd hosts.go loadCertFiles",
	},
	{
		ID: IDHostsTOMLBroken, Title: "hosts.toml unreadable or pointing at missing files", Severity: SeverityError,
		Doc: "containerd (and Docker 29 with the containerd image store) reads <certs.d>/<host>/hosts.toml. If it " +
			"does not parse, containerd logs \"failed to decode hosts.toml\" and falls back to the plain files; if a " +
			"ca or client path in it does not exist, pulls fail with \"unable to read CA cert\" or \"unable to read " +
			"CERT file\". Relative paths are relative to the host directory.",
		Fix:      "Fix the TOML syntax, or correct the ca/client paths (absolute, or relative to the host directory).",
		Citation: "containerd core/remotes/docker/config/hosts.go ConfigureHosts, loadHostDir, parseHostsFile",
	},
	{
		ID: IDHostsTOMLFileUnused, Title: "certs.d file not loaded because hosts.toml is in effect", Severity: SeverityWarning,
		Doc: "When <certs.d>/<host>/hosts.toml decodes, containerd (and Docker 29 with the containerd image store) " +
			"configures the host from it alone: the ca and client entries name the files to load, and the " +
			"*.crt/*.cert/*.key files beside it are read only when there is no hosts.toml (or it fails to decode). " +
			"A ca.crt that hosts.toml does not name is therefore not trusted.",
		Fix:      "Name the file in hosts.toml (ca = \"ca.crt\", client = [[\"client.cert\", \"client.key\"]]) or remove it.",
		Citation: "containerd core/remotes/docker/config/hosts.go loadHostDir (loadCertFiles only without hosts.toml or after a decode error)",
	},
	{
		ID: IDHostsTOMLHostDropped, Title: "hosts.toml host ignored by containerd 2.x", Severity: SeverityWarning,
		Doc: "containerd 2.x takes the list of hosts from the [host.\"…\"] table headers (getSortedHosts, go-toml's " +
			"unstable parser), so a host written as an inline table (host = { \"https://m\" = {…} }) or with dotted " +
			"keys (host.\"https://m\".ca = …) is decoded and then never used. containerd 1.6/1.7 reads such hosts.",
		Fix:      "Write each host as a table: [host.\"https://mirror.example\"] followed by its keys.",
		Citation: "containerd v2 core/remotes/docker/config/hosts.go getSortedHosts; v1.7 remotes/docker/config/hosts.go getSortedHosts",
	},
	{
		ID: IDCertsDCRTUseless, Title: ".crt in certs.d that adds no certificate", Severity: SeverityWarning,
		Doc: "The classic loader (and containers/image) feed each *.crt to x509.CertPool.AppendCertsFromPEM and " +
			"ignore its result: an empty, DER, \"TRUSTED CERTIFICATE\" or otherwise unreadable .crt adds nothing and " +
			"raises no error. When another .crt in the directory loads the CA, pulls still work; the file is only " +
			"noise (and a trap if the good file is removed). containerd's loadCertFiles fails on such a file instead " +
			"(\"unable to load CA cert\"), reported as certsd-crt-not-pem.",
		Fix:      "Remove the file, or replace it with the PEM certificate it was meant to hold.",
		Citation: "moby registry/registry.go loadTLSConfig; containers/image pkg/tlsclientconfig SetupCertificates; Go crypto/x509 AppendCertsFromPEM",
	},

	// Files and pairs.
	{
		ID: IDKeyMismatch, Title: "Private key does not match the certificate", Severity: SeverityError,
		Doc: "A certificate and its key must hold the same public key. After a partial regeneration they often do " +
			"not, and Go refuses the pair with \"tls: private key does not match public key\"; dockerd reports " +
			"\"could not load X509 key pair\" and the registry loader fails the pull. The doctor compares the public " +
			"keys (RSA, ECDSA and Ed25519).",
		Fix:      "Use the key the certificate was issued for, or issue a new certificate for this key.",
		Citation: "Go crypto/tls X509KeyPair (public key comparison); go-connections tlsconfig.Server",
	},
	{
		ID: IDWrongFormatDER, Title: "DER file where PEM is expected", Severity: SeverityError,
		Doc: "Docker reads certificates and keys only as PEM (-----BEGIN ...-----). A binary DER file (.der, or a " +
			"Windows .cer export) fails with \"tls: failed to find any PEM data in certificate input\" (or \"key " +
			"input\"), or, for a CA file, \"failed to retrieve context tls info: ca.pem seems invalid\".",
		Fix:      "Convert it: openssl x509 -inform der -in FILE -out FILE.pem (certificate) or openssl pkey -inform der -in FILE -out FILE.pem (key).",
		Citation: "Go crypto/tls tls.go X509KeyPair; docker/cli cli/context/docker/load.go tlsConfig",
	},
	{
		ID: IDWrongFormatPKCS7, Title: "PKCS#7 bundle where a PEM certificate is expected", Severity: SeverityError,
		Doc: "CAs often ship chains as PKCS#7 (.p7b/.p7c). Go cannot read PKCS#7, so Docker fails with \"tls: failed " +
			"to find any PEM data in certificate input\" or \"ca.pem seems invalid\", and certs.d skips the file.",
		Fix:      "Extract the certificates: openssl pkcs7 -print_certs -in FILE -out FILE.pem.",
		Citation: "Go crypto/x509 (no PKCS#7 support); docker/cli cli/context/docker/load.go",
	},
	{
		ID: IDWrongFormatPKCS12, Title: "PKCS#12 bundle where PEM is expected", Severity: SeverityError,
		Doc: "A .p12/.pfx bundle holds a certificate and key together, encrypted. Docker reads neither from it and " +
			"fails with \"tls: failed to find any PEM data\". Windows and many appliances export client certificates this " +
			"way, so the file often has the right name but the wrong format.",
		Fix:      "Extract: openssl pkcs12 -in FILE -clcerts -nokeys -out cert.pem and openssl pkcs12 -in FILE -nocerts -nodes -out key.pem.",
		Citation: "Go crypto/tls X509KeyPair (PEM only)",
	},
	{
		ID: IDWrongFormatUnknown, Title: "No certificate or key in a TLS file", Severity: SeverityError,
		Doc: "The file is empty, holds text that is not PEM, or a PEM block that does not parse. Docker fails with " +
			"\"tls: failed to find any PEM data\", \"ca.pem seems invalid\" or \"no valid private key found\".",
		Fix:      "Replace the file with the PEM certificate or key it should hold.",
		Citation: "Go crypto/tls X509KeyPair; docker/cli cli/context/docker/load.go tlsConfig",
	}, {
		ID: IDPEMTruncated, Title: "PEM file cut off after its last complete certificate", Severity: SeverityWarning,
		Doc: "The file ends with a -----BEGIN ...----- line whose -----END ...----- line is missing, after one or more " +
			"complete certificates. Go's PEM decoder, and so every Docker loader, reads the complete blocks and " +
			"silently ignores the rest: a CA or intermediate that was in the cut-off part is missing, and " +
			"verification later fails with \"x509: certificate signed by unknown authority\" with no hint at this file. " +
			"It usually comes from a copy and paste, or a transfer that stopped early.",
		Fix:      "Restore the end of the file from where it was copied; every PEM block ends with an -----END ...----- line.",
		Citation: "Go encoding/pem Decode (a block without its END line is not decoded; earlier blocks are); moby registry/registry.go loadTLSConfig (AppendCertsFromPEM)",
	},

	{
		ID: IDFilesSwapped, Title: "Certificate and key files swapped", Severity: SeverityError,
		Doc: "The certificate file holds a private key and/or the key file holds a certificate, usually from " +
			"swapped --tlscert/--tlskey arguments or copy targets. Go reports \"tls: failed to find certificate PEM " +
			"data in certificate input, but did find a private key; PEM inputs may have been switched\".",
		Fix:      "Swap the files back (certificate in the cert file, key in the key file).",
		Citation: "Go crypto/tls tls.go X509KeyPair error texts",
	},
	{
		ID: IDKeyEncrypted, Title: "Encrypted private key", Severity: SeverityError,
		Doc: "Docker does not support passphrase-protected keys: the CLI fails with \"private key is encrypted - " +
			"support for encrypted private keys has been removed, see https://docs.docker.com/go/deprecated/\" and " +
			"dockerd with \"error reading X509 key pair - make sure the key is not encrypted\". The Docker docs " +
			"encrypt only the CA key (-aes256), and users copy that pattern to the client or server key.",
		Fix:      "Decrypt the key (openssl pkey -in key.pem -out key.pem.plain, chmod 0600, then move it over key.pem).",
		Citation: "docker/cli cli/context/docker/load.go (x509.IsEncryptedPEMBlock); go-connections tlsconfig/config.go getCert",
	},
	{
		ID: IDFileUnreadable, Title: "TLS file cannot be read", Severity: SeverityError,
		Doc: "The path exists but is not a regular readable file: a FIFO, device, directory, a symbolic link to " +
			"nothing, a file larger than any certificate material, or a permission error. Docker fails to load it " +
			"(or, in certs.d, fails the directory). The doctor does not open special files.",
		Fix:      "Replace the path with a regular PEM file readable by the user running Docker.",
		Citation: "Go os.ReadFile; moby registry/registry.go loadTLSConfig",
	},
	{
		ID: IDTLSFileMissing, Title: "Configured TLS file does not exist", Severity: SeverityError,
		Doc: "A file named by configuration does not exist: the client's ca.pem while TLS is on, a --tlscacert/" +
			"--tlscert/--tlskey path, a daemon.json tlscacert/tlscert/tlskey, or a hosts.toml ca/client path. The " +
			"CLI fails with \"unable to resolve docker endpoint: open ~/.docker/ca.pem: no such file or directory\", " +
			"dockerd with \"could not load X509 key pair\" or \"Could not read CA certificate\". A missing client " +
			"cert.pem/key.pem is silently dropped, and the daemon then reports \"tls: certificate required\".",
		Fix:      "Put the file where the configuration says, or correct the configuration.",
		Citation: "docker/cli cli/flags/options.go SetDefaultOptions and cli/context/tlsdata.go TLSDataFromFiles; go-connections tlsconfig.Server",
	},
	{
		ID: IDCertPathWrongNames, Title: "TLS files under names the loader does not read", Severity: SeverityError,
		Doc: "The docker CLI reads exactly ca.pem, cert.pem and key.pem from $DOCKER_CERT_PATH (default ~/.docker) " +
			"and a context's TLS directory; certs.d reads ca.crt and <base>.cert/<base>.key. Files copied with the " +
			"other loader's names (client.cert in ~/.docker, cert.pem in certs.d) are never read: the CLI then " +
			"fails with \"open ~/.docker/ca.pem: no such file or directory\" or sends no client certificate, and " +
			"certs.d ignores them.",
		Fix:      "Rename the files to the names this loader reads.",
		Citation: "docker/cli cli/flags/options.go DefaultCaFile/DefaultCertFile/DefaultKeyFile; moby registry/registry.go loadTLSConfig",
	},

	// Chains.
	{
		ID: IDCAMismatchServer, Title: "Client CA did not sign the daemon's certificate", Severity: SeverityError,
		Doc: "The docker CLI trusts only the CA in its ca.pem (a fresh pool, not the system roots). If that CA did " +
			"not sign the daemon's server certificate (daemon.json tlscert), every command fails with \"tls: failed " +
			"to verify certificate: x509: certificate signed by unknown authority\". Checked when both are on this " +
			"machine and the client's host names this daemon.",
		Fix:      "Copy the CA that signed the daemon's certificate to the client's ca.pem, or reissue the daemon certificate from the client's CA.",
		Citation: "docker/cli cli/context/docker/load.go tlsConfig (x509.NewCertPool from ca.pem); Go crypto/x509 Verify",
	},
	{
		ID: IDCAMismatchClient, Title: "Client certificate not signed by the daemon's CA", Severity: SeverityError,
		Doc: "dockerd with tlsverify requires a client certificate signed by its tlscacert (exclusive root pool). " +
			"Go clients do not even send a certificate whose issuer the server did not list, so the daemon sees " +
			"none: \"remote error: tls: certificate required\" (TLS 1.3) or \"handshake failure\" (TLS 1.2), shown " +
			"by the CLI with \"the server probably has client authentication (--tlsverify) enabled\".",
		Fix:      "Issue the client certificate from the CA in the daemon's tlscacert (docker tls issue client), or add the client's CA to tlscacert.",
		Citation: "moby daemon/command/daemon.go newAPIServerTLSConfig (RequireAndVerifyClientCert, ExclusiveRootPools); Go crypto/tls handshake_client.go",
	},
	{
		ID: IDCANotCA, Title: "\"CA\" certificate is not a CA", Severity: SeverityError,
		Doc: "A file in a CA slot (ca.pem, certs.d *.crt, tlscacert) holds a certificate without basicConstraints " +
			"CA:TRUE, or with a key usage that lacks keyCertSign; often the server or client certificate was copied " +
			"as the CA. Go then rejects every certificate it signed: \"x509: certificate signed by unknown " +
			"authority (possibly because of \\\"x509: invalid signature: parent certificate cannot sign this kind of " +
			"certificate\\\" ...)\" or \"x509: certificate is not authorized to sign other certificates\". It only " +
			"ever matches a peer presenting that exact certificate.",
		Fix:      "Put the real CA certificate in the CA file; issue CAs with critical basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign.",
		Citation: "Go crypto/x509 verify.go isValid (BasicConstraintsValid/IsCA, KeyUsageCertSign)",
	},
	{
		ID: IDMissingIntermediate, Title: "Certificate chain lacks its intermediate", Severity: SeverityError,
		Doc: "The certificate was issued by an intermediate CA that is neither in the certificate file nor in the " +
			"CA file. Go's TLS peers send exactly the chain in the certificate file, and Docker's verifiers trust " +
			"only their CA file, so verification fails with \"x509: certificate signed by unknown authority\". The " +
			"doctor looks for the intermediate next to the certificate, next to the daemon's CA and next to the CA the " +
			"client trusts; when it is nowhere around but the certificate publishes it (AIA caIssuers, which Go never " +
			"fetches) and the client trusts a root of that organisation that allows intermediates, the fix fetches it.",
		Fix:      "Append the intermediate to the certificate file (cat cert.pem intermediate.pem > chain.pem) and use that as the certificate, then restart the server that reads it (dockerd, the registry).",
		Citation: "Go crypto/tls (Certificate chain sent as loaded); Go crypto/x509 Verify (Intermediates pool)",
	},

	// Certificate properties.
	{
		ID: IDCertExpired, Title: "Certificate expired", Severity: SeverityError,
		Doc: "Go rejects a certificate after NotAfter: \"x509: certificate has expired or is not yet valid: current " +
			"time T is after X\". Machine-made certificates often expire unnoticed (docker-machine 3 years, dind " +
			"825 days, step-ca 24 hours).",
		Fix:      "Issue a new certificate (docker tls issue) and install it; renew the CA if it is the one that expired.",
		Citation: "Go crypto/x509 verify.go isValid (CertificateInvalidError Expired)",
	},
	{
		ID: IDCertNotYetValid, Title: "Certificate not yet valid", Severity: SeverityError,
		Doc: "NotBefore is in the future: Go fails with \"x509: certificate has expired or is not yet valid: current " +
			"time T is before X\". Usually the issuing machine's clock, or this one's, is wrong (VMs after resume).",
		Fix:      "Fix the clock (timedatectl set-ntp true) or reissue the certificate with a correct start time.",
		Citation: "Go crypto/x509 verify.go isValid",
	},
	{
		ID: IDCertExpiring, Title: "Certificate expires soon", Severity: SeverityWarning,
		Doc: "The certificate is still valid but expires within the warning threshold (--expiry-warn, default 30 " +
			"days). After that Docker fails with \"x509: certificate has expired or is not yet valid\". Renewing in time " +
			"avoids an outage; a CA that expires takes every certificate it signed with it.",
		Fix:      "Renew the certificate before it expires.",
		Citation: "Go crypto/x509 verify.go isValid",
	},
	{
		ID: IDCertCNOnly, Title: "Server certificate has no subjectAltName", Severity: SeverityError,
		Doc: "Since Go 1.15 the Common Name is ignored for host name checks and the GODEBUG=x509ignoreCN=0 escape " +
			"was removed in Go 1.17, so a server certificate with only a CN (old Docker docs and openssl recipes) " +
			"fails with \"x509: certificate relies on legacy Common Name field, use SANs instead\", or \"x509: " +
			"cannot validate certificate for 10.0.0.5 because it doesn't contain any IP SANs\" when connecting by IP. " +
			"There is no runtime workaround; the certificate must be reissued.",
		Fix:      "Reissue the certificate with every DNS name and IP clients use as subjectAltName (docker tls issue server --san NAME --san IP).",
		Citation: "Go crypto/x509 verify.go VerifyHostname (CN ignored since Go 1.15, knob removed in 1.17)",
	},
	{
		ID: IDHostNotInSANs, Title: "Host not covered by the server certificate", Severity: SeverityError,
		Doc: "Clients check the name or IP they connect to (DOCKER_HOST, the context's host, the daemon's listen " +
			"address, the certs.d directory name) against the certificate's subjectAltNames. An IP must be an IP " +
			"SAN and a name a DNS SAN; the CN never counts. Failures read \"x509: certificate is valid for A, B, " +
			"not C\" or \"x509: cannot validate certificate for IP because it doesn't contain any IP SANs\".",
		Fix:      "Reissue the server certificate with the host as a SAN, or connect using a name it covers.",
		Citation: "Go crypto/x509 Certificate.VerifyHostname",
	},
	{
		ID: IDEKUClientMissing, Title: "Client certificate lacks clientAuth", Severity: SeverityError,
		Doc: "A client certificate whose extendedKeyUsage does not include clientAuth (for example a server " +
			"certificate reused as a client certificate) is refused by the Go server in dockerd or the registry: " +
			"\"remote error: tls: bad certificate\", shown by the CLI with \"the server probably has client " +
			"authentication (--tlsverify) enabled\". A certificate without any extendedKeyUsage is accepted for both roles. " +
			"Registry guides that copy the registry's own certificate into certs.d as <name>.cert produce this.",
		Fix:      "Issue a client certificate (extendedKeyUsage clientAuth): docker tls issue client.",
		Citation: "Go crypto/tls handshake_server.go processCertsFromClient (KeyUsages ExtKeyUsageClientAuth)",
	},
	{
		ID: IDEKUServerMissing, Title: "Server certificate lacks serverAuth", Severity: SeverityError,
		Doc: "The daemon's certificate has an extendedKeyUsage without serverAuth (often a client certificate used " +
			"as the server certificate). Clients fail with \"x509: certificate specifies an incompatible key usage\".",
		Fix:      "Issue a server certificate (extendedKeyUsage serverAuth): docker tls issue server.",
		Citation: "Go crypto/x509 Verify (ExtKeyUsageServerAuth by default)",
	},
	{
		ID: IDSigSHA1, Title: "SHA-1 (or MD5) signature", Severity: SeverityError,
		Doc: "Go rejects SHA-1 and MD5 signatures on certificates: \"x509: cannot verify signature: insecure " +
			"algorithm SHA1-RSA\". The GODEBUG=x509sha1=1 escape was removed in Go 1.24, which current Docker is " +
			"built with. Self-signed roots are exempt, as their own signature is not checked.",
		Fix:      "Reissue the certificate with a SHA-256 signature.",
		Citation: "Go crypto/x509 x509.go checkSignature (InsecureAlgorithmError); internal/godebugs table (x509sha1 removed)",
	},
	{
		ID: IDRSAWeak, Title: "RSA key shorter than 2048 bits", Severity: SeverityWarning,
		Doc: "RSA keys below 2048 bits are considered breakable; Go 1.24+ refuses keys below 1024 bits outright " +
			"(\"crypto/rsa: 768-bit keys are insecure\"). Many verifiers, and policies such as NIST SP 800-131A, reject " +
			"1024-bit keys as well.",
		Fix:      "Reissue with an RSA 2048+ or ECDSA P-256 key (docker tls issue --key ecdsa-p256).",
		Citation: "Go crypto/rsa (rsa1024min); NIST SP 800-131A",
	},
	{
		ID: IDSerialNegative, Title: "Certificate with a negative serial number", Severity: SeverityError,
		Doc: "Go 1.23+ refuses to parse certificates with a negative serial number (\"x509: negative serial " +
			"number\"), so Docker cannot load them at all. Some old generators produce them.",
		Fix:      "Reissue the certificate with a positive serial.",
		Citation: "Go crypto/x509 parser.go (x509negativeserial)",
	},
	{
		ID: IDKeyPermissions, Title: "Private key readable by group or others", Severity: SeverityWarning,
		Doc: "A TLS private key readable by other users lets them impersonate the client (with full access to the " +
			"daemon, which is root on its host) or the daemon. Docker does not check modes itself; the docs " +
			"recipe uses chmod 0400 for keys.",
		Fix:      "chmod 0600 the key file (or 0400).",
		Citation: "Docker docs \"Protect the Docker daemon socket\" (chmod -v 0400 ca-key.pem key.pem server-key.pem); docker/cli context store writes TLS files 0600",
	},

	// Client environment.
	{
		ID: IDEnvTLSVerifyZero, Title: "DOCKER_TLS_VERIFY=0 still turns verification on", Severity: SeverityWarning,
		Doc: "The docker CLI enables TLS with verification when DOCKER_TLS_VERIFY is set to any non-empty value, " +
			"including \"0\" and \"false\". Users who meant to turn TLS off then talk TLS to a plain port (\"tls: " +
			"oversized record received\") or fail on a missing ca.pem.",
		Fix:      "unset DOCKER_TLS_VERIFY (and remove it from your shell profile) instead of setting it to 0.",
		Citation: "docker/cli cli/flags/options.go (dockerTLSVerify = os.Getenv(EnvTLSVerify) != \"\"); moby#14129",
	},
	{
		ID: IDEnvCertPathMissing, Title: "DOCKER_CERT_PATH points at nothing", Severity: SeverityError,
		Doc: "DOCKER_CERT_PATH names the directory holding ca.pem, cert.pem and key.pem. When it does not exist the " +
			"CLI with TLS on fails with \"Could not read CA certificate\" / \"open …/ca.pem: no such file or " +
			"directory\"; SDK-based tools that switch TLS on from DOCKER_CERT_PATH fail the same way. Stale values " +
			"from boot2docker/docker-machine in shell profiles are the usual cause.",
		Fix:      "unset DOCKER_CERT_PATH, or point it at the directory holding ca.pem, cert.pem and key.pem.",
		Citation: "docker/cli cli/flags/options.go InstallFlags (dockerCertPath); moby client WithTLSClientConfigFromEnv",
	},
	{
		ID: IDEnvHostOverridesContext, Title: "DOCKER_HOST overrides the selected context", Severity: SeverityWarning,
		Doc: "When DOCKER_HOST is set the CLI uses the default context (env and ~/.docker/*.pem) and silently " +
			"ignores the context chosen with docker context use (config.json currentContext) and DOCKER_CONTEXT; " +
			"only --context beats it. The context's TLS material is then not used.",
		Fix:      "unset DOCKER_HOST to use the context, or pass --context explicitly.",
		Citation: "docker/cli cli/command/cli.go resolveContextName (--context > -H > DOCKER_HOST > DOCKER_CONTEXT > currentContext)",
	},
	{
		ID: IDContextMissing, Title: "Selected context does not exist", Severity: SeverityError,
		Doc: "The context named by --context, DOCKER_CONTEXT or config.json currentContext has no meta.json in the " +
			"context store. Every command then fails with: context \"NAME\" does not exist. Removing a context with " +
			"docker context rm does not reset DOCKER_CONTEXT or currentContext.",
		Fix:      "docker context ls to see the contexts; docker context use default, or create the context.",
		Citation: "docker/cli cli/context/store metadatastore.go (contexts/meta/<sha256(name)>/meta.json)",
	},

	// Daemon.
	{
		ID: IDDaemonTCPWithoutVerify, Title: "Daemon listens on TCP without tlsverify", Severity: SeverityWarning,
		Doc: "A TCP listener without tlsverify lets anyone who reaches the port control the daemon, which is root on " +
			"the host. dockerd warns \"Binding to IP address without --tlsverify is insecure and gives root access " +
			"on this machine to everyone who has access to your network.\" and announces this will become a hard " +
			"failure.",
		Fix:      "Set \"tlsverify\": true with tlscacert, tlscert and tlskey in daemon.json (docker tls install daemon), or listen on the unix socket only.",
		Citation: "moby daemon/command/daemon.go loadListeners",
	},
	{
		ID: IDDaemonTLSImpliesVerify, Title: "Daemon tls without explicit tlsverify", Severity: SeverityWarning,
		Doc: "Unlike the CLI, dockerd treats --tls (\"tls\": true) without an explicit tlsverify as tlsverify: it still " +
			"requires client certificates signed by tlscacert. Clients configured for TLS without client " +
			"certificates then fail with \"remote error: tls: certificate required\" or \"bad certificate\".",
		Fix:      "Say what you mean: add \"tlsverify\": true (client certificates required) or \"tlsverify\": false (TLS only) to daemon.json.",
		Citation: "moby daemon/command/options.go setDefaultOptions; daemon/command/daemon.go newAPIServerTLSConfig",
	},
	{
		ID: IDDaemonHostsConflict, Title: "Setting both in daemon.json and as a dockerd flag", Severity: SeverityError,
		Doc: "dockerd refuses to start when a directive is given both as a flag and in daemon.json: \"unable to " +
			"configure the Docker daemon with file /etc/docker/daemon.json: the following directives are specified " +
			"both as a flag and in the configuration file: hosts: (from flag: [fd://], from file: [...])\". The " +
			"classic trigger is the distribution's unit running dockerd -H fd:// plus \"hosts\" in daemon.json.",
		Fix:      "Add a systemd drop-in that clears ExecStart and starts dockerd without the flag, then systemctl daemon-reload && systemctl restart docker.",
		Citation: "moby daemon/config/config.go getConflictFreeConfiguration; moby#25471, moby#22339",
	},
	{
		ID: IDDaemonJSONInvalid, Title: "daemon.json does not parse", Severity: SeverityError,
		Doc: "dockerd refuses to start when daemon.json is not valid JSON: \"unable to configure the Docker daemon " +
			"with file /etc/docker/daemon.json: invalid character ...\". The doctor cannot check the daemon's TLS " +
			"settings either.",
		Fix:      "Fix the JSON (python3 -m json.tool /etc/docker/daemon.json shows where).",
		Citation: "moby daemon/config/config.go getConflictFreeConfiguration (json.Unmarshal)",
	},
	{
		ID: IDDaemonHostInvalid, Title: "Daemon listen address dockerd cannot use", Severity: SeverityError,
		Doc: "dockerd parses every \"hosts\" entry and -H flag, then listens on it; an address that does not parse, " +
			"or a TCP port outside 0-65535, stops the daemon at start: \"failed to load listeners: listen tcp: address " +
			"99999: invalid port\". The address parser accepts such a port; only the listen fails, so the mistake " +
			"shows only when the daemon restarts.",
		Fix:      "Correct the address in daemon.json \"hosts\" (or the -H flag), for example tcp://0.0.0.0:2376, then systemctl restart docker.",
		Citation: "moby daemon/command/daemon.go loadListeners (opts.ParseHost, then net.Listen)",
	},
	{
		ID: IDDaemonMirrorInvalid, Title: "Registry mirror dockerd refuses", Severity: SeverityError,
		Doc: "dockerd validates every \"registry-mirrors\" entry and --registry-mirror flag and does not start when one is " +
			"invalid. A mirror is a URL with its scheme, https:// or http://: a bare host:port is refused (\"invalid mirror: no scheme " +
			"specified for …\" from Docker 28.3; older releases take the host for the scheme: \"unsupported scheme\"). A query, " +
			"a fragment or user:password are refused too, and so is a path before Docker 25. dockerd prints the error behind " +
			"`invalid argument \"…\" for \"--registry-mirror\" flag: ` for the flag and behind `unable to configure the Docker " +
			"daemon with file …` for daemon.json. Mirrors serve only Docker Hub's images; an http:// mirror is spoken to in " +
			"plain HTTP.",
		Fix:      "Write the mirror as https://HOST[:PORT] (http:// for a plain-HTTP mirror), then restart dockerd.",
		Citation: "moby registry/config.go ValidateMirror and loadMirrors (20.10, 28.5); daemon/config/config.go Validate",
	},
}

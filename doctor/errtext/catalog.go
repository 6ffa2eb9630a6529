package errtext

// catalog lists the recognised errors. Patterns are matched
// case-insensitively; wordings of several Docker and Go releases are
// covered. More specific entries have a higher specificity.
var catalog = []Entry{
	{
		ID: "missing-key-for-client-cert", Title: "certs.d: a .cert file without its .key", role: roleRegistry, specificity: 90,
		sources: re(`missing key \S+ for client certificate \S+`),
		Causes: []string{
			"a CA certificate saved as ca.cert in /etc/docker/certs.d/<host:port>/: the loader treats every .cert as a client certificate and wants a .key beside it",
			"a client certificate copied without its key (or with a key of another base name: client.cert needs client.key)",
		},
		Check: []string{"ls -l /etc/docker/certs.d/<host:port>/ — CAs must end in .crt; client pairs are NAME.cert + NAME.key"},
	},
	{
		ID: "missing-client-cert-for-key", Title: "certs.d: a .key file without its .cert", role: roleRegistry, specificity: 90,
		sources: re(`missing client certificate \S+ for key \S+`),
		Causes: []string{
			"a stray key in /etc/docker/certs.d/<host:port>/ (for example the registry's own domain.key copied next to ca.crt, as some Harbor guides do)",
			"the client certificate is named .crt or .pem instead of .cert",
		},
		Check: []string{"ls -l /etc/docker/certs.d/<host:port>/ — remove server keys; rename the client certificate to NAME.cert"},
	},
	{
		ID: "combined-pem-no-key", Title: "containerd: a .cert without .key read as combined PEM", role: roleRegistry, specificity: 85,
		sources: re(`failed to load x509 key pair: tls: failed to find any pem data in key input`, `failed to load keypair for .*\.cert`),
		Causes: []string{
			"the containerd image store (Docker 29's default) reads a .cert without .key as a combined certificate+key PEM: a CA saved as ca.cert, or a client key missing",
		},
		Check: []string{"ls -l /etc/docker/certs.d/<host:port>/ and /etc/containerd/certs.d/<host:port>/"},
	},
	{
		ID: "plain-client-to-tls", Title: "plain HTTP client talking to a TLS daemon", role: roleDaemon, specificity: 80,
		sources: re(`client sent an http request to an https server`, `malformed http response "\\x15\\x03`, `are you trying to connect to a tls-enabled daemon without tls`),
		Causes: []string{
			"DOCKER_TLS_VERIFY (or --tlsverify/--tls) is not set, so the docker CLI speaks plain HTTP to a TLS port (2376)",
			"a tool built on the Docker Go SDK enables TLS only when DOCKER_CERT_PATH is set",
			"the current docker context has no TLS material for this TCP endpoint",
		},
		Check: []string{"env | grep DOCKER_; docker context inspect", "docker tls doctor (shows which settings win)"},
	},
	{
		ID: "http-response-to-https-client", Title: "TLS client talking to a plain HTTP endpoint", specificity: 80,
		sources: re(`server gave http response to https client`),
		Causes: []string{
			"the registry (or daemon port) serves plain HTTP: a registry without http.tls, or dockerd's plain port 2375",
			"DOCKER_TLS_VERIFY=0 or =false still turns TLS on (any non-empty value does)",
			"for a registry meant to be plain: it is not listed in insecure-registries in daemon.json (restart dockerd after adding it)",
		},
		Check: []string{"which port and scheme the server really uses", "env | grep DOCKER_TLS"},
	},
	{
		ID: "oversized-record", Title: "TLS spoken to a plain HTTP port", role: roleDaemon, specificity: 75,
		sources: re(`tls: oversized record received`),
		Causes:  []string{"DOCKER_TLS_VERIFY is set (even to 0 or false) while DOCKER_HOST points at a plain-HTTP port such as 2375"},
		Check:   []string{"env | grep DOCKER_; unset DOCKER_TLS_VERIFY rather than setting it to 0"},
	},
	{
		ID: "first-record-not-tls", Title: "the endpoint does not speak TLS", specificity: 70,
		sources: re(`first record does not look like a tls handshake`),
		Causes: []string{
			"TLS spoken to a non-TLS service: wrong port (an SSH port, 2375), or a non-HTTP service",
			"HTTPS_PROXY=https://… pointing at a plain HTTP proxy (use http:// for the proxy URL)",
		},
		Check: []string{"the port; env | grep -i proxy"},
	},
	{
		ID: "ca-cannot-sign", Title: "the trusted \"CA\" is not allowed to sign", specificity: 95,
		sources: re(`parent certificate cannot sign this kind of certificate`, `certificate is not authorized to sign other certificates`),
		Causes: []string{
			"the server's own certificate (or another leaf) was installed as ca.pem / ca.crt",
			"the CA was made without basicConstraints CA:TRUE or without the keyCertSign key usage",
		},
		Check: []string{"docker tls inspect <ca file> — it must say CA: yes and list keyCertSign"},
	},
	{
		ID: "unknown-authority", Title: "the server's certificate is signed by a CA the client does not trust", specificity: 60,
		sources: re(`x509: certificate signed by unknown authority`, `unable to get local issuer certificate`, `self[- ]signed certificate in certificate chain`),
		Causes: []string{
			"registry: the issuing CA is not in /etc/docker/certs.d/<exact host:port>/ca.crt (wrong directory name or port, .pem instead of .crt, or not installed at all)",
			"daemon: the client's ca.pem is another CA than the one that signed the daemon's certificate (a re-created CA)",
			"the server does not send its intermediate certificate",
			"a TLS-intercepting proxy; or BuildKit (buildx), which does not read /etc/docker/certs.d",
		},
		Check: []string{"docker tls inspect <ca file> <server cert>: compare the server certificate's issuer with the CA's subject", "the certs.d directory name must equal the registry host:port as written in the image reference"},
	},
	{
		ID: "no-ip-sans", Title: "connecting by IP to a certificate without IP SANs", specificity: 85,
		sources: re(`cannot validate certificate for \S+ because it doesn't contain any ip sans`),
		Causes:  []string{"the client connects by IP address and the certificate has no IP subject alternative name (an IP in the CN does not count)"},
		Check:   []string{"docker tls inspect <server cert> — see SANs; reissue with --san <that IP>"},
	},
	{
		ID: "name-mismatch", Title: "the host name is not in the certificate", specificity: 80,
		sources: re(`certificate is valid for .*, not \S+`, `certificate is not valid for any names, but wanted to match`),
		Causes: []string{
			"the name or IP the client uses (DOCKER_HOST, context, image reference) is not among the certificate's SANs",
			"a proxy or load balancer presents its own certificate",
		},
		Check: []string{"docker tls inspect <server cert> — compare the SANs with the host you connect to"},
	},
	{
		ID: "cn-only", Title: "a certificate with only a Common Name", specificity: 85,
		sources: re(`relies on legacy common name field`, `x509ignoreCN`),
		Causes:  []string{"the certificate has no SANs (an old openssl recipe): Go ignores the CN since 1.15, and the GODEBUG knob is gone since Go 1.17"},
		Check:   []string{"docker tls inspect <server cert> — SANs: none; reissue with docker tls issue server --san …"},
	},
	{
		ID: "expired", Title: "a certificate is expired or not yet valid", specificity: 80,
		sources: re(`certificate has expired or is not yet valid`),
		Causes: []string{
			"the certificate expired (docker-machine: 1080 days, dind: 825 days)",
			"clock skew: the machine's (or the VM's) clock is wrong",
			"an outdated CA bundle (an expired root such as the old Let's Encrypt root)",
		},
		Check: []string{"date -u on both ends; docker tls inspect <cert> (validity and days left)"},
	},
	{
		ID: "incompatible-key-usage", Title: "the certificate is not for this purpose", specificity: 80,
		sources: re(`certificate specifies an incompatible key usage`),
		Causes:  []string{"the server's certificate lacks extended key usage serverAuth (a client certificate used as the server's), or a CA in the chain restricts EKUs"},
		Check:   []string{"docker tls inspect <server cert> — Ext key usage must include serverAuth"},
	},
	{
		ID: "client-cert-bad", Title: "the server rejected the client certificate", specificity: 70,
		sources: re(`remote error: (?:tls: )?bad certificate`, `remote error: (?:tls: )?unsupported certificate`),
		Causes: []string{
			"the client certificate lacks extended key usage clientAuth",
			"it is signed by another CA than the daemon's tlscacert (or the registry's clientcas), possibly one with the same name",
			"with an older server (Go < 1.20): no client certificate was sent at all",
		},
		Check: []string{"docker tls inspect cert.pem <daemon's tlscacert>", "docker tls doctor <host:port> (captures which CAs the server accepts)"},
	},
	{
		ID: "client-cert-required", Title: "the server requires a client certificate and got none", specificity: 70,
		sources: re(`remote error: tls: certificate required`, `remote error: tls: handshake failure`),
		Causes: []string{
			"no client certificate is configured: cert.pem/key.pem missing from DOCKER_CERT_PATH or the context (the CLI then silently sends none)",
			"the client certificate's issuer is not among the CAs the server accepts, so Go silently does not send it",
			"(handshake failure only) no common TLS version or cipher suite",
		},
		Check: []string{"ls $DOCKER_CERT_PATH (or ~/.docker); docker context inspect", "docker tls doctor <host:port> (compares your certificate's issuer with the CAs the server asks for)"},
	},
	{
		ID: "client-cert-unknown-ca", Title: "the server does not know the client certificate's CA", specificity: 72,
		sources: re(`remote error: tls: unknown certificate authority`),
		Causes:  []string{"the client certificate is signed by a CA other than the one in the daemon's tlscacert (or registry clientcas)"},
		Check:   []string{"docker tls inspect cert.pem — compare its issuer with the daemon's tlscacert"},
	},
	{
		ID: "client-cert-expired", Title: "the server says the client certificate expired", specificity: 72,
		sources: re(`remote error: tls: expired certificate`),
		Causes:  []string{"the client certificate expired", "clock skew on the server"},
		Check:   []string{"docker tls inspect cert.pem; date -u on the server"},
	},
	{
		ID: "tls-version", Title: "no common TLS version or cipher", specificity: 65,
		sources: re(`protocol version not supported`, `no supported versions satisfy`, `insufficient security`, `no cipher suite supported`),
		Causes:  []string{"the server (or a load balancer) offers only TLS 1.0/1.1 or non-ECDHE ciphers; Docker clients need TLS 1.2+ with ECDHE"},
		Check:   []string{"openssl s_client -connect <host:port> -tls1_2"},
	},
	{
		ID: "key-mismatch", Title: "certificate and key do not belong together", specificity: 85,
		sources: re(`private key does not match public key`),
		Causes:  []string{"a certificate and key from different generations (a partial re-issue)", "the certificate and key arguments are swapped between two pairs"},
		Check:   []string{"docker tls inspect cert.pem key.pem — shows which certificate each key belongs to"},
	},
	{
		ID: "key-pair-load", Title: "dockerd cannot load its key pair", role: roleDaemon, specificity: 75,
		sources: re(`could not load x509 key pair`, `error reading x509 key pair`, `make sure the key is not encrypted`),
		Causes:  []string{"tlscert/tlskey in daemon.json point at missing files", "the key is encrypted (dockerd cannot prompt for a passphrase)", "certificate and key do not match"},
		Check:   []string{"docker tls doctor (checks the files daemon.json names)"},
	},
	{
		ID: "not-pem", Title: "a file is not PEM, or certificate and key are swapped", specificity: 80,
		sources: re(`failed to find any pem data in (?:certificate|key) input`, `failed to find certificate pem data in certificate input, but did find a private key`, `pem inputs may have been switched`, `failed to parse private key`, `ca\.pem seems invalid`),
		Causes:  []string{"the file is DER, PKCS#7 or PKCS#12 rather than PEM", "certificate and key are swapped", "the key is in an unsupported format"},
		Check:   []string{"docker tls inspect <file> — says what the file holds and how to convert it"},
	},
	{
		ID: "encrypted-key", Title: "an encrypted private key", specificity: 85,
		sources: re(`private key is encrypted`, `encrypted private keys are obsolete`),
		Causes:  []string{"key.pem is passphrase-protected (the Docker docs encrypt only the CA key; copying that step to client or server keys breaks them)"},
		Check:   []string{"head -3 key.pem (ENCRYPTED); decrypt with openssl pkey -in key.pem -out key.pem"},
	},
	{
		ID: "ca-file-missing", Title: "the CA file the client expects is missing", role: roleDaemon, specificity: 75,
		sources: re(`could not read ca certificate`, `unable to resolve docker endpoint: open .*ca\.pem`),
		Causes:  []string{"DOCKER_CERT_PATH or DOCKER_TLS_VERIFY left over in the shell (old boot2docker/toolbox/docker-machine setups)", "ca.pem was never installed into the cert path"},
		Check:   []string{"env | grep DOCKER_ (and your shell rc files)"},
	},
	{
		ID: "daemon-directives-conflict", Title: "dockerd: a directive given as a flag and in daemon.json", role: roleDaemon, specificity: 90,
		sources: re(`directives are specified both as a flag and in the configuration file`),
		Causes:  []string{"the systemd unit starts dockerd with -H fd:// (or TLS flags) while daemon.json sets hosts (or the same TLS keys)"},
		Check:   []string{"systemctl cat docker.service — fix with a drop-in: [Service] ExecStart= then ExecStart=/usr/bin/dockerd"},
	},
	{
		ID: "sha1-signature", Title: "a SHA-1 signed certificate", specificity: 85,
		sources: re(`insecure algorithm sha1`, `x509sha1`),
		Causes:  []string{"the certificate (or its CA) is signed with SHA-1; Go rejects it and the GODEBUG override is gone since Go 1.24"},
		Check:   []string{"docker tls inspect <cert> — Signature"},
	},
	{
		ID: "negative-serial", Title: "a certificate with a negative serial number", specificity: 85,
		sources: re(`negative serial number`),
		Causes:  []string{"a faulty certificate generator; Go 1.23+ rejects negative serials"},
		Check:   []string{"docker tls inspect <cert> — Serial"},
	},
	{
		ID: "cannot-connect", Title: "the daemon cannot be reached", role: roleDaemon, specificity: 30,
		sources: re(`cannot connect to the docker daemon at`),
		Causes:  []string{"nothing listens on that address (dockerd down, another port)", "CI dind: the job lacks DOCKER_TLS_CERTDIR / DOCKER_CERT_PATH for port 2376, or uses 2375 while dind enables TLS"},
		Check:   []string{"docker tls doctor <host:port>"},
	},
	{
		ID: "buildx-env-tls", Title: "buildx refuses TLS from the environment", role: roleDaemon, specificity: 90,
		sources: re(`could not create a builder instance with tls data loaded from environment`),
		Causes:  []string{"buildx does not take TLS settings from DOCKER_TLS_VERIFY/DOCKER_CERT_PATH"},
		Check:   []string{"create a context: docker tls install client --context <name> --host tcp://…:2376, then docker buildx create <name>"},
	},
	{
		ID: "eof", Title: "the connection was closed during the exchange", specificity: 10,
		sources: re(`: EOF$`, `: EOF\b`, `connection reset by peer`),
		Causes:  []string{"a TLS version or cipher mismatch with an old server or load balancer", "a server that closes connections it cannot handle (wrong protocol on that port)"},
		Check:   []string{"docker tls doctor <host:port> (tries TLS 1.2 and 1.3)"},
	},
}

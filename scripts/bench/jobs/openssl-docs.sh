#!/usr/bin/env bash
# The openssl recipe of Docker's "Protect the Docker daemon socket"
# (https://docs.docker.com/engine/security/protect-access/), step by step,
# made non-interactive (-passout/-passin, -subj). One run of this script is
# one timed unit of scripts/bench/run.sh.
#
#   openssl-docs.sh rsa|ec OUTDIR
#
# rsa: as documented, RSA-4096 keys, the CA key encrypted with AES-256.
# ec:  the same steps with EC P-256 keys (the CA key encrypted likewise).
# Writes ca.pem ca-key.pem server-cert.pem server-key.pem cert.pem key.pem
# (the names Docker uses) into OUTDIR, which must exist.
set -euo pipefail

kind=${1:?usage: openssl-docs.sh rsa|ec OUTDIR}
cd "${2:?usage: openssl-docs.sh rsa|ec OUTDIR}"

HOST=docker.example.com
PASS=pass:docker-tls-bench

genkey() { # genkey OUT [encrypt]
	case $kind in
	rsa)
		if [[ ${2-} ]]; then
			openssl genrsa -aes256 -passout "$PASS" -out "$1" 4096
		else
			openssl genrsa -out "$1" 4096
		fi
		;;
	ec)
		if [[ ${2-} ]]; then
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 -pass "$PASS" -out "$1"
		else
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
		fi
		;;
	*)
		echo "openssl-docs.sh: unknown key kind $kind (want rsa or ec)" >&2
		exit 2
		;;
	esac
}

# The CA.
genkey ca-key.pem encrypt
openssl req -new -x509 -days 365 -key ca-key.pem -passin "$PASS" -sha256 -out ca.pem \
	-subj "/O=docker-tls bench/CN=docker-tls bench CA"

# The server (daemon) certificate.
genkey server-key.pem
openssl req -subj "/CN=$HOST" -sha256 -new -key server-key.pem -out server.csr
echo "subjectAltName = DNS:$HOST,DNS:localhost,IP:10.0.0.5,IP:127.0.0.1" >>extfile.cnf
echo extendedKeyUsage = serverAuth >>extfile.cnf
openssl x509 -req -days 365 -sha256 -in server.csr -CA ca.pem -CAkey ca-key.pem -passin "$PASS" \
	-CAcreateserial -out server-cert.pem -extfile extfile.cnf

# The client certificate.
genkey key.pem
openssl req -subj '/CN=client' -new -key key.pem -out client.csr
echo extendedKeyUsage = clientAuth >extfile-client.cnf
openssl x509 -req -days 365 -sha256 -in client.csr -CA ca.pem -CAkey ca-key.pem -passin "$PASS" \
	-CAcreateserial -out cert.pem -extfile extfile-client.cnf

# Clean up and protect, as the docs do.
rm -f client.csr server.csr extfile.cnf extfile-client.cnf
chmod 0400 ca-key.pem key.pem server-key.pem
chmod 0444 ca.pem server-cert.pem cert.pem

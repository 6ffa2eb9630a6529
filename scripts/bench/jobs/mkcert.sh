#!/usr/bin/env bash
# mkcert's way to the standard job of scripts/bench/run.sh: a CA (created by
# the first call in an empty CAROOT; no `mkcert -install`, so no trust store
# is touched), a server certificate for 4 SANs and a client certificate, all
# ECDSA P-256. mkcert must be on PATH.
#
#   mkcert.sh OUTDIR
#
# Writes OUTDIR/caroot/rootCA.pem, OUTDIR/caroot/rootCA-key.pem,
# OUTDIR/server-cert.pem, OUTDIR/server-key.pem, OUTDIR/cert.pem,
# OUTDIR/key.pem.
set -euo pipefail

out=${1:?usage: mkcert.sh OUTDIR}
export CAROOT=$out/caroot

mkcert -ecdsa -cert-file "$out/server-cert.pem" -key-file "$out/server-key.pem" \
	docker.example.com localhost 10.0.0.5 127.0.0.1
mkcert -ecdsa -client -cert-file "$out/cert.pem" -key-file "$out/key.pem" client

#!/usr/bin/env bash
# cfssl's way to the standard job of scripts/bench/run.sh: a CA, a server
# certificate for 4 SANs and a client certificate, all ECDSA P-256, with the
# CSR and signing config files in scripts/bench/jobs/cfssl/. cfssl and
# cfssljson must be on PATH.
#
#   cfssl.sh OUTDIR
#
# Writes OUTDIR/ca.pem, OUTDIR/ca-key.pem, OUTDIR/server.pem,
# OUTDIR/server-key.pem, OUTDIR/client.pem, OUTDIR/client-key.pem (and the
# CSRs cfssljson keeps).
set -euo pipefail

out=${1:?usage: cfssl.sh OUTDIR}
conf=$(dirname "${BASH_SOURCE[0]}")/cfssl

cfssl gencert -initca "$conf/ca-csr.json" | cfssljson -bare "$out/ca"
cfssl gencert -ca "$out/ca.pem" -ca-key "$out/ca-key.pem" -config "$conf/config.json" \
	-profile server "$conf/server-csr.json" | cfssljson -bare "$out/server"
cfssl gencert -ca "$out/ca.pem" -ca-key "$out/ca-key.pem" -config "$conf/config.json" \
	-profile client "$conf/client-csr.json" | cfssljson -bare "$out/client"

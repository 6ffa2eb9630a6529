// Command fakedockerd is the daemon endpoint of the doctor benchmark
// (scripts/bench/run.sh): one loopback TLS port with dockerd's server
// profile (client certificates required and verified) answering /_ping and
// /v1.X/version as Docker Engine 27.5 does, enough for `docker version`.
//
//	fakedockerd -certs DIR -targets FILE
//
// DIR holds ca.pem, server-cert.pem and server-key.pem (docker-tls init
// --out DIR); FILE receives tcp://127.0.0.1:PORT once the port is up.
package main

import "github.com/docker-tls/docker-tls/scripts/bench/internal/fakedaemon"

func main() { fakedaemon.Main("fakedockerd", 1) }

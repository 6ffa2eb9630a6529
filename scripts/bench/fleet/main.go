// Command fleet is the fleet of the doctor benchmark (scripts/bench/run.sh):
// one process listening on -n loopback ports (default 1,000), each with
// fakedockerd's TLS server configuration and handler.
//
//	fleet -certs DIR -targets FILE [-n 1000]
//
// FILE receives tcp://127.0.0.1:PORT for every port, one a line, once all
// are up: it is a --targets-file for docker-tls doctor and scripts/bench/rawhs.
package main

import "github.com/docker-tls/docker-tls/scripts/bench/internal/fakedaemon"

func main() { fakedaemon.Main("fleet", 1000) }

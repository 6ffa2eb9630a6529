package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// helpWidth is the width help texts are wrapped to, as docker's own.
const helpWidth = 80

// wrapText wraps each paragraph of s at width columns, on spaces.
func wrapText(s string, width int) string {
	paras := strings.Split(s, "\n\n")
	for i, p := range paras {
		var lines []string
		line := ""
		for _, w := range strings.Fields(p) {
			if line != "" && len(line)+1+len(w) > width {
				lines = append(lines, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		paras[i] = strings.Join(append(lines, line), "\n")
	}
	return strings.Join(paras, "\n\n")
}

// examples are the help examples, by command path below "tls".
var examples = map[string]string{
	"init": `  docker tls init --san docker.example.com,10.0.0.5
  docker tls init --san docker.example.com --out ./pki --key rsa-4096`,
	"ca create": `  docker tls ca create
  docker tls ca create --out ./pki --name "Example Docker CA"`,
	"issue server": `  docker tls issue server --san docker.example.com,10.0.0.5
  docker tls issue server --san docker.example.com --ca-cert corp.pem --ca-key corp-key.pem --force`,
	"issue client": `  docker tls issue client
  docker tls issue client --name bob --days 90`,
	"install client": `  docker tls install client --context prod --host tcp://docker.example.com:2376
  docker tls install client --cert-path ./certs --ca ca.pem --no-client-cert
  docker tls install client --skip-verify --no-client-cert`,
	"install daemon": `  sudo docker tls install daemon --dry-run
  sudo docker tls install daemon --client-ca ca.pem --write-dropin
  sudo docker tls install daemon -H tcp://0.0.0.0:2376 --no-client-verify`,
	"install-registry": `  sudo docker tls install-registry myreg:5000 --ca registry-ca.pem
  sudo docker tls install-registry myreg:5000 --fetch-ca --fingerprint SHA256:AB:CD:…
  sudo docker tls install-registry myreg --issue-client --target docker,containerd --dry-run`,
	"inspect": `  docker tls inspect ~/.docker/ca.pem ~/.docker/cert.pem ~/.docker/key.pem
  docker tls inspect --format json /etc/docker/server-cert.pem`,
	"doctor": `  docker tls doctor
  docker tls doctor docker.example.com:2376
  docker tls doctor --registry myreg:5000 --format json
  docker tls doctor --explain certsd-ca-named-cert`,
	"explain": `  docker tls explain "x509: certificate signed by unknown authority"
  docker tls explain remote error: tls: bad certificate
  journalctl -u docker | docker tls explain -`,
	"hooks enable": `  docker tls hooks enable
  docker pull myreg:5000/app    # on a TLS error, docker prints the doctor command`,
	"hooks disable": `  docker tls hooks disable`,
}

// addExamples sets each command's example from examples.
func addExamples(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), root.CommandPath()), " ")
		if ex, ok := examples[path]; ok && c.Example == "" {
			c.Example = ex
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

package registry

import (
	"crypto/x509"
	"path/filepath"
	"time"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
)

// ReuseMinDays is how long an installed client certificate must still be
// valid for --issue-client to keep it instead of issuing a new one.
const ReuseMinDays = 30

// FindClientPair looks for an installed client.cert/client.key in dirs
// that --issue-client can keep, so that running the command again changes
// nothing: a pair that belongs together, allows clientAuth, was signed by
// ca and is valid for at least ReuseMinDays more days. It returns the first
// one found and the directory it is in.
func FindClientPair(dirs []string, ca *x509.Certificate, now time.Time) (certPEM, keyPEM []byte, dir string, ok bool) {
	for _, d := range dirs {
		c, err := fsutil.ReadFile(filepath.Join(d, layout.RegistryCertFile))
		if err != nil {
			continue
		}
		k, err := fsutil.ReadFile(filepath.Join(d, layout.RegistryKeyFile))
		if err != nil {
			continue
		}
		pair, _, err := CheckClientPair(layout.RegistryCertFile, c, layout.RegistryKeyFile, k, now)
		if err != nil {
			continue
		}
		if pair.Cert.CheckSignatureFrom(ca) != nil || pki.DaysLeft(pair.Cert, now) < ReuseMinDays || now.Before(pair.Cert.NotBefore) {
			continue
		}
		return pair.CertPEM, pair.KeyPEM, d, true
	}
	return nil, nil, "", false
}

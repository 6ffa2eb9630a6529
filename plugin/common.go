package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker/cli/cli/config"
	"github.com/spf13/pflag"
)

// configDir is the docker client config dir (honours --config and DOCKER_CONFIG).
func configDir() string { return config.Dir() }

// ownDir is where docker-tls keeps its CA and issued files by default.
func ownDir() string { return layout.OwnDir(configDir()) }

// issueFlags are the flags shared by everything that issues a certificate.
type issueFlags struct {
	keyType string
	days    int
}

func (f *issueFlags) add(fs *pflag.FlagSet, defDays int) {
	names := make([]string, len(pki.KeyTypes))
	for i, k := range pki.KeyTypes {
		names[i] = string(k)
	}
	fs.StringVar(&f.keyType, "key", string(pki.DefaultKeyType), "Key type: "+strings.Join(names, ", "))
	fs.IntVar(&f.days, "days", defDays, "Validity in days")
}

func (f *issueFlags) parse() (pki.KeyType, error) {
	kt, err := pki.ParseKeyType(f.keyType)
	if err != nil {
		return "", inputError("--key: %v", err)
	}
	if f.days <= 0 {
		return "", inputError("--days: invalid validity %d: expected a positive number of days", f.days)
	}
	return kt, nil
}

// caFlags select the signing CA: the docker-tls default CA or a
// bring-your-own pair (--ca-cert/--ca-key, as docker-machine's
// --tls-ca-cert/--tls-ca-key).
type caFlags struct {
	cert string
	key  string
	// dir holds the default CA (ca.pem, ca-key.pem) when neither flag is
	// given; "" is the docker-tls directory.
	dir string
}

func (f *caFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.cert, "ca-cert", "", "CA certificate to sign with (default: the docker-tls CA in "+filepath.Join("$DOCKER_CONFIG", layout.OwnTLSDirName)+")")
	fs.StringVar(&f.key, "ca-key", "", "CA private key to sign with (goes with --ca-cert)")
}

func (f *caFlags) load() (*pki.CA, string, string, error) {
	certPath, keyPath := f.cert, f.key
	switch {
	case certPath == "" && keyPath == "":
		dir := f.dir
		if dir == "" {
			dir = ownDir()
		}
		certPath = filepath.Join(dir, layout.DaemonCAFile)
		keyPath = filepath.Join(dir, layout.CAKeyFile)
		if _, err := os.Stat(certPath); errors.Is(err, fs.ErrNotExist) {
			return nil, "", "", inputError("no CA found at %s: create one with 'docker tls ca create', or pass your own with --ca-cert and --ca-key", certPath)
		}
	case certPath == "":
		return nil, "", "", inputError("--ca-key %s was given without --ca-cert: pass both, or neither to use the docker-tls CA", keyPath)
	case keyPath == "":
		return nil, "", "", inputError("--ca-cert %s was given without --ca-key: pass both, or neither to use the docker-tls CA", certPath)
	}
	certPEM, err := readInput(certPath, "CA certificate")
	if err != nil {
		return nil, "", "", err
	}
	keyPEM, err := readInput(keyPath, "CA private key")
	if err != nil {
		return nil, "", "", err
	}
	ca, err := pki.LoadCA(certPath, certPEM, keyPath, keyPEM)
	if err != nil {
		return nil, "", "", asInputError(err)
	}
	return ca, certPath, keyPath, nil
}

// readInput reads a file the user named, with an error that says which
// file, what it was for and what went wrong.
func readInput(path, what string) ([]byte, error) {
	data, err := fsutil.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, inputError("%s: no such file (expected the %s)", path, what)
	case errors.Is(err, fs.ErrPermission):
		return nil, inputError("%s: permission denied reading the %s", path, what)
	case err != nil:
		return nil, inputError("%s: cannot read the %s: %v", path, what, err)
	}
	return data, nil
}

func readCert(path, what string) ([]byte, error) {
	data, err := readInput(path, what)
	if err != nil {
		return nil, err
	}
	if _, err := pki.ParseCertificates(path, data); err != nil {
		return nil, asInputError(err)
	}
	return data, nil
}

// issuedFiles turns an issued pair into plan entries.
func addIssued(p *fsutil.Plan, iss *pki.Issued, certPath, keyPath, what string) error {
	keyPEM, err := iss.KeyPEM()
	if err != nil {
		return err
	}
	p.Add(certPath, iss.CertPEM(), 0o644, what+" certificate")
	p.Add(keyPath, keyPEM, 0o600, what+" private key")
	return nil
}

// applyPlan writes the plan and reports each file like mkcert does: what
// happened, where.
func applyPlan(w io.Writer, p *fsutil.Plan, force bool) error {
	res, err := p.Apply(force)
	for i, r := range res {
		switch r.Outcome {
		case fsutil.Created:
			fmt.Fprintf(w, "  created   %s  (%s)\n", r.Path, p.Files[i].What)
		case fsutil.Unchanged:
			fmt.Fprintf(w, "  unchanged %s  (%s, already up to date)\n", r.Path, p.Files[i].What)
		case fsutil.Replaced:
			fmt.Fprintf(w, "  replaced  %s  (%s; old file kept as %s)\n", r.Path, p.Files[i].What, r.Backup)
		}
	}
	if err != nil {
		if errors.Is(err, fsutil.ErrExists) {
			return asInputError(err)
		}
		return err
	}
	return nil
}

// printDryRun lists what applying a plan would do, writing nothing.
func printDryRun(w io.Writer, steps []fsutil.Step) {
	fmt.Fprintf(w, "Dry run: nothing is written.\n")
	for _, s := range steps {
		fmt.Fprintf(w, "  %-9s %s  (%s, mode %04o)", s.Action, s.Path, s.What, s.Mode)
		if s.Reason != "" {
			fmt.Fprintf(w, ": %s", s.Reason)
		}
		fmt.Fprintln(w)
	}
}

// describeCert is one line about a certificate for command output.
func describeCert(c *x509.Certificate) string {
	parts := []string{}
	if c.Subject.CommonName != "" {
		parts = append(parts, "CN="+c.Subject.CommonName)
	}
	names := append(append([]string{}, c.DNSNames...), pki.IPStrings(c.IPAddresses)...)
	if len(names) > 0 {
		parts = append(parts, "SANs "+strings.Join(names, ", "))
	}
	parts = append(parts, pki.DescribeKey(c.PublicKey))
	parts = append(parts, "valid until "+c.NotAfter.UTC().Format(time.DateOnly))
	return strings.Join(parts, ", ")
}

// checkOutDir refuses a destination directory that is, or lies below, an
// existing file, before anything is issued or printed: "--out FILE: is a
// regular file, expected a directory".
func checkOutDir(flag, dir string) error {
	if dir == "" {
		return nil
	}
	for p := filepath.Clean(dir); ; {
		fi, err := os.Stat(p)
		if err == nil {
			if fi.IsDir() {
				return nil
			}
			if p == filepath.Clean(dir) {
				return inputError("%s %s: is a %s, expected a directory", flag, dir, fsutil.DescribeMode(fi.Mode()))
			}
			return inputError("%s %s: %s is a %s, expected a directory", flag, dir, p, fsutil.DescribeMode(fi.Mode()))
		}
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		p = parent
	}
}

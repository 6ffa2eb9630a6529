package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

type inspectOptions struct {
	format string
}

func inspectCmd(dockerCli command.Cli) *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] FILE [FILE...]",
		Short: "Show what certificate and key files contain",
		Long: `Show each certificate's subject, SANs, issuer, validity, key usages, CA
flag, key type, SHA-256 fingerprint and SPKI pin, and for each private key,
which of the given certificates it belongs to. Private key material is never
printed.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.Context(), dockerCli, &o, args)
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "text", "Output format: text or json")
	return cmd
}

type certInfo struct {
	File         string    `json:"file"`
	Index        int       `json:"index"`
	Subject      string    `json:"subject"`
	Issuer       string    `json:"issuer"`
	SelfSigned   bool      `json:"selfSigned"`
	DNSNames     []string  `json:"dnsNames"`
	IPAddresses  []string  `json:"ipAddresses"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	DaysLeft     int       `json:"daysLeft"`
	KeyUsage     []string  `json:"keyUsage"`
	ExtKeyUsage  []string  `json:"extKeyUsage"`
	IsCA         bool      `json:"isCA"`
	MaxPathLen   *int      `json:"maxPathLen,omitempty"`
	KeyType      string    `json:"keyType"`
	KeyBits      int       `json:"keyBits"`
	SignatureAlg string    `json:"signatureAlgorithm"`
	Serial       string    `json:"serial"`
	Fingerprint  string    `json:"sha256Fingerprint"`
	SPKIPin      string    `json:"spkiPin"`
}

type keyInfo struct {
	File    string   `json:"file"`
	KeyType string   `json:"keyType"`
	KeyBits int      `json:"keyBits"`
	Matches []string `json:"matches"`
}

type fileInfo struct {
	File         string     `json:"file"`
	Encoding     string     `json:"encoding,omitempty"`
	Contents     string     `json:"contents"`
	Certificates []certInfo `json:"certificates,omitempty"`
	Keys         []keyInfo  `json:"keys,omitempty"`
	Problems     []string   `json:"problems,omitempty"`
	Error        string     `json:"error,omitempty"`
}

func runInspect(_ context.Context, dockerCli command.Cli, o *inspectOptions, files []string) error {
	if o.format != "text" && o.format != "json" {
		return inputError("--format %q: expected text or json", o.format)
	}
	now := time.Now()
	infos := make([]fileInfo, 0, len(files))
	mats := make([]*pki.Material, len(files))
	failed := false
	for i, f := range files {
		fi := fileInfo{File: f}
		data, err := readInput(f, "certificate or key file")
		if err != nil {
			fi.Error = err.Error()
			failed = true
			infos = append(infos, fi)
			continue
		}
		m := pki.Sniff(data)
		mats[i] = m
		fi.Encoding = string(m.Encoding)
		fi.Contents = strings.TrimPrefix(m.Describe(), "found ")
		fi.Problems = m.BadBlocks
		if msg := unusableFile(data, m); msg != "" {
			fi.Error = f + ": " + msg
			failed = true
		}
		for j, c := range m.Certs {
			fi.Certificates = append(fi.Certificates, describeCertInfo(f, j, c, now))
		}
		infos = append(infos, fi)
	}
	for i, m := range mats {
		if m == nil {
			continue
		}
		for _, k := range m.Keys {
			ki := keyInfo{File: files[i], KeyType: pki.DescribeKey(k.Public()), KeyBits: pki.KeyBits(k.Public()), Matches: []string{}}
			for j, other := range mats {
				if other == nil {
					continue
				}
				for n, c := range other.Certs {
					if pki.KeyMatches(k, c.PublicKey) {
						ki.Matches = append(ki.Matches, certRef(files[j], n, len(other.Certs)))
					}
				}
			}
			infos[i].Keys = append(infos[i].Keys, ki)
		}
	}
	w := dockerCli.Out()
	if o.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(infos); err != nil {
			return err
		}
	} else {
		n := 0
		for _, fi := range infos {
			if fi.Error != "" && len(fi.Certificates)+len(fi.Keys) == 0 {
				continue // said on stderr
			}
			if n > 0 {
				fmt.Fprintln(w)
			}
			n++
			printFileInfo(w, fi)
		}
	}
	if failed {
		// Like `docker inspect`: what could be read on stdout, each bad
		// file on stderr, exit 2.
		var msgs []string
		for _, fi := range infos {
			if fi.Error != "" {
				msgs = append(msgs, fi.Error)
			}
		}
		return inputError("%s", strings.Join(msgs, "\n"))
	}
	return nil
}

// unusableFile says why a file holds nothing inspect can show, or ""
// when it holds certificates, keys or another recognised object.
func unusableFile(data []byte, m *pki.Material) string {
	const want = "expected certificates or private keys (PEM, DER, PKCS#7 or PKCS#12)"
	switch {
	case len(m.BadBlocks) > 0:
		return strings.Join(m.BadBlocks, "; ")
	case m.Primary() == pki.KindEmpty:
		return "found an empty file, " + want
	case m.Encoding != pki.EncPEM && bytes.Contains(data, []byte("-----BEGIN ")):
		return "found a PEM header whose block does not decode (broken base64, or a missing or mismatched -----END line), " + want
	case m.Primary() == pki.KindUnknown:
		return m.Describe() + ", " + want
	}
	return ""
}

func certRef(file string, idx, total int) string {
	if total == 1 {
		return file
	}
	return fmt.Sprintf("%s (certificate %d)", file, idx+1)
}

func describeCertInfo(file string, idx int, c *x509.Certificate, now time.Time) certInfo {
	ci := certInfo{
		File: file, Index: idx,
		Subject: c.Subject.String(), Issuer: c.Issuer.String(),
		SelfSigned: pki.IsSelfSigned(c),
		DNSNames:   c.DNSNames, IPAddresses: pki.IPStrings(c.IPAddresses),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
		DaysLeft: pki.DaysLeft(c, now),
		KeyUsage: pki.KeyUsageNames(c.KeyUsage), ExtKeyUsage: pki.ExtKeyUsageNames(c),
		IsCA:         c.IsCA,
		KeyType:      pki.DescribeKey(c.PublicKey),
		KeyBits:      pki.KeyBits(c.PublicKey),
		SignatureAlg: c.SignatureAlgorithm.String(),
		Serial:       fmt.Sprintf("%X", c.SerialNumber),
		Fingerprint:  pki.Fingerprint(c),
		SPKIPin:      pki.SPKIPin(c),
	}
	if ci.DNSNames == nil {
		ci.DNSNames = []string{}
	}
	if c.IsCA && (c.MaxPathLen > 0 || c.MaxPathLenZero) {
		n := c.MaxPathLen
		ci.MaxPathLen = &n
	}
	return ci
}

func printFileInfo(w io.Writer, fi fileInfo) {
	if fi.Error != "" {
		fmt.Fprintf(w, "%s: error: %s\n", fi.File, fi.Error)
		return
	}
	enc := ""
	if fi.Encoding != "" {
		enc = " (" + fi.Encoding + ")"
	}
	fmt.Fprintf(w, "%s: %s%s\n", fi.File, fi.Contents, enc)
	for _, p := range fi.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	for _, c := range fi.Certificates {
		if len(fi.Certificates) > 1 {
			fmt.Fprintf(w, "  certificate %d:\n", c.Index+1)
		}
		row := func(k, v string) { fmt.Fprintf(w, "  %-14s %s\n", k+":", v) }
		row("Subject", c.Subject)
		sans := append(prefixAll("DNS:", c.DNSNames), prefixAll("IP:", c.IPAddresses)...)
		if len(sans) == 0 {
			row("SANs", "none")
		} else {
			row("SANs", strings.Join(sans, ", "))
		}
		issuer := c.Issuer
		if c.SelfSigned {
			issuer += " (self-signed)"
		}
		row("Issuer", issuer)
		left := fmt.Sprintf("%d days left", c.DaysLeft)
		if c.DaysLeft < 0 {
			left = fmt.Sprintf("EXPIRED %d days ago", -c.DaysLeft)
		}
		row("Validity", fmt.Sprintf("%s to %s (%s)", c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339), left))
		row("Key usage", orNone(c.KeyUsage))
		row("Ext key usage", orNone(c.ExtKeyUsage))
		ca := "no"
		if c.IsCA {
			ca = "yes"
			if c.MaxPathLen != nil {
				ca += fmt.Sprintf(", path length %d", *c.MaxPathLen)
			}
		}
		row("CA", ca)
		row("Public key", c.KeyType)
		row("Signature", c.SignatureAlg)
		row("Serial", c.Serial)
		row("Fingerprint", c.Fingerprint)
		row("SPKI pin", c.SPKIPin)
	}
	for _, k := range fi.Keys {
		fmt.Fprintf(w, "  %-14s %s\n", "Private key:", k.KeyType)
		if len(k.Matches) == 0 {
			fmt.Fprintf(w, "  %-14s none of the given certificates\n", "Belongs to:")
		} else {
			fmt.Fprintf(w, "  %-14s %s\n", "Belongs to:", strings.Join(k.Matches, ", "))
		}
	}
}

func prefixAll(p string, v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = p + s
	}
	return out
}

func orNone(v []string) string {
	if len(v) == 0 {
		return "none"
	}
	return strings.Join(v, ", ")
}

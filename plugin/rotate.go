package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/doctor"
	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

type rotateOptions struct {
	ifExpiring string
	ca         bool
	dir        string
	dryRun     bool
	days       int
	daemonJSON string
	restartCmd string
	wait       time.Duration
}

// Files of the next CA while a CA rotation is under way (a failed rotation
// resumes with the same new CA).
const (
	nextCAFile    = "ca-next.pem"
	nextCAKeyFile = "ca-next-key.pem"
)

func rotateCmd(dockerCli command.Cli) *cobra.Command {
	var o rotateOptions
	cmd := &cobra.Command{
		Use:   "rotate [OPTIONS] [CONTEXT...]",
		Short: "Re-issue the certificates of provisioned daemons (or local files), or rotate the CA",
		Long: `Re-issue the certificates of the daemons set up with 'docker tls provision'
(all of them, or the contexts named): the server certificate keeps its names
and key type (and gains addresses the host has gained since), the client
certificate of the context keeps its subject. Each daemon's plan is printed
before it is changed; a daemon that does not come back is rolled back.

--if-expiring 30d re-issues only certificates that expire within 30 days
(for cron and CI: nothing happens otherwise).

--ca replaces the docker-tls CA without a moment in which a client and its
daemon disagree, in three steps, each printing its plan first:
  1. trust both: every daemon's tlscacert and every context's ca.pem hold
     the old and the new CA
  2. move: every server and client certificate is re-issued by the new CA
  3. retire: the old CA is dropped from every bundle, and the new one
     becomes $DOCKER_CONFIG/tls/ca.pem (the old one is kept as a backup)

--dir DIR re-issues the certificates in a local directory instead
(server-cert.pem, cert.pem and NAME-cert.pem with their keys, as 'docker
tls issue' writes them); the old files are kept as backups.

--ca --dir DIR (or --ca alone when no daemon was provisioned, for the
docker-tls CA) rotates the CA of DIR for this machine in the same three
steps: the local dockerd set up with 'docker tls install daemon' (the
tlscacert, tlscert and tlskey of --daemon-json, restarted with
--restart-cmd after each step that changes them), DIR's certificates,
~/.docker, $DOCKER_CERT_PATH and the docker contexts that use the CA; docker
must work with every such context after every step. A failed step is
resumed by running the same command again.`,
		Example: `  docker tls rotate
  docker tls rotate prod --dry-run
  docker tls rotate --if-expiring 30d        # from cron or CI
  docker tls rotate --ca
  docker tls rotate --dir ~/.docker/tls
  sudo env DOCKER_CONFIG=$HOME/.docker docker tls rotate --ca --dir ~/.docker/tls --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRotate(cmd.Context(), dockerCli, &o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ifExpiring, "if-expiring", "", "Only re-issue certificates expiring within this `period` (30d, 720h)")
	f.BoolVar(&o.ca, "ca", false, "Rotate the docker-tls CA (trust both, move every certificate, retire the old CA)")
	f.StringVar(&o.dir, "dir", "", "Re-issue the certificates in this local directory instead of provisioned daemons")
	f.BoolVar(&o.dryRun, "dry-run", false, "Print the plan, change nothing")
	f.IntVar(&o.days, "days", pki.DefaultLeafDays, "Validity of re-issued certificates in days")
	f.StringVar(&o.daemonJSON, "daemon-json", "", "With --ca and local material: daemon.json of the local dockerd (default /etc/docker/daemon.json)")
	f.StringVar(&o.restartCmd, "restart-cmd", "", "With --ca and local material: command that restarts the local dockerd (default: systemctl restart docker)")
	f.DurationVar(&o.wait, "wait", 60*time.Second, "With --ca and local material: how long to wait for dockerd after a restart")
	return cmd
}

func runRotate(ctx context.Context, dockerCli command.Cli, o *rotateOptions, args []string) error {
	w := dockerCli.Out()
	var within time.Duration
	if o.ifExpiring != "" {
		d, err := doctor.ParseExpiryWarn(o.ifExpiring)
		if err != nil {
			return inputError("--if-expiring: %v", err)
		}
		within = d
	}
	if o.days <= 0 {
		return inputError("--days: invalid validity %d: expected a positive number of days", o.days)
	}
	if o.dir != "" {
		if len(args) > 0 {
			return inputError("--dir rotates local files: it goes without context names")
		}
		if o.ca {
			if o.ifExpiring != "" {
				return inputError("--ca rotates every certificate: it goes without --if-expiring")
			}
			return rotateLocalCA(ctx, dockerCli, o)
		}
		return rotateDir(w, o, within)
	}
	recs, err := loadProvisionRecords()
	if err != nil {
		return err
	}
	if len(args) > 0 {
		var sel []provisionRecord
		for _, a := range args {
			i := slices.IndexFunc(recs, func(r provisionRecord) bool { return r.Context == a })
			if i < 0 {
				return inputError("docker context %q was not set up with 'docker tls provision' (no record in %s)", a, filepath.Dir(provisionRecordPath(a)))
			}
			sel = append(sel, recs[i])
		}
		recs = sel
	} else {
		// A context removed since (docker context rm) is not brought back
		// by a rotation of everything; naming it does.
		var live []provisionRecord
		for _, r := range recs {
			if _, err := dockerCli.ContextStore().GetMetadata(r.Context); err != nil && errdefsNotFound(err) {
				fmt.Fprintf(w, "Skipping docker context %q (%s): it was removed; 'docker tls rotate %s' sets it up again, 'rm %s' forgets it\n", r.Context, r.URL, r.Context, r.file)
				continue
			}
			live = append(live, r)
		}
		if len(live) == 0 && len(recs) > 0 {
			return nil
		}
		recs = live
	}
	if len(recs) == 0 && o.ca && len(args) == 0 && o.ifExpiring == "" {
		// No provisioned daemon: the docker-tls CA of this machine.
		return rotateLocalCA(ctx, dockerCli, o)
	}
	if len(recs) == 0 {
		return inputError("no provisioned daemon to rotate: set one up with 'docker tls provision ssh://HOST', or rotate local files with --dir")
	}
	if o.ca {
		if o.ifExpiring != "" {
			return inputError("--ca rotates every certificate: it goes without --if-expiring")
		}
		return rotateCA(ctx, dockerCli, o, recs)
	}
	var failed []string
	for _, rec := range recs {
		ca, label, err := recordCA(rec)
		if err != nil {
			return err
		}
		if within > 0 && time.Until(ca.Cert.NotAfter) < within {
			fmt.Fprintf(dockerCli.Err(), "Warning: the CA %s (%q) itself expires on %s, within %s: certificates it issues end with it; rotate it with 'docker tls rotate --ca'\n",
				label, ca.Cert.Subject.CommonName, ca.Cert.NotAfter.UTC().Format(time.DateOnly), o.ifExpiring)
		}
		job := &provisionJob{rec: rec, ca: ca, caLabel: label, trust: pki.EncodeCert(ca.Cert), days: o.days, dryRun: o.dryRun, wait: recordWait(rec)}
		if within > 0 {
			job.within = within
		} else {
			job.within, job.forceServer, job.forceClient = renewWithin, true, true
		}
		fmt.Fprintf(w, "\n== %s (docker context %q)\n", rec.URL, rec.Context)
		if err := job.run(ctx, dockerCli); err != nil {
			fmt.Fprintf(dockerCli.Err(), "%s: %v\n", rec.Context, err)
			failed = append(failed, rec.Context)
		}
	}
	if len(failed) > 0 {
		return notDone(fmt.Errorf("rotation failed for %s (the others were rotated)", strings.Join(failed, ", ")))
	}
	return nil
}

func recordWait(rec provisionRecord) time.Duration {
	if d, err := time.ParseDuration(rec.Wait); err == nil && d > 0 {
		return d
	}
	return 60 * time.Second
}

// recordCA loads the CA a daemon was provisioned with.
func recordCA(rec provisionRecord) (*pki.CA, string, error) {
	f := caFlags{cert: rec.CACert, key: rec.CAKey}
	ca, label, _, err := f.load()
	return ca, label, err
}

// rotateCA runs the three steps of a CA rotation over every daemon.
func rotateCA(ctx context.Context, dockerCli command.Cli, o *rotateOptions, recs []provisionRecord) error {
	w := dockerCli.Out()
	for _, r := range recs {
		if r.ClientCert != "" {
			return inputError("docker context %q uses the client certificate %s given to provision: --ca cannot re-issue it; re-run provision without --client-cert first, or rotate your own CA", r.Context, r.ClientCert)
		}
		if r.CACert != "" {
			return inputError("docker context %q was provisioned with --ca-cert %s: --ca rotates only the docker-tls CA; rotate your own CA, then re-run provision with the new --ca-cert/--ca-key", r.Context, r.CACert)
		}
	}
	oldCA, oldPath, err := recordCA(provisionRecord{})
	if err != nil {
		return err
	}
	nextCert, nextKey := filepath.Join(ownDir(), nextCAFile), filepath.Join(ownDir(), nextCAKeyFile)
	newCA, resumed, err := loadOrPlanNextCA(oldCA, nextCert, nextKey, o.dryRun)
	if err != nil {
		return err
	}
	names := make([]string, len(recs))
	for i, r := range recs {
		names[i] = fmt.Sprintf("%s (%s)", r.Context, r.URL)
	}
	fmt.Fprintf(w, "CA rotation for %s\n", strings.Join(names, ", "))
	fmt.Fprintf(w, "  old CA: %s (%s)\n", describeCert(oldCA.Cert), oldPath)
	if newCA != nil {
		verb := "new"
		if resumed {
			verb = "new (resuming with " + nextCert + ")"
		}
		fmt.Fprintf(w, "  %s CA: %s\n", verb, describeCert(newCA.Cert))
	} else {
		fmt.Fprintf(w, "  new CA: a %s CA, to be written to %s\n", keyTypeOf(oldCA.Cert.PublicKey), nextCert)
	}
	fmt.Fprintf(w, "Steps:\n  1/3 trust both: every daemon's tlscacert and every context's ca.pem hold the old and the new CA\n"+
		"  2/3 move: re-issue every server and client certificate with the new CA\n"+
		"  3/3 retire: drop the old CA from every bundle; the new CA becomes %s (the old one is kept as a backup)\n",
		filepath.Join(ownDir(), layout.DaemonCAFile))
	if o.dryRun {
		trust := pki.EncodeCert(oldCA.Cert)
		if newCA != nil {
			trust = append(trust, pki.EncodeCert(newCA.Cert)...)
		} else if tmp, err := pki.NewCA(pki.Request{KeyType: keyTypeOf(oldCA.Cert.PublicKey), Days: pki.DefaultCADays}); err == nil {
			// A stand-in for the new CA (not kept), so that the plan shows
			// the bundles that step 1 writes.
			trust = append(trust, tmp.CertPEM()...)
		}
		fmt.Fprintf(w, "Dry run: nothing was changed. Plan of step 1/3 for each daemon:\n")
		for _, rec := range recs {
			fmt.Fprintf(w, "\n== %s (docker context %q)\n", rec.URL, rec.Context)
			job := &provisionJob{rec: rec, ca: oldCA, caLabel: oldPath, trust: trust, days: o.days, dryRun: true, within: renewWithin, wait: recordWait(rec), quiet: true}
			if err := job.run(ctx, dockerCli); err != nil {
				return err
			}
		}
		return nil
	}
	release, err := lockRecords(ctx, recs)
	if err != nil {
		return err
	}
	defer release()
	both := append(pki.EncodeCert(oldCA.Cert), pki.EncodeCert(newCA.Cert)...)
	step := func(n int, title string, mk func(rec provisionRecord) *provisionJob) error {
		fmt.Fprintf(w, "\n== Step %d/3: %s\n", n, title)
		for _, rec := range recs {
			fmt.Fprintf(w, "\n-- %s (docker context %q)\n", rec.URL, rec.Context)
			job := mk(rec)
			job.quiet = n < 3
			job.locked = true
			if err := job.run(ctx, dockerCli); err != nil {
				//lint:ignore ST1005 a message for the user, printed as the command's last lines (wording is tested)
				return fmt.Errorf("step %d/3 (%s) failed for %s: %w\nThe CA rotation stopped here; every daemon still trusts the CAs of the previous step. Fix the problem and run 'docker tls rotate --ca' again: it resumes with the same new CA (%s).", n, title, rec.Context, err, nextCert)
			}
		}
		return nil
	}
	if err := step(1, "trust the old and the new CA", func(rec provisionRecord) *provisionJob {
		return &provisionJob{rec: rec, ca: oldCA, caLabel: oldPath, trust: both, days: o.days, within: renewWithin, wait: recordWait(rec)}
	}); err != nil {
		return err
	}
	if err := step(2, "move every certificate to the new CA", func(rec provisionRecord) *provisionJob {
		return &provisionJob{rec: rec, ca: newCA, caLabel: nextCert, trust: both, days: o.days, within: renewWithin, forceServer: true, forceClient: true, wait: recordWait(rec)}
	}); err != nil {
		return err
	}
	// The new CA becomes the docker-tls CA before the old one leaves the
	// bundles, so a failure in step 3 leaves a consistent default CA.
	if err := promoteNextCA(w, newCA, nextCert, nextKey); err != nil {
		return err
	}
	return step(3, "retire the old CA", func(rec provisionRecord) *provisionJob {
		return &provisionJob{rec: rec, ca: newCA, caLabel: filepath.Join(ownDir(), layout.DaemonCAFile), trust: pki.EncodeCert(newCA.Cert), days: o.days, within: renewWithin, wait: recordWait(rec)}
	})
}

// loadOrPlanNextCA loads the CA of a rotation under way, or creates one
// (nil when dry-running and none exists).
func loadOrPlanNextCA(old *pki.CA, certPath, keyPath string, dryRun bool) (*pki.CA, bool, error) {
	if _, err := os.Stat(certPath); err == nil {
		ca, _, _, err := (&caFlags{cert: certPath, key: keyPath}).load()
		return ca, true, err
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if dryRun {
		return nil, false, nil
	}
	iss, err := pki.NewCA(pki.Request{KeyType: keyTypeOf(old.Cert.PublicKey), Days: pki.DefaultCADays})
	if err != nil {
		return nil, false, err
	}
	keyPEM, err := iss.KeyPEM()
	if err != nil {
		return nil, false, err
	}
	var plan fsutil.Plan
	plan.Add(certPath, iss.CertPEM(), 0o644, "next CA certificate")
	plan.Add(keyPath, keyPEM, 0o600, "next CA private key")
	if _, err := plan.Apply(false); err != nil {
		return nil, false, err
	}
	return &pki.CA{Cert: iss.Cert, Key: iss.Key}, false, nil
}

// promoteNextCA makes the new CA the docker-tls CA (old files kept as
// .bak-<time>) and removes the next-CA files.
func promoteNextCA(w io.Writer, ca *pki.CA, nextCert, nextKey string) error {
	keyPEM, err := pki.EncodeKey(ca.Key)
	if err != nil {
		return err
	}
	var plan fsutil.Plan
	plan.Add(filepath.Join(ownDir(), layout.DaemonCAFile), pki.EncodeCert(ca.Cert), 0o644, "CA certificate")
	plan.Add(filepath.Join(ownDir(), layout.CAKeyFile), keyPEM, 0o600, "CA private key")
	fmt.Fprintf(w, "\nThe new CA becomes the docker-tls CA:\n")
	if err := applyPlan(w, &plan, true); err != nil {
		return err
	}
	_ = os.Remove(nextCert)
	_ = os.Remove(nextKey)
	return nil
}

// rotateDir re-issues the certificates in a local directory with the
// docker-tls CA, keeping names, subject and key type.
func rotateDir(w io.Writer, o *rotateOptions, within time.Duration) error {
	ca, caPath, err := recordCA(provisionRecord{})
	if err != nil {
		return err
	}
	var plan fsutil.Plan
	found := false
	pairs := [][3]string{
		{layout.DaemonCertFile, layout.DaemonKeyFile, "daemon"},
		{layout.ClientCertFile, layout.ClientKeyFile, "client"},
	}
	// Named clients: issue client --name NAME writes NAME-cert.pem/NAME-key.pem.
	named, _ := filepath.Glob(filepath.Join(o.dir, "*-cert.pem"))
	for _, p := range named {
		base := filepath.Base(p)
		if base == layout.DaemonCertFile {
			continue
		}
		key := strings.TrimSuffix(base, "-cert.pem") + "-key.pem"
		if _, err := os.Lstat(filepath.Join(o.dir, key)); err == nil {
			pairs = append(pairs, [3]string{base, key, "client"})
		}
	}
	for _, pair := range pairs {
		certPath := filepath.Join(o.dir, pair[0])
		data, err := fsutil.ReadFile(certPath)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return inputError("%s: cannot read the %s certificate: %v", certPath, pair[2], err)
		}
		certs, err := pki.ParseCertificates(certPath, data)
		if err != nil {
			return asInputError(err)
		}
		found = true
		old := certs[0]
		if within > 0 && time.Until(old.NotAfter) >= within {
			fmt.Fprintf(w, "  keep      %s  (%s certificate, expires %s, not within %s)\n", certPath, pair[2], old.NotAfter.UTC().Format(time.DateOnly), o.ifExpiring)
			continue
		}
		iss, err := ca.Issue(reissueRequest(old, o.days))
		if err != nil {
			return asInputError(err)
		}
		if err := addIssued(&plan, iss, certPath, filepath.Join(o.dir, pair[1]), pair[2]); err != nil {
			return err
		}
		fmt.Fprintf(w, "  re-issue  %s  (%s): %s\n", certPath, pair[2], describeCert(iss.Cert))
	}
	if !found {
		return inputError("%s: no %s, %s or NAME-cert.pem to rotate", o.dir, layout.DaemonCertFile, layout.ClientCertFile)
	}
	if len(plan.Files) == 0 {
		fmt.Fprintf(w, "Nothing to rotate in %s.\n", o.dir)
		return nil
	}
	if o.dryRun {
		printDryRun(w, plan.Preview(true))
		return nil
	}
	fmt.Fprintf(w, "Signed by %s\n", caPath)
	if err := applyPlan(w, &plan, true); err != nil {
		return err
	}
	fmt.Fprintf(w, "Restart what uses these files (dockerd: sudo systemctl restart docker).\n")
	return nil
}

// reissueRequest asks for a certificate like old: same role, names,
// subject and key type.
func reissueRequest(old *x509.Certificate, days int) pki.Request {
	r := pki.Request{Role: pki.RoleClient, CommonName: old.Subject.CommonName, DNSNames: old.DNSNames, IPs: old.IPAddresses, KeyType: keyTypeOf(old.PublicKey), Days: days}
	if pki.AllowsUsage(old, x509.ExtKeyUsageServerAuth) && len(old.DNSNames)+len(old.IPAddresses) > 0 {
		r.Role = pki.RoleServer
	}
	if len(old.Subject.Organization) > 0 {
		r.Organization = old.Subject.Organization[0]
	}
	return r
}

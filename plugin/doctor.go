package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/docker-tls/docker-tls/doctor"
	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/fix"
	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/doctor/render"
	"github.com/docker-tls/docker-tls/pki/daemoncfg"
	"github.com/docker-tls/docker-tls/pki/loader"
	"github.com/docker/cli/cli"
	"github.com/docker/cli/cli/command"
	"github.com/spf13/cobra"
)

// doctorOptions are the doctor command's flags.
type doctorOptions struct {
	root        string
	expiryWarn  string
	format      string
	explain     string
	list        bool
	registry    bool
	daemon      bool
	context     string
	targetsFile string
	timeout     time.Duration
	parallel    int
	rootless    bool
	failOn      string
	expiryFail  string
	quiet       bool
	fix         bool
	dryRun      bool
	undo        bool
	journal     string
}

// progressDelay is how long a probe step runs before the progress line
// says so (a variable for tests).
var progressDelay = time.Second

// doctorEnvVars are the variables the doctor reads from the environment.
var doctorEnvVars = []string{
	"DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH",
	"DOCKER_CONFIG", "DOCKER_CONTEXT", "HOME", "XDG_CONFIG_HOME",
}

func doctorCmd(dockerCli command.Cli) *cobra.Command {
	opts := doctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor [OPTIONS] [TARGET...]",
		Short: "Diagnose the TLS setup of the Docker client, daemon and registries",
		Long: `Reads the Docker client configuration, contexts, certs.d directories and the
daemon's TLS settings, and reports what would make Docker fail, with a fix
for each finding. It never changes a file.

Targets are probed live with the docker client's TLS profile and material:
  tcp://HOST:PORT, --daemon        a daemon (HOST alone: 2375, as docker -H)
  https://HOST[:PORT], --registry  a registry, with the certs.d directory
                                   dockerd reads for exactly that host
  HOST:PORT                        a registry when a certs.d or hosts.toml
                                   directory names it, a daemon on 2375/2376,
                                   otherwise the endpoint is asked (/_ping,
                                   /v2/) and the report says why
A daemon is probed with each client setup that applies: the effective one
(environment, flags, context) and the ones the TLS material in
DOCKER_CERT_PATH or ~/.docker and the contexts for that host give, leading
with the one most likely meant.
Without a target, the daemon of the current context or DOCKER_HOST is probed
when it is a TCP endpoint (not with --root, which reads another machine's
files). Each finding from a probe carries the line the
docker client prints (dockerError), the root cause and the fix.

Formats: text (coloured on a terminal unless NO_COLOR is set), json (a
versioned schema: doctor/schema/report.schema.json), sarif (GitHub code
scanning), junit (GitLab, Jenkins).

--fix applies only fixes that cannot lose data (renaming ca.cert to ca.crt,
client.crt to client.cert, Docker's names for ignored .pem files in certs.d,
tightening key permissions), lists them first, and keeps a journal so that
--undo restores the exact old state; --fix --dry-run shows the plan.

Exit status: 0 nothing at or above --fail-on (default error), 1 findings at
or above it, 2 usage or input error, 3 the tool itself failed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDoctor(cmd.Context(), dockerCli, cmd, opts, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.root, "root", "/", "Read the machine's files under `DIR` instead of / (an image or a backup)")
	f.StringVar(&opts.expiryWarn, "expiry-warn", "30d", "Warn about certificates expiring within this `period` (30d, 720h)")
	f.StringVar(&opts.format, "format", "text", "Output format: text, json, sarif or junit")
	f.StringVar(&opts.explain, "explain", "", "Explain the check `ID` and exit")
	f.BoolVar(&opts.list, "list", false, "List the checks and exit")
	f.BoolVar(&opts.registry, "registry", false, "Treat HOST:PORT targets as registries")
	f.BoolVar(&opts.daemon, "daemon", false, "Treat HOST:PORT targets as daemons")
	f.StringVar(&opts.context, "context", "", "Diagnose with the docker context `NAME` (as docker --context NAME)")
	f.StringVar(&opts.targetsFile, "targets-file", "", "Read targets from `FILE`, one per line (# comments)")
	f.DurationVar(&opts.timeout, "timeout", 5*time.Second, "Timeout of each step of a live probe")
	f.IntVar(&opts.parallel, "parallel", 32, "Probe at most this many targets at once")
	f.StringVar(&opts.failOn, "fail-on", string(catalog.DefaultFailOn), "Exit 1 on findings at or above this severity: error, warning or info")
	f.StringVar(&opts.expiryFail, "expiry-fail", "", "Make certificates expiring within this `period` (7d, 168h) an error")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "Print only problems (text format)")
	f.BoolVar(&opts.fix, "fix", false, "Apply the safe fixes (renames, key permissions), keeping an undo journal")
	f.BoolVar(&opts.dryRun, "dry-run", false, "With --fix: show the plan, change nothing")
	f.BoolVar(&opts.undo, "undo", false, "Undo the last --fix (or the one in --journal)")
	f.StringVar(&opts.journal, "journal", "", "With --undo: the journal `FILE` to undo (default: the latest)")
	f.BoolVar(&opts.rootless, "rootless", os.Getenv("ROOTLESSKIT_STATE_DIR") != "", "Registries: read rootless dockerd's certs.d ($XDG_CONFIG_HOME/docker/certs.d)")
	return cmd
}

func runDoctor(ctx context.Context, dockerCli command.Cli, cmd *cobra.Command, opts doctorOptions, args []string) error {
	out := dockerCli.Out()
	if opts.list {
		_, err := fmt.Fprint(out, render.ListText())
		return err
	}
	if opts.explain != "" {
		text, err := render.Explain(opts.explain)
		if err != nil {
			return asInputError(err)
		}
		_, err = fmt.Fprint(out, text)
		return err
	}
	if opts.undo {
		return runUndo(dockerCli, opts)
	}
	switch opts.format {
	case "text", "json", "sarif", "junit":
	default:
		return inputError("--format %q: expected text, json, sarif or junit", opts.format)
	}
	failOn, err := catalog.ParseSeverity(opts.failOn)
	if err != nil {
		return inputError("--fail-on: %v", err)
	}
	var expiryFail time.Duration
	if opts.expiryFail != "" {
		if expiryFail, err = doctor.ParseExpiryFail(opts.expiryFail); err != nil {
			return asInputError(err)
		}
	}
	if opts.dryRun && !opts.fix {
		return inputError("--dry-run goes with --fix")
	}
	warn, err := doctor.ParseExpiryWarn(opts.expiryWarn)
	if err != nil {
		return asInputError(err)
	}
	if opts.timeout <= 0 {
		return inputError("invalid --timeout %s: expected a positive duration such as 5s", opts.timeout)
	}
	if opts.registry && opts.daemon {
		return inputError("--registry and --daemon exclude each other")
	}
	fleet, err := readTargetsFile(opts)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(opts.root)
	if err != nil {
		return inputError("cannot read --root %s: %v", opts.root, err)
	}
	defer root.Close()
	env := map[string]string{}
	for _, k := range doctorEnvVars {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	// Plugins receive docker's global flags (-H, --context, --tls*,
	// --config) as docker was given them; the client model resolves them
	// as docker does.
	flags := globalTLSFlags(cmd)
	if opts.context != "" {
		if flags.Host != "" {
			return inputError("conflicting options: cannot specify both --host and --context")
		}
		flags.Context = opts.context
	}
	cwd := "/"
	if filepath.Clean(opts.root) == "/" {
		if wd, err := os.Getwd(); err == nil {
			cwd = wd
		}
	}
	dopts := doctor.Options{
		Cwd:        cwd,
		FS:         doctor.RootFS(root),
		Root:       opts.root,
		Env:        env,
		Flags:      flags,
		Now:        time.Now(),
		ExpiryWarn: warn,
		ExpiryFail: expiryFail,
	}
	inputs := args
	if len(args) == 0 && len(fleet) == 0 {
		inputs = doctor.DefaultInputs(dopts)
	}
	if opts.root == "" || opts.root == "/" {
		dopts.LocalTargets = doctor.LocalTargets(inputs, isThisMachine)
	}
	// containerd's version (containerd --version, a process) picks the
	// hosts.toml rules: the static checks need it when there is a certs.d
	// root to judge, the intake only for registry targets; asked once.
	containerdVersion := sync.OnceValue(func() loader.ContainerdVersion {
		if opts.root == "" || opts.root == "/" {
			return installedContainerd()
		}
		return 0
	})
	// What dockerd is (/info of the daemon the CLI talks to, else
	// dockerd --version) picks its certs.d rules: the same.
	base := dopts
	dockerdFacts := sync.OnceValue(func() loader.DockerdFacts {
		if opts.root == "" || opts.root == "/" {
			return localDockerd(ctx, base)
		}
		return loader.DockerdFacts{}
	})
	onlyDaemons := opts.daemon && len(fleet) == 0
	if !opts.registry && len(fleet) == 0 {
		onlyDaemons = true
		for _, in := range inputs {
			if !strings.HasPrefix(strings.TrimSpace(in), "tcp://") {
				onlyDaemons = false
			}
		}
	}
	if !onlyDaemons {
		// A registry target needs both: ask while the static checks run.
		go containerdVersion()
		go dockerdFacts()
	}
	// The static checks run while the targets are probed: neither needs
	// the other's answers until the report is put together.
	type staticResult struct {
		rep *catalog.Report
		err error
	}
	staticDone := make(chan staticResult, 1)
	go func(o doctor.Options) {
		o.AskContainerd, o.AskDockerd = containerdVersion, dockerdFacts
		if opts.root == "" || opts.root == "/" {
			// The daemon as it runs: the dockerd serving a target on
			// this machine is read from its command line and config file.
			o.Dockerds = runningDockerds()
		}
		rep, err := doctor.Run(o)
		staticDone <- staticResult{rep, err}
	}(dopts)
	var static *staticResult
	waitStatic := func() (*catalog.Report, error) {
		if static == nil {
			r := <-staticDone
			static = &r
		}
		return static.rep, static.err
	}
	defer func() { _, _ = waitStatic() }()
	po := probe.Options{Timeout: opts.timeout}
	if opts.format == "text" && !opts.fix && dockerCli.Err().IsTerminal() {
		// A line on stderr for a probe step over a second, only for a
		// person at a terminal: never in json, sarif or junit.
		prog := doctor.NewProgress(dockerCli.Err(), progressDelay)
		defer prog.Stop()
		po.Progress = prog.Step
	}
	if !onlyDaemons {
		dopts.Containerd, dopts.Dockerd = containerdVersion(), dockerdFacts()
	}
	io := doctor.IntakeOptions{Registry: opts.registry, Daemon: opts.daemon, Rootless: opts.rootless, Identify: true, Alternatives: true, Probe: po}
	live, infos, err := doctor.Intake(ctx, dopts, inputs, io)
	if err != nil {
		return asInputError(err)
	}
	if len(fleet) > 0 {
		// A fleet: the kind from the flags and the port, one setup each.
		io.Identify, io.Alternatives = false, false
		l2, i2, err := doctor.Intake(ctx, dopts, fleet, io)
		if err != nil {
			return asInputError(err)
		}
		live, infos = append(live, l2...), append(infos, i2...)
	}
	if len(live) > 100 {
		// A fleet: fewer collections for a short-lived burst of handshakes,
		// with a soft limit that keeps the process well under 100 MB.
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(80 << 20)
	}
	var results []*probe.Result
	if len(live) > 0 {
		po.APIVersion = sync.OnceValue(func() string { return doctor.InstalledAPIVersion(ctx) })
		results = doctor.Probe(ctx, live, po, opts.parallel)
		live, results = doctor.OrderSetups(live, results, infos)
	}
	rep, err := waitStatic()
	if err != nil {
		return err
	}
	if len(live) > 0 {
		doctor.AddLive(rep, live, results)
	}
	if len(infos) > 0 {
		doctor.AddTargets(rep, infos)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if opts.fix {
		return runFix(dockerCli, rep, opts)
	}
	switch opts.format {
	case "json":
		err = render.RenderJSON(out, rep)
	case "sarif":
		err = render.RenderSARIF(out, rep)
	case "junit":
		err = render.RenderJUnit(out, rep, failOn)
	default:
		err = render.RenderTextOpts(out, rep, render.TextOptions{Color: render.ColorDefault() && dockerCli.Out().IsTerminal(), Quiet: opts.quiet})
	}
	if err != nil {
		return err
	}
	if catalog.ExitCode(rep, failOn) != 0 {
		return cli.StatusError{StatusCode: exitFindings}
	}
	return nil
}

// runFix plans the safe fixes from the report, prints them, and applies
// them unless --dry-run.
func runFix(dockerCli command.Cli, rep *catalog.Report, opts doctorOptions) error {
	w := dockerCli.Out()
	actions, err := fix.Plan(rep, "")
	if err != nil {
		return err
	}
	fmt.Fprint(w, fix.DescribePlan(actions))
	if len(actions) == 0 || opts.dryRun {
		if opts.dryRun && len(actions) > 0 {
			fmt.Fprintln(w, "Dry run: nothing was changed.")
		}
		return nil
	}
	journal, err := fix.Apply(actions, fix.DefaultJournalDir(os.Getenv))
	if err != nil {
		if journal != "" {
			return fmt.Errorf("%w (what was applied can be undone: docker tls doctor --undo --journal %s)", err, journal)
		}
		return err
	}
	fmt.Fprintf(w, "Applied. Undo with: docker tls doctor --undo --journal %s\n", journal)
	return nil
}

func runUndo(dockerCli command.Cli, opts doctorOptions) error {
	p := opts.journal
	if p == "" {
		latest, err := fix.Latest(fix.DefaultJournalDir(os.Getenv))
		if err != nil {
			return asInputError(err)
		}
		p = latest
	}
	if err := fix.Undo(p); err != nil {
		return asInputError(err)
	}
	fmt.Fprintf(dockerCli.Out(), "Restored the state before the fixes in %s\n", p)
	return nil
}

// readTargetsFile reads --targets-file lines (# comments).
func readTargetsFile(opts doctorOptions) ([]string, error) {
	if opts.targetsFile == "" {
		return nil, nil
	}
	data, err := readInput(opts.targetsFile, "targets file")
	if err != nil {
		return nil, err
	}
	var out []string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = strings.TrimSpace(line[:j])
		}
		if line == "" {
			continue
		}
		if _, err := probe.ParseTarget(line, opts.registry); err != nil {
			return nil, inputError("%s:%d: %v", opts.targetsFile, i+1, err)
		}
		out = append(out, line)
	}
	return out, nil
}

// globalTLSFlags reads docker's global TLS flags (parsed by the plugin
// framework on the root command) when they were given.
func globalTLSFlags(cmd *cobra.Command) doctor.ClientFlags {
	var f doctor.ClientFlags
	fl := cmd.Root().Flags()
	boolFlag := func(name string) *bool {
		if x := fl.Lookup(name); x != nil && x.Changed {
			v := x.Value.String() == "true"
			return &v
		}
		return nil
	}
	strFlag := func(name string) string {
		if x := fl.Lookup(name); x != nil && x.Changed {
			if abs, err := filepath.Abs(x.Value.String()); err == nil {
				return abs
			}
			return x.Value.String()
		}
		return ""
	}
	if x := fl.Lookup("host"); x != nil && x.Changed {
		// -H is a list flag ("[tcp://h:2376]"); docker accepts only one.
		f.Host = strings.Trim(x.Value.String(), "[]")
	}
	if x := fl.Lookup("context"); x != nil && x.Changed {
		f.Context = x.Value.String()
	}
	f.Config = strFlag("config")
	f.TLS = boolFlag("tls")
	f.TLSVerify = boolFlag("tlsverify")
	f.TLSCACert = strFlag("tlscacert")
	f.TLSCert = strFlag("tlscert")
	f.TLSKey = strFlag("tlskey")
	return f
}

// installedContainerd asks the installed containerd (or ctr) for its
// version, which picks containerd's hosts.toml rules; 0 (both versions'
// answers reported) when neither runs.
func installedContainerd() loader.ContainerdVersion {
	for _, bin := range []string{"containerd", "ctr"} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		out, err := exec.CommandContext(ctx, bin, "--version").Output()
		cancel()
		if err != nil {
			continue
		}
		if v := loader.ParseContainerdVersion(string(out)); v != 0 {
			return v
		}
	}
	return 0
}

// runningDockerds lists the dockerd processes of this machine (Linux's
// /proc; none elsewhere).
func runningDockerds() []daemoncfg.Process {
	if runtime.GOOS != "linux" {
		return nil
	}
	return daemoncfg.SameMountNS("/proc", daemoncfg.RunningDockerds("/proc"))
}

// isThisMachine reports whether host names this machine: its host name or
// one of its interface addresses.
func isThisMachine(host string) bool {
	if hn, err := os.Hostname(); err == nil && strings.EqualFold(hn, host) {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// localDockerd is what picks the rules dockerd reads certs.d with: the
// daemon the CLI talks to answers /info (version, image store); when it
// does not, the installed dockerd's version (`dockerd --version`), and the
// doctor reads daemon.json's features itself.
func localDockerd(ctx context.Context, dopts doctor.Options) loader.DockerdFacts {
	if f, ok := doctor.DaemonFacts(ctx, dopts, 2*time.Second); ok {
		return f
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, "dockerd", "--version").Output()
	if err != nil {
		return loader.DockerdFacts{}
	}
	// "Docker version 28.5.2, build 89c5e8f"
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "Docker version ")
	v, _, _ = strings.Cut(v, ",")
	if m := doctor.MajorVersion(v); m > 0 {
		return loader.DockerdFacts{Major: m, Version: v, Source: "dockerd --version: " + v}
	}
	return loader.DockerdFacts{}
}

package loader

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/docker/cli/cli/config/configfile"
	dcontext "github.com/docker/cli/cli/context"
	"github.com/docker/cli/cli/context/docker"
	dopts "github.com/docker/cli/opts"
	"github.com/moby/moby/client"

	"github.com/docker-tls/docker-tls/pki/fsutil"
	"github.com/docker-tls/docker-tls/pki/layout"
)

// Where the docker CLI took its context from (CLIEndpoint.ContextFrom), in
// docker/cli v29's order of preference (cli/command/cli.go
// resolveContextName).
const (
	FromContextFlag    = "--context"
	FromHostFlag       = "-H"
	FromDockerHost     = "DOCKER_HOST"
	FromDockerContext  = "DOCKER_CONTEXT"
	FromCurrentContext = "config.json currentContext"
	FromDefault        = "default"
)

// Where the default context's host came from (CLIEndpoint.HostFrom).
const (
	HostFromFlag       = "-H"
	HostFromEnv        = "DOCKER_HOST"
	HostFromTLSDefault = "the TLS default host"
	HostFromDefault    = "the default host"
)

// CLIFlags are the docker CLI's global flags that choose the endpoint and
// its TLS material. A nil pointer means the flag was not given: the CLI
// tells "not given" from "given as false" (--tlsverify=false turns TLS on).
type CLIFlags struct {
	Hosts     []string // -H/--host (the CLI accepts one)
	Context   string   // --context/-c
	TLS       *bool    // --tls
	TLSVerify *bool    // --tlsverify
	TLSCACert *string  // --tlscacert
	TLSCert   *string  // --tlscert
	TLSKey    *string  // --tlskey
	Config    string   // --config
}

// CLIInput is everything the docker CLI reads before it connects.
type CLIInput struct {
	// FS is the file system rooted at "/"; paths in the environment and
	// flags are paths in it.
	FS fs.FS
	// Getenv is the CLI's environment (nil: empty).
	Getenv func(string) string
	Flags  CLIFlags
	// Cwd resolves relative paths in flags and the environment ("" is "/").
	// Errors name them as given, as the CLI does.
	Cwd string
	// Home is the user's home directory when HOME is empty (the CLI then
	// asks the user database).
	Home string
}

// CLIEndpoint is what the docker CLI connects to and with what.
type CLIEndpoint struct {
	// ConfigDir is the config dir (contexts, config.json): --config, else
	// $DOCKER_CONFIG, else ~/.docker.
	ConfigDir string
	// ConfigWarning is the warning the CLI prints when config.json exists
	// but cannot be loaded (it then goes on with what it could decode).
	ConfigWarning string
	// CurrentContext is config.json's currentContext.
	CurrentContext string
	// Context is the context in use and ContextFrom why (From* constants).
	Context, ContextFrom string
	// Host is the endpoint ("tcp://h:2376", "unix:///var/run/docker.sock",
	// "ssh://u@h"), and HostFrom where it came from (HostFrom* constants or
	// `context "name"`).
	Host, HostFrom string
	// CertPath is where the default context looks for ca.pem, cert.pem and
	// key.pem: $DOCKER_CERT_PATH, else the config dir the CLI started with
	// ($DOCKER_CONFIG or ~/.docker; --config does not move it).
	CertPath string
	// TLSOptions: the default context's TLS options are on (--tls,
	// --tlsverify, DOCKER_TLS, DOCKER_TLS_VERIFY); the files are then read
	// even for a socket host.
	TLSOptions bool
	// TLS: the CLI speaks TLS to Host. SkipTLSVerify: without verifying the
	// server. SystemRoots: verifying against the system roots (no ca.pem).
	TLS, SkipTLSVerify, SystemRoots bool
	// Look are the paths where the CLI looks for each file: the default
	// context's --tlscacert/--tlscert/--tlskey or their defaults in
	// CertPath, a named context's files in its TLS store directory (Dir).
	Look FileSet
	// Dir is the directory of the default names: CertPath for the default
	// context, <config>/contexts/tls/<id>/docker for a named one.
	Dir string
	// CAFile, CertFile, KeyFile are the files the CLI reads ("" when none):
	// for the default context the ca/cert/key paths (cert and key dropped
	// when their default file is missing), for a named context the files
	// present in its TLS store directory.
	CAFile, CertFile, KeyFile string
	// CA, Cert, Key are their contents (nil when not read).
	CA, Cert, Key []byte
	// Dropped are default cert/key paths the CLI silently dropped because
	// they do not exist.
	Dropped []string
	// Ignored are files in a context's TLS directory the CLI does not know
	// (it warns "unknown file in context … TLS bundle") and never uses.
	Ignored []string
	// Err is the CLI's own error before connecting (nil when it connects).
	Err error
	// errPlain marks errors the CLI prints without "Failed to initialize: ".
	errPlain bool
}

// FileSet names the three client files.
type FileSet struct{ CA, Cert, Key string }

// ClientCert reports whether the CLI sends a client certificate.
func (e CLIEndpoint) ClientCert() bool {
	return e.TLS && e.Err == nil && e.Cert != nil && e.Key != nil
}

// DockerLine is the line docker prints when it fails before connecting
// ("Failed to initialize: unable to resolve docker endpoint: open
// /root/.docker/ca.pem: no such file or directory"), "" when it does not.
func (e CLIEndpoint) DockerLine() string {
	switch {
	case e.Err == nil:
		return ""
	case e.errPlain:
		return e.Err.Error()
	}
	return "Failed to initialize: " + e.Err.Error()
}

// ContextDir is where the context store of configDir keeps a context's
// metadata (meta.json) and TLS files (<tls>/docker/).
func ContextDir(configDir, name string) (meta, tls string) {
	id := layout.ContextID(name)
	root := filepath.Join(configDir, layout.ContextsDirName)
	return filepath.Join(root, layout.ContextMetaDirName, id), filepath.Join(root, layout.ContextTLSDirName, id)
}

// ResolveCLI decides, as docker/cli v29 does (cli/flags ClientOptions
// InstallFlags and SetDefaultOptions, cli/command DockerCli Initialize and
// its endpoint resolution, the context store, cli/context/docker
// Endpoint.ClientOpts), which endpoint the CLI uses, with which TLS
// material, and the error it fails with before connecting. It reads only
// in.FS and in.Getenv.
func ResolveCLI(in CLIInput) CLIEndpoint {
	r := clientResolver{in: in}
	if r.in.Getenv == nil {
		r.in.Getenv = func(string) string { return "" }
	}
	return r.resolve()
}

type clientResolver struct {
	in CLIInput
}

func (r *clientResolver) getenv(k string) string { return r.in.Getenv(k) }

// startConfigDir is config.Dir() at start-up: $DOCKER_CONFIG, else
// $HOME/.docker.
func (r *clientResolver) startConfigDir() string {
	if d := r.getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home := r.getenv("HOME")
	if home == "" {
		home = r.in.Home
	}
	return filepath.Join(home, layout.ConfigDirName)
}

func (r *clientResolver) resolve() CLIEndpoint {
	f := r.in.Flags
	var ep CLIEndpoint

	// InstallFlags: the defaults of --tlscacert/--tlscert/--tlskey, --tls
	// and --tlsverify come from the environment at start-up.
	startDir := r.startConfigDir()
	ep.CertPath = r.getenv("DOCKER_CERT_PATH")
	if ep.CertPath == "" {
		ep.CertPath = startDir
	}
	caFile := filepath.Join(ep.CertPath, layout.ClientCAFile)
	certFile := filepath.Join(ep.CertPath, layout.ClientCertFile)
	keyFile := filepath.Join(ep.CertPath, layout.ClientKeyFile)
	useTLS := r.getenv("DOCKER_TLS") != ""
	verify := r.getenv("DOCKER_TLS_VERIFY") != ""
	if f.TLS != nil {
		useTLS = *f.TLS
	}
	if f.TLSVerify != nil {
		verify = *f.TLSVerify
	}
	if f.TLSCACert != nil {
		caFile = *f.TLSCACert
	}
	if f.TLSCert != nil {
		certFile = *f.TLSCert
	}
	if f.TLSKey != nil {
		keyFile = *f.TLSKey
	}
	ep.Look, ep.Dir = FileSet{CA: caFile, Cert: certFile, Key: keyFile}, ep.CertPath
	// SetDefaultOptions: --tlsverify given at all, or verification on,
	// turns TLS on; a missing default cert or key is dropped.
	if f.TLSVerify != nil || verify {
		useTLS = true
	}
	ep.TLSOptions = useTLS
	skip := false
	if useTLS {
		skip = !verify
		if f.TLSCert == nil && r.notExist(certFile) {
			ep.Dropped = append(ep.Dropped, certFile)
			certFile = ""
		}
		if f.TLSKey == nil && r.notExist(keyFile) {
			ep.Dropped = append(ep.Dropped, keyFile)
			keyFile = ""
		}
	}

	// Initialize.
	ep.ConfigDir = startDir
	if f.Config != "" {
		ep.ConfigDir = filepath.Clean(f.Config)
	}
	if f.Context != "" && len(f.Hosts) > 0 {
		ep.Err, ep.errPlain = errors.New("conflicting options: cannot specify both --host and --context"), true
		return ep
	}
	r.loadConfigFile(&ep)
	ep.Context, ep.ContextFrom = r.contextName(ep.CurrentContext)

	var dep docker.Endpoint
	var err error
	if ep.Context == layout.DefaultContextName {
		dep, err = r.defaultEndpoint(&ep, useTLS, skip, caFile, certFile, keyFile)
	} else {
		dep, err = r.contextEndpoint(&ep)
	}
	if err != nil {
		ep.Err = fmt.Errorf("unable to resolve docker endpoint: %w", err)
		return ep
	}
	ep.Host, ep.SkipTLSVerify = dep.Host, dep.SkipTLSVerify
	if ep.Host == "" {
		ep.Host = client.DefaultDockerHost
	}

	// newAPIClientFromEndpoint: docker's own code builds the TLS
	// configuration and parses the host, with docker's errors.
	opts, err := dep.ClientOpts()
	if err == nil {
		var c *client.Client
		if c, err = client.New(opts...); err == nil {
			_ = c.Close()
		}
	}
	if err != nil {
		ep.Err = err
		return ep
	}
	ep.TLS = usesTLS(dep)
	if !ep.TLS {
		ep.SkipTLSVerify = false
	}
	ep.SystemRoots = ep.TLS && !ep.SkipTLSVerify && ep.CA == nil
	return ep
}

// usesTLS mirrors Endpoint.ClientOpts: TLS for a host that is neither a
// socket nor an ssh connection, when the endpoint has TLS data or skips
// verification. A context without a host gets the client's default
// (socket) host and no TLS configuration at all.
func usesTLS(ep docker.Endpoint) bool {
	if ep.Host == "" {
		return false
	}
	proto, _, _ := strings.Cut(ep.Host, "://")
	switch proto {
	case "unix", "npipe", "fd", "ssh":
		return false
	}
	return ep.TLSData != nil || ep.SkipTLSVerify
}

// loadConfigFile reads config.json as config.LoadDefaultConfigFile does,
// with docker/cli's own decoder.
func (r *clientResolver) loadConfigFile(ep *CLIEndpoint) {
	name := filepath.Join(ep.ConfigDir, "config.json")
	data, err := r.read(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			ep.ConfigWarning = "WARNING: Error loading config file: " + err.Error()
		}
		return
	}
	cf := configfile.New(name)
	if err := cf.LoadFromReader(bytes.NewReader(data)); err != nil {
		ep.ConfigWarning = fmt.Sprintf("WARNING: Error parsing config file (%s): %v", name, err)
	}
	ep.CurrentContext = cf.CurrentContext
}

// contextName is cli/command resolveContextName.
func (r *clientResolver) contextName(current string) (string, string) {
	f := r.in.Flags
	switch {
	case f.Context != "":
		return f.Context, FromContextFlag
	case len(f.Hosts) > 0:
		return layout.DefaultContextName, FromHostFlag
	case r.getenv("DOCKER_HOST") != "":
		return layout.DefaultContextName, FromDockerHost
	case r.getenv("DOCKER_CONTEXT") != "":
		return r.getenv("DOCKER_CONTEXT"), FromDockerContext
	case current != "":
		return current, FromCurrentContext
	}
	return layout.DefaultContextName, FromDefault
}

// defaultEndpoint is resolveDefaultDockerEndpoint: the host from -H or
// DOCKER_HOST parsed with docker's own opts.ParseHost, then the TLS files.
func (r *clientResolver) defaultEndpoint(ep *CLIEndpoint, useTLS, skip bool, caFile, certFile, keyFile string) (docker.Endpoint, error) {
	hosts := r.in.Flags.Hosts
	var raw string
	switch {
	case len(hosts) > 1:
		return docker.Endpoint{}, errors.New("specify only one -H")
	case len(hosts) == 1:
		raw, ep.HostFrom = hosts[0], HostFromFlag
	default:
		raw, ep.HostFrom = r.getenv("DOCKER_HOST"), HostFromEnv
	}
	if strings.TrimSpace(raw) == "" {
		ep.HostFrom = HostFromDefault
		if useTLS {
			ep.HostFrom = HostFromTLSDefault
		}
	}
	host, err := dopts.ParseHost(useTLS, raw)
	if err != nil {
		return docker.Endpoint{}, err
	}
	out := docker.Endpoint{EndpointMeta: docker.EndpointMeta{Host: host}}
	if !useTLS {
		return out, nil
	}
	out.SkipTLSVerify = skip
	// TLSDataFromFiles: ca, cert, key in this order; a file named but
	// unreadable is the error.
	var td dcontext.TLSData
	for _, x := range []struct {
		name string
		dst  *[]byte
		file *string
	}{{caFile, &td.CA, &ep.CAFile}, {certFile, &td.Cert, &ep.CertFile}, {keyFile, &td.Key, &ep.KeyFile}} {
		if x.name == "" {
			continue
		}
		data, err := r.read(x.name)
		if err != nil {
			return docker.Endpoint{}, err
		}
		*x.dst, *x.file = data, x.name
	}
	if td.CA == nil && td.Cert == nil && td.Key == nil {
		return out, nil
	}
	ep.CA, ep.Cert, ep.Key = td.CA, td.Cert, td.Key
	out.TLSData = &td
	return out, nil
}

// contextMeta is the store's untyped meta.json.
type contextMeta struct {
	Metadata  json.RawMessage            `json:"metadata,omitempty"`
	Endpoints map[string]json.RawMessage `json:"endpoints,omitempty"`
	Name      string                     `json:"name,omitempty"`
}

// contextEndpoint is resolveDockerEndpoint for a named context: its
// metadata from the store, then its TLS files.
func (r *clientResolver) contextEndpoint(ep *CLIEndpoint) (docker.Endpoint, error) {
	name := ep.Context
	ep.HostFrom = fmt.Sprintf("context %q", name)
	metaDir, tlsDir := ContextDir(ep.ConfigDir, name)
	ep.Dir = filepath.Join(tlsDir, layout.ContextDockerEndpoint)
	ep.Look = FileSet{CA: filepath.Join(ep.Dir, layout.ClientCAFile), Cert: filepath.Join(ep.Dir, layout.ClientCertFile), Key: filepath.Join(ep.Dir, layout.ClientKeyFile)}
	meta, err := r.contextMetadata(name, filepath.Join(metaDir, layout.ContextMetaFile))
	if err != nil {
		return docker.Endpoint{}, err
	}
	raw, ok := meta.Endpoints[layout.ContextDockerEndpoint]
	if !ok {
		return docker.Endpoint{}, errors.New("cannot find docker endpoint in context")
	}
	var em docker.EndpointMeta
	if len(raw) == 0 || string(raw) == "null" {
		return docker.Endpoint{}, fmt.Errorf("endpoint %q is not of type EndpointMeta", layout.ContextDockerEndpoint)
	}
	_ = json.Unmarshal(raw, &em) // checked in contextMetadata
	out := docker.Endpoint{EndpointMeta: em}
	files, err := r.contextTLSFiles(name, tlsDir)
	if err != nil {
		return docker.Endpoint{}, fmt.Errorf("failed to retrieve TLS files for context %q: %w", name, err)
	}
	if files == nil {
		return out, nil
	}
	var td dcontext.TLSData
	epDir := filepath.Join(tlsDir, layout.ContextDockerEndpoint)
	for _, fn := range files {
		p := filepath.Join(epDir, fn)
		data, err := r.read(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				err = fmt.Errorf("TLS data for %s/%s/%s does not exist", name, layout.ContextDockerEndpoint, fn)
			} else {
				err = fmt.Errorf("failed to read TLS data for endpoint %s: %w", layout.ContextDockerEndpoint, err)
			}
			return docker.Endpoint{}, fmt.Errorf("failed to retrieve TLS data (%s) for context %q: %w", fn, name, err)
		}
		switch fn {
		case layout.ClientCAFile:
			td.CA, ep.CA, ep.CAFile = data, data, p
		case layout.ClientCertFile:
			td.Cert, ep.Cert, ep.CertFile = data, data, p
		case layout.ClientKeyFile:
			td.Key, ep.Key, ep.KeyFile = data, data, p
		default:
			ep.Ignored = append(ep.Ignored, p)
		}
	}
	out.TLSData = &td
	return out, nil
}

// contextMetadata is the store's getByID with the CLI's store config:
// metadata decoded as a DockerContext, the docker endpoint as an
// EndpointMeta, other endpoints as maps.
func (r *clientResolver) contextMetadata(name, file string) (contextMeta, error) {
	var m contextMeta
	data, err := r.read(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return m, fmt.Errorf("context %q: context not found: %w", name, err)
		}
		return m, fmt.Errorf("context %q: %w", name, err)
	}
	parsing := func(err error) error { return fmt.Errorf("context %q: parsing %s: %v", name, file, err) }
	if err := json.Unmarshal(data, &m); err != nil {
		return m, parsing(err)
	}
	if len(m.Metadata) > 0 && string(m.Metadata) != "null" {
		// DockerContext.UnmarshalJSON decodes into a map, then asserts
		// Description to a string (and panics when it is not).
		var dc map[string]any
		if err := json.Unmarshal(m.Metadata, &dc); err != nil {
			return m, parsing(err)
		}
		if d, ok := dc["Description"]; ok {
			if _, isString := d.(string); !isString {
				return m, fmt.Errorf("context %q: %s: the docker CLI crashes on a Description that is not a string", name, file)
			}
		}
	}
	keys := make([]string, 0, len(m.Endpoints))
	for k := range m.Endpoints {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m.Endpoints[k]
		if len(v) == 0 || string(v) == "null" {
			continue
		}
		var err error
		if k == layout.ContextDockerEndpoint {
			err = json.Unmarshal(v, &docker.EndpointMeta{})
		} else {
			err = json.Unmarshal(v, &map[string]any{})
		}
		if err != nil {
			return m, parsing(err)
		}
	}
	return m, nil
}

// contextTLSFiles is the TLS store's listContextData for the docker
// endpoint: nil when the context has no TLS directory for it.
func (r *clientResolver) contextTLSFiles(name, dir string) ([]string, error) {
	entries, err := r.readDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("failed to list TLS files for context %s: %w", name, err)
	}
	var files []string
	found := false
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub, err := r.readDir(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("failed to list TLS files for endpoint %s: %w", e.Name(), err)
		}
		if e.Name() != layout.ContextDockerEndpoint {
			continue
		}
		found = true
		for _, s := range sub {
			if !s.IsDir() {
				files = append(files, s.Name())
			}
		}
	}
	if !found {
		return nil, nil
	}
	if files == nil {
		files = []string{}
	}
	return files, nil
}

// CLIContexts lists the context names in the store of configDir (as
// `docker context ls` finds them, without "default"), sorted.
func CLIContexts(fsys fs.FS, configDir string) []string {
	r := clientResolver{in: CLIInput{FS: fsys}}
	root := filepath.Join(configDir, layout.ContextsDirName, layout.ContextMetaDirName)
	var names []string
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if depth > 8 {
			return
		}
		entries, err := r.readDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			sub := filepath.Join(dir, e.Name())
			if data, err := r.read(filepath.Join(sub, layout.ContextMetaFile)); err == nil {
				var m contextMeta
				if json.Unmarshal(data, &m) == nil && m.Name != "" {
					names = append(names, m.Name)
				}
			}
			walk(sub, depth+1)
		}
	}
	walk(root, 0)
	sort.Strings(names)
	return names
}

// abs resolves p against the working directory.
func (r *clientResolver) abs(p string) string {
	if !filepath.IsAbs(p) {
		cwd := r.in.Cwd
		if cwd == "" {
			cwd = "/"
		}
		p = filepath.Join(cwd, p)
	}
	return p
}

// fsName turns an absolute path into an fs.FS name.
func clientFSName(p string) string {
	p = filepath.ToSlash(filepath.Clean(p))
	if v := filepath.VolumeName(p); v != "" {
		p = strings.TrimPrefix(p, v)
	}
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return "."
	}
	return p
}

// clientErrno turns an fs error into the error the CLI's os call meets,
// so that messages read as docker prints them.
func clientErrno(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, fs.ErrPermission):
		return syscall.EACCES
	}
	return err
}

func (r *clientResolver) notExist(p string) bool {
	_, err := fs.Stat(r.in.FS, clientFSName(r.abs(p)))
	return err != nil && errors.Is(err, fs.ErrNotExist)
}

// read is os.ReadFile(name) as the CLI calls it, through the FS. It never
// opens a FIFO, device or socket (the CLI would block or fail on it; the
// model reports that instead) nor reads more than fsutil.MaxReadSize.
func (r *clientResolver) read(name string) ([]byte, error) {
	fsName := clientFSName(r.abs(name))
	st, err := fs.Stat(r.in.FS, fsName)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: clientErrno(err)}
	}
	switch {
	case st.IsDir():
		return nil, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("open %s: is a %s, not a file (the docker CLI would hang or fail reading it)", name, fsutil.DescribeMode(st.Mode()))
	case st.Size() > fsutil.MaxReadSize:
		return nil, fmt.Errorf("read %s: %d bytes, larger than the %d bytes certificate material can be", name, st.Size(), fsutil.MaxReadSize)
	}
	data, err := fs.ReadFile(r.in.FS, fsName)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: clientErrno(err)}
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

func (r *clientResolver) readDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(r.in.FS, clientFSName(r.abs(name)))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: clientErrno(err)}
	}
	return entries, nil
}

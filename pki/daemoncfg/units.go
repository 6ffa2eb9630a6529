package daemoncfg

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/cli/opts"
)

// This file is the one model of how systemd starts dockerd: where
// docker.service and its drop-ins live, how their ExecStart= lines combine,
// how the command line splits into arguments, which of dockerd's flags
// collide with daemon.json, and the drop-in that removes exactly those.
// install daemon and the doctor both use it.

// UnitDirs are the directories systemd loads docker.service from, highest
// precedence first (systemd uses the first unit file found; a drop-in in a
// higher directory masks one of the same name in a lower one).
var UnitDirs = []string{
	"/etc/systemd/system",
	"/run/systemd/system",
	"/usr/local/lib/systemd/system",
	"/lib/systemd/system",
	"/usr/lib/systemd/system",
}

// ServiceName is the unit dockerd runs as.
const ServiceName = "docker.service"

// DropInDir is where docker-tls writes its drop-in.
const DropInDir = "/etc/systemd/system/" + ServiceName + ".d"

// DropInPath is docker-tls's drop-in.
const DropInPath = DropInDir + "/docker-tls.conf"

// UnitFile is one unit or drop-in file's path (as on the host) and
// content. Err is set when the file exists but could not be read; such a
// file contributes nothing.
type UnitFile struct {
	Name string
	Data []byte
	Err  error
}

// UnitFS is how unit files are read: install reads the host under --root,
// the doctor its own hardened, rooted reader. ReadFile returns an error
// satisfying errors.Is(err, fs.ErrNotExist) for a missing file.
type UnitFS interface {
	ReadFile(name string) ([]byte, error)
	ReadDir(name string) ([]fs.DirEntry, error)
}

// FindUnitFiles returns docker.service and its *.conf drop-ins in the order
// systemd applies them: the unit from the first directory that has it,
// then the drop-ins of all directories sorted by file name (a name in a
// higher directory masking the same name in a lower one). A unit that
// exists but cannot be read is returned with Err and ends the search, as
// systemd would fail to load it.
func FindUnitFiles(fsys UnitFS) []UnitFile {
	var files []UnitFile
	for _, d := range UnitDirs {
		p := path.Join(d, ServiceName)
		data, err := fsys.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		files = append(files, UnitFile{Name: p, Data: data, Err: err})
		break
	}
	byName := map[string]string{}
	for _, d := range UnitDirs {
		dir := path.Join(d, ServiceName+".d")
		entries, err := fsys.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".conf") {
				continue
			}
			if _, masked := byName[e.Name()]; !masked {
				byName[e.Name()] = path.Join(dir, e.Name())
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := fsys.ReadFile(byName[n])
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		files = append(files, UnitFile{Name: byName[n], Data: data, Err: err})
	}
	return files
}

// osUnitFS reads the host's files under root (root maps "/").
type osUnitFS string

func (r osUnitFS) ReadFile(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(string(r), filepath.FromSlash(name)))
}

func (r osUnitFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return os.ReadDir(filepath.Join(string(r), filepath.FromSlash(name)))
}

// ReadUnitFiles is FindUnitFiles on the host's file system under root.
func ReadUnitFiles(root string) []UnitFile {
	return FindUnitFiles(osUnitFS(root))
}

// ExecStart is the effective ExecStart of a systemd service after its unit
// file and drop-ins: an empty "ExecStart=" resets the list, the last
// non-empty one wins (dockerd runs as Type=notify, which allows one).
// Source names the file it came from.
type ExecStart struct {
	Args   []string
	Source string
}

// EffectiveExecStart applies files in order and returns the effective
// ExecStart, or ok=false when none is set. Files with Err are skipped.
func EffectiveExecStart(files []UnitFile) (ExecStart, bool) {
	var line, from string
	for _, f := range files {
		if f.Err != nil {
			continue
		}
		section := ""
		lines := strings.Split(strings.ReplaceAll(string(f.Data), "\r\n", "\n"), "\n")
		for i := 0; i < len(lines); i++ {
			l := strings.TrimSpace(lines[i])
			for strings.HasSuffix(l, `\`) && i+1 < len(lines) {
				i++
				l = strings.TrimSuffix(l, `\`) + " " + strings.TrimSpace(lines[i])
			}
			if l == "" || l[0] == '#' || l[0] == ';' {
				continue
			}
			if l[0] == '[' {
				section = strings.Trim(l, "[] ")
				continue
			}
			k, v, found := strings.Cut(l, "=")
			if !found || section != "Service" || strings.TrimSpace(k) != "ExecStart" {
				continue
			}
			line, from = strings.TrimSpace(v), f.Name
		}
	}
	if line == "" {
		return ExecStart{}, false
	}
	return ExecStart{Args: SplitCommand(line), Source: from}, true
}

// SplitCommand splits a systemd command line into arguments: double and
// single quotes, backslash escapes, and systemd's executable prefixes
// (@-:+!) dropped from the first word.
func SplitCommand(s string) []string {
	var out []string
	var cur strings.Builder
	inArg, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote, inArg = c, true
		case c == ' ' || c == '\t':
			if inArg {
				out = append(out, cur.String())
				cur.Reset()
				inArg = false
			}
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inArg = true
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if inArg {
		out = append(out, cur.String())
	}
	if len(out) > 0 {
		out[0] = strings.TrimLeft(out[0], "@-:+!")
	}
	return out
}

// JoinCommand renders arguments as a systemd command line that
// SplitCommand reads back as the same arguments. Words without spaces,
// quotes or backslashes stay as they are, so $DOCKER_OPTS is still
// expanded by systemd into several words.
func JoinCommand(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsFunc(a, needsQuote) {
			out[i] = a
			continue
		}
		out[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(a) + `"`
	}
	return strings.Join(out, " ")
}

func needsQuote(r rune) bool {
	return r <= ' ' || r == 0x7f || r == '"' || r == '\'' || r == '\\'
}

// Directives are the daemon.json keys that are also dockerd flags, in
// dockerd's order, with their flag spellings.
var Directives = []struct {
	Key   string
	Flags []string
}{
	{KeyHosts, []string{"-H", "--host"}},
	{KeyTLS, []string{"--tls"}},
	{KeyTLSVerify, []string{"--tlsverify"}},
	{KeyTLSCACert, []string{"--tlscacert"}},
	{KeyTLSCert, []string{"--tlscert"}},
	{KeyTLSKey, []string{"--tlskey"}},
}

// KeyConfigFile is the DockerdFlags entry of --config-file.
const KeyConfigFile = "config-file"

// KeyInsecureRegistryFlag and KeyRegistryMirrorFlag are the DockerdFlags
// entries of --insecure-registry and --registry-mirror (keyed by the flag's
// name: daemon.json's "insecure-registries" and "registry-mirrors" are
// lists of the same values).
const (
	KeyInsecureRegistryFlag = "insecure-registry"
	KeyRegistryMirrorFlag   = "registry-mirror"
)

// flagArg is one flag occurrence found in dockerd's argv.
type flagArg struct {
	key      string
	val      string
	from, to int // argv[from:to] is the flag and its value
}

func scanDockerdFlags(argv []string) []flagArg {
	var out []flagArg
	valueFlags := map[string]string{"-H": KeyHosts, "--host": KeyHosts, "--tlscacert": KeyTLSCACert, "--tlscert": KeyTLSCert, "--tlskey": KeyTLSKey, "--config-file": KeyConfigFile,
		"--insecure-registry": KeyInsecureRegistryFlag, "--registry-mirror": KeyRegistryMirrorFlag}
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if strings.HasPrefix(a, "$") {
			continue // an environment variable systemd expands; unknown here
		}
		name, val, hasVal := strings.Cut(a, "=")
		if strings.HasPrefix(a, "-H") && !strings.HasPrefix(a, "--") && len(a) > 2 && !hasVal {
			name, val, hasVal = "-H", a[2:], true // -Hfd://
		}
		if key, ok := valueFlags[name]; ok {
			from := i
			if !hasVal && i+1 < len(argv) {
				i++
				val = argv[i]
			}
			out = append(out, flagArg{key, val, from, i + 1})
			continue
		}
		switch name {
		case "--tls", "--tlsverify":
			if !hasVal {
				val = "true"
			}
			out = append(out, flagArg{strings.TrimPrefix(name, "--"), val, i, i + 1})
		}
	}
	return out
}

// DockerdFlags extracts the TLS-related flags from dockerd's argv, keyed by
// daemon.json directive name (plus KeyConfigFile and the registry flags),
// values in order.
func DockerdFlags(argv []string) map[string][]string {
	out := map[string][]string{}
	for _, f := range scanDockerdFlags(argv) {
		out[f.key] = append(out[f.key], f.val)
	}
	return out
}

// FlagsAlsoInFile returns the daemon.json keys among keys that the
// command line also sets as flags, in Directives order: dockerd refuses to
// start then ("the following directives are specified both as a flag and
// in the configuration file").
func FlagsAlsoInFile(args []string, keys []string) []string {
	flags := DockerdFlags(args)
	inFile := map[string]bool{}
	for _, k := range keys {
		inFile[k] = true
	}
	var out []string
	for _, d := range Directives {
		if _, ok := flags[d.Key]; ok && inFile[d.Key] {
			out = append(out, d.Key)
		}
	}
	return out
}

// StripFlags returns argv without the flags (and their values) that set
// the given daemon.json keys; everything else stays, in order.
func StripFlags(argv []string, keys []string) []string {
	kept, _ := SplitFlags(argv, keys)
	return kept
}

// SplitFlags splits argv into the arguments StripFlags keeps and the flags
// (with their values) it removes.
func SplitFlags(argv []string, keys []string) (kept, removed []string) {
	drop := map[string]bool{}
	for _, k := range keys {
		drop[k] = true
	}
	skip := map[int]bool{}
	for _, f := range scanDockerdFlags(argv) {
		if drop[f.key] {
			for i := f.from; i < f.to; i++ {
				skip[i] = true
			}
		}
	}
	kept = []string{}
	for i, a := range argv {
		if skip[i] {
			removed = append(removed, a)
		} else {
			kept = append(kept, a)
		}
	}
	return kept, removed
}

// DefaultDockerd is the dockerd a drop-in starts when the unit names none.
const DefaultDockerd = "/usr/bin/dockerd"

// DropIn is the systemd drop-in that starts dockerd with the unit's
// effective command line minus the flags that set keys (the ones
// daemon.json also sets), keeping everything else (--containerd=…,
// $DOCKER_OPTS).
func DropIn(argv []string, keys []string) string {
	args := StripFlags(argv, keys)
	if len(args) == 0 {
		args = []string{DefaultDockerd}
	}
	return "[Service]\nExecStart=\nExecStart=" + JoinCommand(args) + "\n"
}

// PrintfFormat renders content as one single-quoted shell printf format
// that prints it exactly: newlines as \n, with %, \ and ' escaped.
func PrintfFormat(content string) string {
	r := strings.NewReplacer(`\`, `\\`, "%", "%%", "'", `'\''`, "\n", `\n`)
	return "'" + r.Replace(content) + "'"
}

// CheckHost says why dockerd cannot listen on a "hosts" entry (or -H
// value), in dockerd's words, or returns nil. dockerd parses the address
// (moby opts.ParseHost, the same rules as docker/cli opts.ParseHost) and
// then listens on it: a TCP port outside 0-65535 passes the parse and
// fails the listen ("listen tcp: address 99999: invalid port").
func CheckHost(h string) error {
	parsed, err := opts.ParseHost(true, h)
	if err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(parsed, "tcp://")
	if !ok {
		return nil
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	_, port, err := net.SplitHostPort(rest)
	if err != nil {
		return fmt.Errorf("invalid bind address format: %s", h)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("listen tcp: address %s: invalid port", port)
	}
	return nil
}

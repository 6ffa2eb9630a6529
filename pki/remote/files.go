package remote

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Facts are the host's own names and addresses.
type Facts struct {
	Hostname string   // hostname
	FQDN     string   // hostname -f
	IPs      []net.IP // global addresses of its interfaces
}

// factsScript prints the host's names and the addresses of its interfaces
// (ip(8) when present, else hostname -I). IPv6 privacy (temporary),
// deprecated and tentative addresses come and go: they are left out, or
// every run would find a "new" address and re-issue the certificate.
const factsScript = `echo "hostname $(hostname 2>/dev/null)"
echo "fqdn $(hostname -f 2>/dev/null)"
if command -v ip >/dev/null 2>&1; then
  ip -o addr show scope global 2>/dev/null | while read -r line; do
    case "$line" in *" temporary"*|*" deprecated"*|*" tentative"*) continue ;; esac
    set -- $line
    echo "ip ${4%/*}"
  done
else
  for a in $(hostname -I 2>/dev/null); do echo "ip $a"; done
fi
`

// Facts learns the host's names and addresses.
func (t *Target) Facts(ctx context.Context) (Facts, error) {
	out, err := t.Run(ctx, "read the host's names and addresses", factsScript)
	if err != nil {
		return Facts{}, err
	}
	return parseFacts(out), nil
}

func parseFacts(out []byte) Facts {
	var f Facts
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		v = strings.TrimSpace(v)
		switch k {
		case "hostname":
			f.Hostname = v
		case "fqdn":
			f.FQDN = v
		case "ip":
			if ip := net.ParseIP(v); ip != nil && !ip.IsLinkLocalUnicast() && !ip.IsLoopback() {
				f.IPs = append(f.IPs, ip)
			}
		}
	}
	return f
}

// File is a remote file's state.
type File struct {
	Path   string
	Exists bool
	// Problem is set when the path is not a regular file (a link, a
	// directory): docker-tls does not write through it.
	Problem string
	Data    []byte
	// Mode is the file's permission bits (0 when stat(1) could not say).
	Mode fs.FileMode
}

// ReadFiles reads regular files; missing files have Exists false. Each
// file is framed by its size, so any content comes back unchanged.
func (t *Target) ReadFiles(ctx context.Context, paths []string) (map[string]File, error) {
	out, err := t.Run(ctx, "read "+strings.Join(paths, ", "), readScript(paths))
	if err != nil {
		return nil, err
	}
	return parseFiles(paths, out)
}

// readScript prints, for each path, a line saying what it is ("F SIZE"
// followed by the content for a regular file).
func readScript(paths []string) string {
	var b strings.Builder
	for _, p := range paths {
		q := Quote(p)
		fmt.Fprintf(&b, "if [ -L %[1]s ]; then echo L; elif [ -d %[1]s ]; then echo D; elif [ -f %[1]s ]; then if [ -r %[1]s ]; then echo \"F $(wc -c < %[1]s) $(stat -c %%a %[1]s 2>/dev/null)\"; cat %[1]s; else echo R; fi; elif [ -e %[1]s ]; then echo S; else echo N; fi\n", q)
	}
	return b.String()
}

func parseFiles(paths []string, out []byte) (map[string]File, error) {
	res := map[string]File{}
	for _, p := range paths {
		nl := bytes.IndexByte(out, '\n')
		if nl < 0 {
			return nil, fmt.Errorf("reading %s: remote output ended early", p)
		}
		head := strings.TrimSpace(string(out[:nl]))
		out = out[nl+1:]
		f := File{Path: p}
		switch {
		case head == "N":
		case head == "L":
			f.Exists, f.Problem = true, "it is a symbolic link; docker-tls does not write through links"
		case head == "D":
			f.Exists, f.Problem = true, "it is a directory"
		case head == "S":
			f.Exists, f.Problem = true, "it is not a regular file"
		case head == "R":
			f.Exists, f.Problem = true, "permission denied"
		case strings.HasPrefix(head, "F "):
			fields := strings.Fields(head[2:])
			if len(fields) == 0 {
				return nil, fmt.Errorf("reading %s: bad size %q in remote output", p, head)
			}
			if len(fields) > 1 {
				if m, err := strconv.ParseUint(fields[1], 8, 32); err == nil {
					f.Mode = fs.FileMode(m).Perm()
				}
			}
			n, err := strconv.Atoi(fields[0])
			if err != nil || n < 0 || n > len(out) {
				return nil, fmt.Errorf("reading %s: bad size %q in remote output", p, head)
			}
			f.Exists, f.Data = true, append([]byte(nil), out[:n]...)
			out = out[n:]
		default:
			return nil, fmt.Errorf("reading %s: unexpected remote output %q", p, head)
		}
		res[p] = f
	}
	return res, nil
}

// Write is one file to put in place. Remove deletes the file instead
// (rolling back a file that did not exist before).
type Write struct {
	Path   string
	Data   []byte
	Mode   fs.FileMode
	Remove bool
}

// WriteFiles writes every file atomically (a temporary file in the same
// directory, then mv), keeping the old content as PATH.bak-SUFFIX when
// backupSuffix is set. Links are refused. Content with NUL bytes cannot be
// sent and is refused.
func (t *Target) WriteFiles(ctx context.Context, files []Write, backupSuffix string) error {
	if len(files) == 0 {
		return nil
	}
	script, err := writeScript(files, backupSuffix)
	if err != nil {
		return err
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	sort.Strings(paths)
	_, err = t.Run(ctx, "write "+strings.Join(paths, ", "), script)
	return err
}

// UnitFiles reads the unit file service and its *.conf drop-ins from each
// of dirs, keyed by remote path (daemoncfg.FindUnitFiles then applies
// systemd's precedence to them).
func (t *Target) UnitFiles(ctx context.Context, dirs []string, service string) (map[string]File, error) {
	var b strings.Builder
	for _, d := range dirs {
		u, dd := Quote(path.Join(d, service)), Quote(path.Join(d, service+".d"))
		fmt.Fprintf(&b, "[ -f %[1]s ] && echo %[1]s\nfor f in %[2]s/*.conf; do [ -f \"$f\" ] && echo \"$f\"; done\n", u, dd)
	}
	b.WriteString("true\n")
	out, err := t.Run(ctx, "list the docker.service unit files", b.String())
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "/") {
			paths = append(paths, l)
		}
	}
	if len(paths) == 0 {
		return map[string]File{}, nil
	}
	return t.ReadFiles(ctx, paths)
}

// writeScript is the shell script WriteFiles runs.
func writeScript(files []Write, backupSuffix string) (string, error) {
	var b strings.Builder
	b.WriteString("set -e\numask 077\n")
	// First refuse links for every file, so nothing is written when one is.
	for _, f := range files {
		fmt.Fprintf(&b, "if [ -L %[1]s ]; then echo %[2]s >&2; exit 3; fi\n", Quote(f.Path), Quote(f.Path+": refusing to write through a symbolic link"))
	}
	for i, f := range files {
		q := Quote(f.Path)
		if f.Remove {
			fmt.Fprintf(&b, "rm -f %s\n", q)
			continue
		}
		if bytes.IndexByte(f.Data, 0) >= 0 {
			return "", fmt.Errorf("%s: content with NUL bytes cannot be written", f.Path)
		}
		dir := path.Dir(f.Path)
		tmp := Quote(path.Join(dir, fmt.Sprintf(".%s.docker-tls-%d.tmp", path.Base(f.Path), i)))
		fmt.Fprintf(&b, "mkdir -p %s\n", Quote(dir))
		fmt.Fprintf(&b, "printf '%%s' %s > %s\n", Quote(string(f.Data)), tmp)
		fmt.Fprintf(&b, "chmod %04o %s\n", f.Mode.Perm(), tmp)
		if backupSuffix != "" {
			fmt.Fprintf(&b, "if [ -f %[1]s ] && ! cmp -s %[1]s %[2]s; then cp -p %[1]s %[3]s; fi\n", q, tmp, Quote(f.Path+".bak-"+backupSuffix))
		}
		fmt.Fprintf(&b, "mv -f %s %s\n", tmp, q)
	}
	return b.String(), nil
}

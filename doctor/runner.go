package doctor

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/pki/fsutil"
)

// runner collects findings and sources for one run. It is safe for
// concurrent use by the certs.d workers.
type runner struct {
	o *Options

	mu       sync.Mutex
	findings []catalog.Finding
	sources  []catalog.Source

	// subs maps a logical directory to a root opened on it, while a
	// certs.d worker scans that directory.
	subs sync.Map
	// held maps a logical directory to the same directory held open by
	// descriptor (pki/fsutil.Dir) while a certs.d root is scanned:
	// enterDir opens its entries relative to it.
	held sync.Map
	// raw maps a quoted display path back to its raw path.
	raw sync.Map
	// rootLoader maps an on-disk certs.d root to the loader that reads
	// its registry directories; unmodelled holds those of its registry
	// directories that could not be listed (no loader model: their
	// findings name no loader).
	rootLoader, unmodelled sync.Map
	// models maps a registry directory being scanned to its loader
	// model's reads (*modelFS), so each file is read once.
	models sync.Map
	// factsOnce guards asking the caller for the loaders' versions.
	factsOnce sync.Once
}

// rawOf is the raw path a display text names.
func (r *runner) rawOf(display string) string {
	if v, ok := r.raw.Load(display); ok {
		return v.(string)
	}
	return display
}

// resolve returns the file system and name to read logical path p with.
func (r *runner) resolve(p string) (fs.FS, string) {
	p = cleanPath(p)
	if s, ok := r.subs.Load(dirOf(p)); ok {
		return s.(*rootFS), path.Base(p)
	}
	if s, ok := r.subs.Load(p); ok {
		return s.(*rootFS), "."
	}
	return r.o.FS, fsPath(p)
}

// enterDir opens dir as its own root (when reading through RootFS) until
// the returned function is called.
func (r *runner) enterDir(dir string) func() {
	rf, ok := r.o.FS.(*rootFS)
	if !ok {
		return func() {}
	}
	dir = cleanPath(dir)
	var sub *rootFS
	var err error
	if h, ok := r.held.Load(dirOf(dir)); ok {
		sub, err = rf.subAt(h.(*fsutil.Dir), fsPath(dir))
	} else {
		sub, err = rf.sub(fsPath(dir))
	}
	if err != nil {
		return func() {}
	}
	r.subs.Store(dir, sub)
	return func() {
		r.subs.Delete(dir)
		sub.close()
	}
}

// holdDir holds dir open by descriptor (when reading through RootFS, on
// systems with pki/fsutil.Dir) until the returned function is called.
func (r *runner) holdDir(dir string) func() {
	rf, ok := r.o.FS.(*rootFS)
	if !ok {
		return func() {}
	}
	d := rf.openDir(fsPath(dir))
	if d == nil {
		return func() {}
	}
	dir = cleanPath(dir)
	r.held.Store(dir, d)
	return func() {
		r.held.Delete(dir)
		d.Close()
	}
}

// streamDir is walkDirStream, through the descriptor holdDir holds for
// dir when there is one: one read of the directory gives names and types
// (os.Root's ReadDir looks at every entry with an lstat).
func (r *runner) streamDir(dir string, fn func(fs.DirEntry)) error {
	h, ok := r.held.Load(cleanPath(dir))
	if !ok {
		return walkDirStream(r.o.FS, dir, fn)
	}
	return h.(*fsutil.Dir).Each(func(name string, typ fs.FileMode) {
		e := heldEntry{r: r, dir: dir, name: name, typ: typ}
		if typ == fsutil.TypeUnknown {
			// The file system does not say: look, as os does.
			e.typ = 0
			if fi, err := e.Info(); err == nil {
				e.typ = fi.Mode().Type()
			}
		}
		fn(e)
	})
}

// heldEntry is an entry streamDir listed.
type heldEntry struct {
	r         *runner
	dir, name string // the path is joined only when Info is asked
	typ       fs.FileMode
}

func (e heldEntry) Name() string      { return e.name }
func (e heldEntry) IsDir() bool       { return e.typ.IsDir() }
func (e heldEntry) Type() fs.FileMode { return e.typ }
func (e heldEntry) Info() (fs.FileInfo, error) {
	fsys, name := e.r.resolve(fsutil.Join(e.dir, e.name))
	if l, ok := fsys.(fs.ReadLinkFS); ok {
		return l.Lstat(name)
	}
	return fs.Stat(fsys, name)
}

func (r *runner) readFile(p string) (fileInfo, []byte) {
	p = cleanPath(p)
	if m, ok := r.models.Load(dirOf(p)); ok {
		if cr, ok := m.(*modelFS).cached(p); ok {
			return cr.fi, cr.data
		}
	}
	fsys, name := r.resolve(p)
	return readFile(fsys, name, p)
}

func (r *runner) stat(p string) fileInfo {
	fsys, name := r.resolve(p)
	return statPath(fsys, name, p)
}

func (r *runner) readDir(p string) ([]fs.DirEntry, error) {
	fsys, name := r.resolve(p)
	return fs.ReadDir(fsys, name)
}

// readDirNames lists the names in directory p, sorted. Through RootFS it
// does not stat the entries (os.File.Readdirnames), which matters for a
// certs.d with thousands of directories.
func (r *runner) readDirNames(p string) ([]string, error) {
	fsys, name := r.resolve(p)
	var names []string
	if rf, ok := fsys.(*rootFS); ok {
		var err error
		if names, err = rf.readDirNames(name); err != nil {
			return nil, err
		}
	} else {
		entries, err := fs.ReadDir(fsys, name)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// isDir reports whether p is a directory (following symbolic links).
func (r *runner) isDir(p string) bool {
	fsys, name := r.resolve(p)
	st, err := fs.Stat(fsys, name)
	return err == nil && st.IsDir()
}

// add records a finding of check id. Severity comes from the catalog.
func (r *runner) add(id, subject, msg, fix string, ev map[string]string) {
	r.addSev(id, "", subject, msg, fix, ev)
}

// addSev records a finding with severity sev, or the catalog's when sev is
// empty.
func (r *runner) addSev(id string, sev catalog.Severity, subject, msg, fix string, ev map[string]string) {
	if sev == "" {
		sev = catalog.SeverityError
		if c, ok := catalog.Lookup(id); ok {
			sev = c.Severity
		}
	}
	f := catalog.Finding{CheckID: id, Severity: sev, Subject: printable(subject), Message: printable(msg), Fix: printable(fix), Evidence: ev}
	raw, rawTo, ldr := r.rawOf(subject), "", ""
	if to := ev[EvidenceRenameTo]; to != "" {
		rawTo = r.rawOf(to)
	}
	ldr = r.loaderOf(raw)
	f.SetFacts(raw, rawTo, ldr)
	for k, v := range ev {
		ev[k] = printable(v)
	}
	r.mu.Lock()
	r.findings = append(r.findings, f)
	r.mu.Unlock()
}

// loaderOf is the loader that reads the registry directory holding raw
// (an on-disk path), "" when raw is not in a registry directory a certs.d
// scan modelled.
func (r *runner) loaderOf(raw string) string {
	dir := path.Dir(raw)
	if dir == raw || path.Dir(dir) == dir {
		return ""
	}
	if _, ok := r.unmodelled.Load(dir); ok {
		return ""
	}
	if l, ok := r.rootLoader.Load(path.Dir(dir)); ok {
		return l.(string)
	}
	return ""
}

func (r *runner) source(s catalog.Source) {
	s.Kind, s.Path, s.Detail = printable(s.Kind), printable(s.Path), printable(s.Detail)
	r.mu.Lock()
	r.sources = append(r.sources, s)
	r.mu.Unlock()
}

// disp is how a logical path is shown: prefixed with the root when the
// doctor reads a tree mounted somewhere else. A path that is not valid
// UTF-8 or holds a control character is shown Go-quoted ("ca\xfe.crt"),
// so that text and JSON output (which must be UTF-8) name it exactly and
// on one line.
func (r *runner) disp(p string) string {
	p = r.onDisk(p)
	if needsQuote(p) {
		d := strconv.Quote(p)
		r.raw.Store(d, p)
		return d
	}
	return p
}

func (r *runner) onDisk(p string) string {
	root := r.o.Root
	if root == "" || root == "/" {
		return p
	}
	return path.Join(root, p)
}

// q is disp, shell-quoted for fix commands: $'...' with \xHH escapes for
// a name disp quotes.
func (r *runner) q(p string) string {
	p = r.onDisk(p)
	if needsQuote(p) {
		return ansiCQuote(p)
	}
	return shq(p)
}

// needsQuote reports a name that is not valid UTF-8 or holds a
// non-printable character (a newline, for example).
func needsQuote(s string) bool {
	return !utf8.ValidString(s) || strings.IndexFunc(s, func(c rune) bool { return !unicode.IsPrint(c) }) >= 0
}

// ansiCQuote quotes s for bash, ksh and zsh (and POSIX.1-2024 sh) as
// $'...', writing invalid bytes and non-printable characters as \xHH.
func ansiCQuote(s string) string {
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		c, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c == utf8.RuneError && n <= 1, !unicode.IsPrint(c):
			for _, x := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, "\\x%02x", x)
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	b.WriteByte('\'')
	return b.String()
}

// printable keeps report text valid UTF-8 and on one line: invalid bytes
// and non-printable characters that reached it some other way than disp
// (a base name, an error message) are written as \xHH.
func printable(s string) string {
	if !needsQuote(s) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// shq quotes s for a POSIX shell when needed.
func shq(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/._-:=@%+,", c))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func date(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return itoa(n) + " " + word + "s"
}

func itoa(n int) string {
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// finish sorts and de-duplicates: the same file can be reached through
// two roles (DOCKER_CERT_PATH equal to ~/.docker, for example).
func (r *runner) finish() *catalog.Report {
	fs := r.findings
	sort.SliceStable(fs, func(i, j int) bool { return findingLess(&fs[i], &fs[j]) })
	out := fs[:0]
	for i := range fs {
		if len(out) > 0 {
			p := &out[len(out)-1]
			if p.CheckID == fs[i].CheckID && p.Subject == fs[i].Subject && p.Message == fs[i].Message {
				continue
			}
		}
		out = append(out, fs[i])
	}
	src := r.sources
	sort.SliceStable(src, func(i, j int) bool {
		if src[i].Kind != src[j].Kind {
			return src[i].Kind < src[j].Kind
		}
		return src[i].Path < src[j].Path
	})
	dedup := src[:0]
	for i := range src {
		if len(dedup) > 0 && dedup[len(dedup)-1] == src[i] {
			continue
		}
		dedup = append(dedup, src[i])
	}
	out = catalog.CausesFirst(out)
	root := r.o.Root
	if root == "/" {
		root = ""
	}
	rep := &catalog.Report{SchemaVersion: catalog.SchemaVersion, Root: root, Now: r.o.Now.UTC().Format(time.RFC3339), Sources: dedup, Findings: out}
	if rep.Sources == nil {
		rep.Sources = []catalog.Source{}
	}
	if rep.Findings == nil {
		rep.Findings = []catalog.Finding{}
	}
	rep.Summarize()
	return rep
}

func findingLess(a, b *catalog.Finding) bool {
	if a.Subject != b.Subject {
		return a.Subject < b.Subject
	}
	if a.Severity.Rank() != b.Severity.Rank() {
		return a.Severity.Rank() < b.Severity.Rank()
	}
	if a.CheckID != b.CheckID {
		return a.CheckID < b.CheckID
	}
	return a.Message < b.Message
}

// Run reads everything the doctor knows about and runs every check.
func Run(opts Options) (*catalog.Report, error) {
	if err := opts.normalise(); err != nil {
		return nil, err
	}
	r := &runner{o: &opts}
	cfg := r.loadClientConfig()
	d := r.inspectDaemon()
	r.inspectClient(cfg, d)
	r.scanCertsDirs(cfg, d)
	return r.finish(), nil
}

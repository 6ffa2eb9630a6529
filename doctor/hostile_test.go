//go:build linux

package doctor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/render"
	"github.com/docker-tls/docker-tls/pki"
	"github.com/docker-tls/docker-tls/pki/fsutil"
)

// The hostile-files tests build their trees at test time (a 1 GiB sparse
// file, FIFOs, a device node, symbolic link loops and names that are not
// UTF-8 have no place in git) and check that the doctor reports each
// hostile entry as a finding, or skips it with a reason, finishes, reads
// no more than the size cap, changes nothing, and still checks the healthy
// registry next to them.

const (
	hostileHome  = "/home/alice"
	hostileCerts = "/etc/docker/certs.d"
	// hostileDeadline is a hang guard, not a speed assertion.
	hostileDeadline = 20 * time.Second
	// hostileAllocBudget bounds everything the run allocates: far below the
	// 1 GiB and 5 MB files, so neither can have been read whole.
	hostileAllocBudget = 64 << 20
	nobody             = 65534
)

// hostileMaterial is the PEM the hostile trees are made of.
type hostileMaterial struct {
	caPEM, expiredCAPEM, clientPEM, clientKeyPEM, expiredClientPEM []byte
}

func newHostileMaterial(t *testing.T) *hostileMaterial {
	t.Helper()
	ca, err := pki.NewCA(pki.Request{CommonName: "hostile CA", Now: fixtureNow.AddDate(-1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	old, err := pki.NewCA(pki.Request{CommonName: "expired CA", Now: fixtureNow.AddDate(-2, 0, 0), Days: 30})
	if err != nil {
		t.Fatal(err)
	}
	issuer := &pki.CA{Cert: ca.Cert, Key: ca.Key}
	client, err := issuer.Issue(pki.Request{Role: pki.RoleClient, CommonName: "alice", Now: fixtureNow.AddDate(0, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := issuer.Issue(pki.Request{Role: pki.RoleClient, CommonName: "expired alice", Now: fixtureNow.AddDate(0, -6, 0), Days: 30, Key: client.Key})
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := client.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return &hostileMaterial{caPEM: ca.CertPEM(), expiredCAPEM: old.CertPEM(), clientPEM: client.CertPEM(), clientKeyPEM: keyPEM, expiredClientPEM: expired.CertPEM()}
}

// hostileTree creates the files and special files under root.
type hostileTree struct {
	t    *testing.T
	root string
}

func (h hostileTree) abs(p string) string { return filepath.Join(h.root, filepath.FromSlash(p)) }

func (h hostileTree) mkdir(p string) {
	h.t.Helper()
	if err := os.MkdirAll(h.abs(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
}

func (h hostileTree) file(p string, data []byte, mode os.FileMode) {
	h.t.Helper()
	h.mkdir(filepath.Dir(p))
	if err := os.WriteFile(h.abs(p), data, mode); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Chmod(h.abs(p), mode); err != nil {
		h.t.Fatal(err)
	}
}

func (h hostileTree) sparse(p string, size int64) {
	h.t.Helper()
	h.mkdir(filepath.Dir(p))
	f, err := os.Create(h.abs(p))
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		h.t.Fatal(err)
	}
}

func (h hostileTree) fifo(p string) {
	h.t.Helper()
	h.mkdir(filepath.Dir(p))
	if err := syscall.Mkfifo(h.abs(p), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h hostileTree) symlink(target, p string) {
	h.t.Helper()
	h.mkdir(filepath.Dir(p))
	if err := os.Symlink(target, h.abs(p)); err != nil {
		h.t.Fatal(err)
	}
}

func (h hostileTree) chmod(p string, mode os.FileMode) {
	h.t.Helper()
	if err := os.Chmod(h.abs(p), mode); err != nil {
		h.t.Fatal(err)
	}
}

// Registry directories of the hostile tree, and their logical paths.
const (
	hostileHealthy  = hostileCerts + "/healthy.example:5000"
	hostileBig      = hostileCerts + "/big.example:5000/ca.crt"
	hostileFIFO     = hostileCerts + "/fifo.example:5000/ca.crt"
	hostileDevice   = hostileCerts + "/dev.example:5000/client.cert"
	hostileLoop     = hostileCerts + "/loop.example:5000/ca.crt"
	hostileLoopDirA = hostileCerts + "/loopa.example:5000"
	hostileLoopDirB = hostileCerts + "/loopb.example:5000"
	hostileDirCRT   = hostileCerts + "/dir.example:5000/ca.crt"
	hostileBadDir   = hostileCerts + "/reg\xff.example:5000"
	hostileBadFile  = hostileCerts + "/names.example:5000/ca\xfe.crt"
	hostileCtrlFile = hostileCerts + "/names.example:5000/new\nline.crt"
	hostileHuge     = hostileCerts + "/many.example:5000/ca.crt"
	hostileMany     = hostileCerts + "/bundle.example:5000/ca.crt"
	hostileTiny     = hostileCerts + "/tiny.example:5000/ca.crt"
	hostileNoEnd    = hostileCerts + "/noend.example:5000/ca.crt"
	hostileCut      = hostileCerts + "/cut.example:5000/client.cert"
	hostileCutTail  = hostileCerts + "/tail.example:5000/ca.crt"
	hostileClientCA = hostileHome + "/.docker/ca.pem"
	// Ordinary links, which os.Root alone refuses as "escaping": a
	// relative link out of the registry directory, absolute links to a
	// file and to a registry directory, and one that climbs above the
	// root (resolved as the kernel would in a chroot: it stops at /).
	hostileLinks   = hostileCerts + "/links.example:5000"
	hostileAbsDir  = hostileCerts + "/absdir.example:5000"
	hostileShared  = "/srv/shared"
	hostileClimber = hostileCerts + "/climb.example:5000/ca.crt"
)

// buildHostile writes the hostile tree; it returns how many certificates
// the bundle under the read cap holds.
func buildHostile(t *testing.T, root string, m *hostileMaterial) int {
	h := hostileTree{t, root}
	// The healthy registry: its expired client certificate must still be
	// reported, next to everything else.
	h.file(hostileHealthy+"/ca.crt", m.caPEM, 0o644)
	h.file(hostileHealthy+"/client.cert", m.expiredClientPEM, 0o644)
	h.file(hostileHealthy+"/client.key", m.clientKeyPEM, 0o600)

	h.sparse(hostileBig, 1<<30)
	h.fifo(hostileFIFO)
	h.fifo(hostileClientCA)
	h.mkdir(filepath.Dir(hostileDevice))
	if err := syscall.Mknod(h.abs(hostileDevice), syscall.S_IFCHR|0o644, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatalf("mknod %s: %v", hostileDevice, err)
	}
	// ca.crt -> b -> ca.crt
	h.symlink("b", hostileLoop)
	h.symlink("ca.crt", filepath.Dir(hostileLoop)+"/b")
	// Two registry directories that are links to each other.
	h.symlink("loopb.example:5000", hostileLoopDirA)
	h.symlink("loopa.example:5000", hostileLoopDirB)
	h.mkdir(hostileDirCRT)
	h.file(hostileDirCRT+"/inside.crt", m.caPEM, 0o644)
	// Names that are not UTF-8, and one with a control character.
	h.file(hostileBadDir+"/ca.crt", m.caPEM, 0o644)
	h.file(hostileBadFile, m.expiredCAPEM, 0o644)
	h.file(hostileCtrlFile, m.expiredCAPEM, 0o644)
	// 5,000 copies of a certificate: well over the read cap.
	h.file(hostileHuge, bytes.Repeat(m.caPEM, 5000), 0o644)
	// As many copies as fit under the cap: thousands of good blocks.
	n := (fsutil.MaxReadSize - 1) / len(m.caPEM)
	h.file(hostileMany, bytes.Repeat(m.caPEM, n), 0o644)
	// Thousands of tiny blocks that are not certificates.
	tiny := []byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n")
	h.file(hostileTiny, bytes.Repeat(tiny, 10000), 0o644)
	// Truncated PEM: a BEGIN line without END; a base64 body cut short
	// (with its END line, next to a good key); a bundle whose second
	// certificate was cut off.
	body := m.caPEM[:len(m.caPEM)/2]
	h.file(hostileNoEnd, body, 0o644)
	lines := strings.Split(strings.TrimSpace(string(m.clientPEM)), "\n")
	cut := strings.Join(lines[:len(lines)/2], "\n") + "\n" + lines[len(lines)-1] + "\n"
	h.file(hostileCut, []byte(cut), 0o644)
	h.file(filepath.Dir(hostileCut)+"/client.key", m.clientKeyPEM, 0o600)
	h.file(hostileCutTail, append(append([]byte{}, m.caPEM...), body...), 0o644)
	h.file(hostileShared+"/ca.pem", m.caPEM, 0o644)
	h.file(hostileShared+"/expired.cert", m.expiredClientPEM, 0o644)
	h.file(hostileShared+"/client.key", m.clientKeyPEM, 0o600)
	h.file(hostileShared+"/registry/ca.crt", m.expiredCAPEM, 0o644)
	h.symlink("../../../../srv/shared/ca.pem", hostileLinks+"/ca.crt")
	h.symlink(hostileShared+"/expired.cert", hostileLinks+"/client.cert")
	h.symlink(hostileShared+"/client.key", hostileLinks+"/client.key")
	h.symlink(hostileShared+"/registry", hostileAbsDir)
	h.symlink("../../../../../../../../../srv/shared/registry/ca.crt", hostileClimber)
	return n
}

// runHostile runs the doctor over root through RootFS, failing if it does
// not finish within hostileDeadline; it returns the report, how long it
// took and what it allocated.
func runHostile(t *testing.T, root string, env map[string]string) (*catalog.Report, time.Duration, uint64) {
	t.Helper()
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type result struct {
		rep   *catalog.Report
		err   error
		took  time.Duration
		alloc uint64
	}
	done := make(chan result, 1)
	go func() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		rep, err := Run(Options{FS: RootFS(r), Env: env, Now: fixtureNow, Workers: 2})
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		done <- result{rep, err, took, after.TotalAlloc - before.TotalAlloc}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatal(res.err)
		}
		return res.rep, res.took, res.alloc
	case <-time.After(hostileDeadline):
		t.Fatalf("the doctor did not finish within %s (blocked on a special file, or looping?)", hostileDeadline)
	}
	return nil, 0, 0
}

// wantFinding is one finding the hostile run must produce.
type wantFinding struct {
	id, subject, message string
}

func findingsFor(rep *catalog.Report, subject string) []catalog.Finding {
	var out []catalog.Finding
	for _, f := range rep.Findings {
		if f.Subject == subject {
			out = append(out, f)
		}
	}
	return out
}

func checkFindings(t *testing.T, rep *catalog.Report, want []wantFinding) {
	t.Helper()
	for _, w := range want {
		got := findingsFor(rep, w.subject)
		found := false
		for _, f := range got {
			if f.CheckID == w.id && f.Message == w.message {
				found = true
			}
		}
		if !found {
			var desc []string
			for _, f := range got {
				desc = append(desc, fmt.Sprintf("%s: %q", f.CheckID, f.Message))
			}
			t.Errorf("no %s finding for %q with message\n  %q\nfindings for that subject: %v", w.id, w.subject, w.message, desc)
		}
	}
}

func dumpReport(t *testing.T, rep *catalog.Report) {
	t.Helper()
	var b bytes.Buffer
	render.RenderText(&b, rep)
	t.Logf("report:\n%s", b.String())
}

// watchOpens reports the names opened, modified or created in dirs (an
// inotify watch on each directory) while the doctor runs.
type openWatch struct {
	fd    int
	watch map[int32]string
}

func watchDirs(t *testing.T, dirs ...string) *openWatch {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	w := &openWatch{fd: fd, watch: map[int32]string{}}
	const mask = unix.IN_OPEN | unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE
	for _, d := range dirs {
		wd, err := unix.InotifyAddWatch(fd, d, mask)
		if err != nil {
			unix.Close(fd)
			t.Fatalf("inotify watch %s: %v", d, err)
		}
		w.watch[int32(wd)] = d
	}
	return w
}

// events returns "OPEN path", "MODIFY path", ... for what happened.
func (w *openWatch) events(t *testing.T) []string {
	t.Helper()
	defer unix.Close(w.fd)
	var out []string
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(w.fd, buf)
		if err == unix.EAGAIN || n <= 0 {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := ""
			if ev.Len > 0 {
				raw := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				name = string(bytes.TrimRight(raw, "\x00"))
			}
			off += unix.SizeofInotifyEvent + int(ev.Len)
			p := filepath.Join(w.watch[ev.Wd], name)
			for _, k := range []struct {
				bit  uint32
				word string
			}{{unix.IN_OPEN, "OPEN"}, {unix.IN_MODIFY, "MODIFY"}, {unix.IN_ATTRIB, "ATTRIB"}, {unix.IN_CREATE, "CREATE"},
				{unix.IN_DELETE, "DELETE"}, {unix.IN_MOVED_FROM, "MOVED_FROM"}, {unix.IN_MOVED_TO, "MOVED_TO"}, {unix.IN_CLOSE_WRITE, "CLOSE_WRITE"}} {
				if ev.Mask&k.bit != 0 {
					out = append(out, k.word+" "+p)
				}
			}
		}
	}
}

func TestHostileFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the tree holds a character device node (mknod 1,3) where a client certificate is expected")
	}
	m := newHostileMaterial(t)
	root := filepath.Join(t.TempDir(), "root")
	bundleCerts := buildHostile(t, root, m)
	h := hostileTree{t, root}
	env := map[string]string{"HOME": hostileHome}

	before := treeSum(t, root)
	w := watchDirs(t, h.abs(filepath.Dir(hostileFIFO)), h.abs(filepath.Dir(hostileDevice)), h.abs(filepath.Dir(hostileClientCA)),
		h.abs(filepath.Dir(hostileBig)), h.abs(filepath.Dir(hostileHuge)), h.abs(filepath.Dir(hostileLoop)), h.abs(hostileHealthy))
	rep, took, alloc := runHostile(t, root, env)
	events := w.events(t)
	if after := treeSum(t, root); after != before {
		t.Errorf("the doctor changed the tree (content, mode or mtime)")
	}
	t.Logf("hostile run: %s, TotalAlloc %.1f MiB, %d findings (bundle of %d certificates under the cap)", took, float64(alloc)/(1<<20), len(rep.Findings), bundleCerts)
	if alloc > hostileAllocBudget {
		t.Errorf("the doctor allocated %.1f MiB, more than the %d MiB budget: did it read a file past the %d-byte cap?", float64(alloc)/(1<<20), hostileAllocBudget>>20, fsutil.MaxReadSize)
	}
	if testing.Verbose() {
		dumpReport(t, rep)
	}

	// Nothing opened that must not be, nothing written anywhere watched.
	for _, ev := range events {
		word, p, _ := strings.Cut(ev, " ")
		switch {
		case word != "OPEN":
			t.Errorf("the doctor changed the tree: inotify %s", ev)
		case p == h.abs(hostileFIFO), p == h.abs(hostileDevice), p == h.abs(hostileClientCA):
			t.Errorf("the doctor opened a special file: %s", p)
		case p == h.abs(hostileBig), p == h.abs(hostileHuge):
			t.Errorf("the doctor opened a file larger than the read cap: %s", p)
		}
	}

	notRead := func(size int) string {
		return fmt.Sprintf("is %d bytes, larger than the %d bytes certificate material can be: not read", size, fsutil.MaxReadSize)
	}
	esc := func(p string) string { return fmt.Sprintf("%q", p) }
	want := []wantFinding{
		// The healthy registry is still checked.
		{catalog.IDCertExpired, hostileHealthy + "/client.cert",
			hostileHealthy + "/client.cert (client certificate \"expired alice\") expired on 2025-07-31 (154 days ago): \"x509: certificate has expired or is not yet valid\""},
		// A 1 GiB sparse ca.crt: its size is enough, it is never opened.
		{catalog.IDFileUnreadable, hostileBig, hostileBig + " (CA certificate) " + notRead(1<<30)},
		// A FIFO and a character device where a certificate is expected.
		{catalog.IDFileUnreadable, hostileFIFO, hostileFIFO + " (CA certificate) is a FIFO, not a regular file: not read"},
		{catalog.IDFileUnreadable, hostileClientCA, hostileClientCA + " (CA certificate) is a FIFO, not a regular file: not read"},
		{catalog.IDFileUnreadable, hostileDevice, hostileDevice + " (client certificate) is a character device, not a regular file: not read"},
		// ca.crt -> b -> ca.crt.
		{catalog.IDFileUnreadable, hostileLoop, hostileLoop + " (CA certificate) is a symbolic link to b that loops (too many levels of symbolic links)"},
		// Registry directories that are symbolic links to each other.
		{catalog.IDFileUnreadable, hostileLoopDirA, hostileLoopDirA + " is a symbolic link to loopb.example:5000 that loops (too many levels of symbolic links): Docker cannot read it as a registry directory"},
		{catalog.IDFileUnreadable, hostileLoopDirB, hostileLoopDirB + " is a symbolic link to loopa.example:5000 that loops (too many levels of symbolic links): Docker cannot read it as a registry directory"},
		// A directory named ca.crt.
		{catalog.IDFileUnreadable, hostileDirCRT, hostileDirCRT + " (CA certificate) is a directory, not a regular file: not read"},
		// Names that are not valid UTF-8 (or hold a control character) are
		// shown quoted with Go escapes, so text and JSON name them exactly.
		{catalog.IDCertsDIgnoredFile, esc(hostileBadDir),
			esc(hostileBadDir) + " does not name a registry: its name is not valid UTF-8 (or holds a control character), which no image reference can, so it is never used"},
		{catalog.IDCertExpired, esc(hostileBadFile),
			esc(hostileBadFile) + " (CA certificate \"expired CA\") expired on 2024-01-31 (701 days ago): \"x509: certificate has expired or is not yet valid\""},
		{catalog.IDCertExpired, esc(hostileCtrlFile),
			esc(hostileCtrlFile) + " (CA certificate \"expired CA\") expired on 2024-01-31 (701 days ago): \"x509: certificate has expired or is not yet valid\""},
		// 5,000 certificates (over the cap): not read.
		{catalog.IDFileUnreadable, hostileHuge, hostileHuge + " (CA certificate) " + notRead(5000*len(m.caPEM))},
		// Thousands of blocks that do not parse.
		{catalog.IDCertsDCRTNotPEM, hostileTiny,
			hostileTiny + " holds 10000 PEM blocks but no certificate that parses (PEM block 1 (CERTIFICATE) does not parse: x509: malformed tbs certificate): the classic loader skips it without a message (AppendCertsFromPEM), so the registry's certificate fails with \"x509: certificate signed by unknown authority\""},
		// Truncated PEM.
		{catalog.IDCertsDCRTNotPEM, hostileNoEnd,
			hostileNoEnd + " is not PEM (no PEM data; it ends with a BEGIN line without its END line: truncated?): the classic loader skips it without a message (AppendCertsFromPEM), so the registry's certificate fails with \"x509: certificate signed by unknown authority\""},
		{catalog.IDWrongFormatUnknown, hostileCut,
			hostileCut + " (client certificate): PEM block 1 (CERTIFICATE) does not parse: x509: malformed certificate, expected a PEM certificate"},
		// Links are followed like the kernel follows them.
		{catalog.IDCertExpired, hostileLinks + "/client.cert",
			hostileLinks + "/client.cert (client certificate \"expired alice\") expired on 2025-07-31 (154 days ago): \"x509: certificate has expired or is not yet valid\""},
		{catalog.IDCertExpired, hostileAbsDir + "/ca.crt",
			hostileAbsDir + "/ca.crt (CA certificate \"expired CA\") expired on 2024-01-31 (701 days ago): \"x509: certificate has expired or is not yet valid\""},
		{catalog.IDCertExpired, hostileClimber,
			hostileClimber + " (CA certificate \"expired CA\") expired on 2024-01-31 (701 days ago): \"x509: certificate has expired or is not yet valid\""},
		{catalog.IDPEMTruncated, hostileCutTail,
			hostileCutTail + " (CA certificate) ends with a BEGIN line without its END line (truncated?): Docker reads the 1 certificate before it and ignores the rest"},
	}
	checkFindings(t, rep, want)

	// Every finding has a check the catalog knows, a fix, and one line.
	for _, f := range rep.Findings {
		if _, ok := catalog.Lookup(f.CheckID); !ok {
			t.Errorf("finding with unknown check ID %q", f.CheckID)
		}
		if f.Message == "" || f.Fix == "" || f.Subject == "" {
			t.Errorf("finding %s lacks message, fix or subject: %+v", f.CheckID, f)
		}
		if strings.Contains(f.Message, "\n") || strings.Contains(f.Fix, "\n") || strings.Contains(f.Subject, "\n") {
			t.Errorf("finding %s is not one line: %q / %q", f.CheckID, f.Message, f.Fix)
		}
	}
	// The fix for a name that is not UTF-8 names it in a form the shell
	// turns back into the same bytes.
	for _, f := range findingsFor(rep, esc(hostileBadDir)) {
		if !strings.Contains(f.Fix, `rename $'/etc/docker/certs.d/reg\xff.example:5000' to`) {
			t.Errorf("fix for %s: %q", hostileBadDir, f.Fix)
		}
	}
	for _, f := range findingsFor(rep, esc(hostileBadFile)) {
		if f.CheckID == catalog.IDCertExpired && !strings.Contains(f.Fix, `$'`+hostileCerts+`/names.example:5000/ca\xfe.crt'`) {
			t.Errorf("fix for %s does not name it with $'...': %q", hostileBadFile, f.Fix)
		}
	}
	for _, f := range rep.Findings {
		if f.CheckID == catalog.IDFileUnreadable && (strings.HasPrefix(f.Subject, hostileLinks) || strings.HasPrefix(f.Subject, hostileAbsDir) || f.Subject == hostileClimber) {
			t.Errorf("a link that resolves inside the root is reported unreadable: %s", f.Message)
		}
	}
	// The bundle of thousands of good copies under the cap: read, parsed,
	// no finding (the copies are one valid CA).
	if got := findingsFor(rep, hostileMany); len(got) != 0 {
		t.Errorf("bundle of %d copies of a valid CA: unexpected findings %+v", bundleCerts, got)
	}
	// The certs.d root is read, and counts the registry directories it
	// could read.
	var certsSrc *catalog.Source
	for i := range rep.Sources {
		if rep.Sources[i].Path == hostileCerts {
			certsSrc = &rep.Sources[i]
		}
	}
	if certsSrc == nil || certsSrc.Status != catalog.StatusFound {
		t.Errorf("certs.d source: %+v", certsSrc)
	}

	// Text and JSON output are valid UTF-8 and name the files exactly.
	var txt, js bytes.Buffer
	if err := render.RenderText(&txt, rep); err != nil {
		t.Fatal(err)
	}
	if err := render.RenderJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(txt.Bytes()) {
		t.Errorf("text output is not valid UTF-8")
	}
	if !utf8.Valid(js.Bytes()) {
		t.Errorf("JSON output is not valid UTF-8")
	}
	if bytes.ContainsRune(js.Bytes(), utf8.RuneError) || bytes.ContainsRune(txt.Bytes(), utf8.RuneError) {
		t.Errorf("output holds U+FFFD: a name lost its bytes")
	}
	validateReportJSON(t, js.Bytes())
	var back catalog.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for i := range rep.Findings {
		if back.Findings[i].Subject != rep.Findings[i].Subject || back.Findings[i].Message != rep.Findings[i].Message {
			t.Errorf("JSON changed finding %d: %q -> %q", i, rep.Findings[i].Subject, back.Findings[i].Subject)
		}
	}
	for _, s := range []string{`"subject": "\"/etc/docker/certs.d/reg\\xff.example:5000\""`, `"subject": "\"/etc/docker/certs.d/names.example:5000/ca\\xfe.crt\""`} {
		if !strings.Contains(js.String(), s) {
			t.Errorf("JSON does not name %s", s)
		}
	}
	if !strings.Contains(txt.String(), `"/etc/docker/certs.d/reg\xff.example:5000"`) {
		t.Errorf("text does not name the registry directory with its escaped name")
	}
}

// TestHostileUnreadable checks permission errors. Root reads a mode 000
// directory or file anyway (CAP_DAC_OVERRIDE), as dockerd does, so run as
// root the doctor rightly reports nothing about them; the same tree is
// then checked by the doctor running as nobody (a child process of this
// test binary that drops to uid/gid 65534 before reading), which is what a
// non-root user running docker tls doctor sees.
func TestHostileUnreadable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: it checks what root sees (CAP_DAC_OVERRIDE) and then drops to uid 65534")
	}
	m := newHostileMaterial(t)
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	h := hostileTree{t, root}
	const (
		locked     = hostileCerts + "/locked.example:5000"
		lockedFile = hostileCerts + "/file.example:5000/ca.crt"
		ok         = hostileCerts + "/ok.example:5000"
		config     = hostileHome + "/.docker/config.json"
		rootless   = hostileHome + "/.config/docker/certs.d"
	)
	h.file(locked+"/ca.crt", m.caPEM, 0o644)
	h.file(lockedFile, m.caPEM, 0o644)
	h.file(ok+"/ca.crt", m.caPEM, 0o644)
	h.file(ok+"/client.cert", m.expiredClientPEM, 0o644)
	h.file(ok+"/client.key", m.clientKeyPEM, 0o644) // readable by nobody: a key-permissions warning
	h.file(config, []byte(`{"auths":{}}`), 0o644)
	h.file(rootless+"/other.example:5000/ca.crt", m.caPEM, 0o644)
	h.chmod(locked, 0)
	h.chmod(lockedFile, 0)
	h.chmod(config, 0)
	h.chmod(rootless, 0)
	// nobody must be able to reach the tree.
	for _, d := range []string{filepath.Dir(tmp), tmp} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"HOME": hostileHome}
	before := treeSum(t, root)

	// What root sees: everything, as dockerd does.
	rep, _, _ := runHostile(t, root, env)
	for _, f := range rep.Findings {
		if f.CheckID == catalog.IDFileUnreadable {
			t.Errorf("as root: %s: %s", f.CheckID, f.Message)
		}
	}
	for _, s := range rep.Sources {
		if s.Status == catalog.StatusUnreadable {
			t.Errorf("as root: source %+v", s)
		}
	}
	checkFindings(t, rep, []wantFinding{{catalog.IDCertExpired, ok + "/client.cert",
		ok + "/client.cert (client certificate \"expired alice\") expired on 2025-07-31 (154 days ago): \"x509: certificate has expired or is not yet valid\""}})

	// What nobody sees.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileUnprivilegedHelper$", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), "DOCKER_TLS_HOSTILE_ROOT="+root)
	cmd.ExtraFiles = []*os.File{pw}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	out, _ := io.ReadAll(pr)
	pr.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("unprivileged doctor: %v\n%s", err, stderr.String())
	}
	var urep catalog.Report
	if err := json.Unmarshal(out, &urep); err != nil {
		t.Fatalf("unprivileged doctor output: %v\n%s\n%s", err, out, stderr.String())
	}
	if testing.Verbose() {
		dumpReport(t, &urep)
	}
	checkFindings(t, &urep, []wantFinding{
		{catalog.IDFileUnreadable, locked, locked + " cannot be listed: permission denied"},
		{catalog.IDFileUnreadable, lockedFile, lockedFile + " (CA certificate) cannot be read: permission denied"},
		// The rest is still checked.
		{catalog.IDCertExpired, ok + "/client.cert",
			ok + "/client.cert (client certificate \"expired alice\") expired on 2025-07-31 (154 days ago): \"x509: certificate has expired or is not yet valid\""},
		{catalog.IDKeyPermissions, ok + "/client.key", ok + "/client.key (client key) has mode 0644: readable by group and others"},
	})
	wantSources := map[string]catalog.Source{
		config:   {Kind: "client config", Path: config, Status: catalog.StatusUnreadable, Detail: "cannot be read: permission denied"},
		rootless: {Kind: "certs.d (rootless docker)", Path: rootless, Status: catalog.StatusUnreadable, Detail: "permission denied"},
	}
	var paths []string
	for p := range wantSources {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		found := false
		for _, s := range urep.Sources {
			if s == wantSources[p] {
				found = true
			}
		}
		if !found {
			t.Errorf("as nobody: no source %+v in %+v", wantSources[p], urep.Sources)
		}
	}
	if after := treeSum(t, root); after != before {
		t.Errorf("the doctor changed the tree (content, mode or mtime)")
	}
}

// TestHostileUnprivilegedHelper is TestHostileUnreadable's child: it drops
// to nobody and writes the doctor's JSON report to file descriptor 3.
func TestHostileUnprivilegedHelper(t *testing.T) {
	root := os.Getenv("DOCKER_TLS_HOSTILE_ROOT")
	if root == "" {
		t.Skip("run by TestHostileUnreadable")
	}
	out := os.NewFile(3, "report")
	if err := syscall.Setgroups(nil); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setgid(nobody); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setuid(nobody); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rep, err := Run(Options{FS: RootFS(r), Env: map[string]string{"HOME": hostileHome}, Now: fixtureNow, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := render.RenderJSON(out, rep); err != nil {
		t.Fatal(err)
	}
	out.Close()
}

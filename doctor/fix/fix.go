// Package fix applies the doctor's safe fixes: only changes that cannot
// lose data and that a user would make by hand (renaming a file to the name
// Docker reads, when nothing is in the way; removing group and other
// permissions from a private key). Every change is recorded first in an
// undo journal, so Undo restores the exact previous state. Everything else
// stays a printed fix.
package fix

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/doctor"
	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/pki/fsutil"
)

// Kind is what an action does.
type Kind string

const (
	// Rename renames Path to To within one directory, never replacing a file.
	Rename Kind = "rename"
	// Chmod changes Path's permission bits from OldMode to NewMode.
	Chmod Kind = "chmod"
)

// Action is one planned change and the state it expects to find.
type Action struct {
	Kind  Kind   `json:"kind"`
	Check string `json:"check"`
	Path  string `json:"path"`
	To    string `json:"to,omitempty"`
	// OldMode is the file's mode before the action; NewMode after it
	// (the same for a rename).
	OldMode Mode `json:"oldMode"`
	NewMode Mode `json:"newMode"`
	// SHA256 and Size are the file's content, which no action changes.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// State is the action's progress in a journal: planned, applying,
	// applied or failed.
	State string `json:"state,omitempty"`
}

// Mode is a permission mode written as an octal string ("0600") in JSON.
type Mode fs.FileMode

func (m Mode) String() string { return fmt.Sprintf("%04o", uint32(m)) }

// MarshalJSON writes the mode as "0600".
func (m Mode) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

// UnmarshalJSON reads "0600".
func (m *Mode) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	var v uint32
	if _, err := fmt.Sscanf(s, "%o", &v); err != nil || v > 0o7777 {
		return fmt.Errorf("invalid mode %q: expected an octal mode like 0600", s)
	}
	*m = Mode(v)
	return nil
}

// Journal states.
const (
	statePlanned  = "planned"
	stateApplying = "applying"
	stateApplied  = "applied"
	stateFailed   = "failed"
)

// Journal is the undo record of one --fix run.
type Journal struct {
	Version int      `json:"version"`
	Created string   `json:"created"`
	Actions []Action `json:"actions"`
	Undone  string   `json:"undone,omitempty"`
	path    string   `json:"-"`
}

// Now is the clock for journal names and times (tests pin it).
var Now = time.Now

// KeyMode is the mode a private key is tightened to (owner bits kept, never
// added: a 0440 key becomes 0400).
const KeyMode fs.FileMode = 0o600

// Plan builds the safe fixes for rep's findings: renames the doctor marked
// as certain (evidence "rename_to": a CA saved as .cert, a client
// certificate saved as .crt next to its key, ignored .pem files in certs.d
// and docker CLI names there whose certs.d name is free) and tightening
// private key permissions (key-permissions). root is where the report's
// paths are on disk: "" when they are real paths (the doctor run on this
// machine, or with --root, whose paths include the root); the tree when
// the doctor read a tree through Options.FS without Options.Root.
//
// Plan reads the files (mode, content hash) but changes nothing. Findings
// whose file is gone, is not a regular file, or whose target exists are
// left out.
func Plan(rep *catalog.Report, root string) ([]Action, error) {
	if rep == nil {
		return nil, nil
	}
	var chmods, renames []Action
	seen := map[string]bool{}    // paths already acted on, per kind
	targets := map[string]bool{} // rename targets
	loaders := map[string]string{}
	for _, f := range rep.Findings {
		// Act on the finding's raw path, never its display text (which
		// quotes a name that is not UTF-8).
		raw := f.Path()
		if raw == "" {
			raw = f.Subject
		}
		p := onDisk(root, raw)
		switch {
		case f.CheckID == catalog.IDKeyPermissions:
			if seen["chmod "+p] {
				continue
			}
			a, ok, err := describe(p)
			if err != nil {
				return nil, err
			}
			if !ok || a.OldMode&0o077 == 0 {
				continue
			}
			a.Kind, a.Check, a.NewMode = Chmod, f.CheckID, Mode(fs.FileMode(a.OldMode)&KeyMode)
			seen["chmod "+p] = true
			chmods = append(chmods, a)
		case f.Evidence[doctor.EvidenceRenameTo] != "":
			rawTo := f.RenameTo()
			if rawTo == "" {
				rawTo = f.Evidence[doctor.EvidenceRenameTo]
			}
			to := onDisk(root, rawTo)
			if filepath.Dir(to) != filepath.Dir(p) || seen["rename "+p] || targets[to] {
				continue
			}
			if _, err := os.Lstat(to); !errors.Is(err, fs.ErrNotExist) {
				continue // something is in the way (or cannot be checked)
			}
			a, ok, err := describe(p)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			a.Kind, a.Check, a.To, a.NewMode = Rename, f.CheckID, to, a.OldMode
			seen["rename "+p] = true
			targets[to] = true
			renames = append(renames, a)
			loaders[p] = f.Loader()
		}
	}
	renames = keepSafeRenames(renames, loaders)
	sort.Slice(chmods, func(i, j int) bool { return chmods[i].Path < chmods[j].Path })
	sort.Slice(renames, func(i, j int) bool { return renames[i].Path < renames[j].Path })
	// A key both tightened and renamed is tightened first: the rename then
	// expects the new mode.
	for i := range renames {
		for _, c := range chmods {
			if c.Path == renames[i].Path {
				renames[i].OldMode, renames[i].NewMode = c.NewMode, c.NewMode
			}
		}
	}
	return append(chmods, renames...), nil
}

func onDisk(root, p string) string {
	if root == "" || root == "/" {
		return filepath.Clean(p)
	}
	return filepath.Join(root, p)
}

// describe reads a regular file's mode and content hash; ok is false when
// it is missing, a symbolic link or not a regular file.
func describe(p string) (Action, bool, error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Action{}, false, nil
	}
	if err != nil {
		return Action{}, false, fmt.Errorf("cannot plan a fix for %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return Action{}, false, nil
	}
	sum, size, err := hashFile(p)
	if err != nil {
		return Action{}, false, fmt.Errorf("cannot plan a fix for %s: %w", p, err)
	}
	return Action{Path: p, OldMode: Mode(fi.Mode().Perm()), SHA256: sum, Size: size}, true, nil
}

func hashFile(p string) (string, int64, error) {
	f, err := fsutil.OpenNoFollow(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, 16<<20))
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// DescribePlan is the list --fix and --fix --dry-run print: one line per
// action, in the order Apply runs them.
func DescribePlan(actions []Action) string {
	if len(actions) == 0 {
		return "Nothing to fix automatically; the findings' fixes above are for you to apply.\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d safe %s:\n", len(actions), plural(len(actions), "fix", "fixes"))
	for _, a := range actions {
		switch a.Kind {
		case Rename:
			fmt.Fprintf(&b, "  rename %s -> %s  [%s]\n", a.Path, filepath.Base(a.To), a.Check)
		case Chmod:
			fmt.Fprintf(&b, "  chmod %s %s (was %s)  [%s]\n", a.NewMode, a.Path, a.OldMode, a.Check)
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// DefaultJournalDir is where Apply keeps undo journals:
// $DOCKER_CONFIG/tls/fix-journal, else ~/.docker/tls/fix-journal.
func DefaultJournalDir(getenv func(string) string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "tls", "fix-journal")
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".docker", "tls", "fix-journal")
}

// Apply checks that every file is still as planned, then applies the
// actions in order. Before each change the journal (journalDir/<UTC
// time>.json, written atomically, mode 0600) records it, and after it
// records it done, so Undo can restore everything applied so far even
// when Apply stops half way. It returns the journal's path ("" when there
// was nothing to do).
func Apply(actions []Action, journalDir string) (string, error) {
	if len(actions) == 0 {
		return "", nil
	}
	// Check every file against the plan. The first action on a path
	// expects its mode now; a later one (a rename after a chmod) the mode
	// the earlier one leaves, which the plan already says.
	touched := map[string]bool{}
	for _, a := range actions {
		if err := checkBefore(a, !touched[a.Path]); err != nil {
			return "", err
		}
		touched[a.Path] = true
	}
	if err := os.MkdirAll(journalDir, 0o700); err != nil {
		return "", fmt.Errorf("cannot create the undo journal directory %s: %w", journalDir, err)
	}
	now := Now().UTC()
	j := &Journal{Version: 1, Created: now.Format(time.RFC3339Nano), Actions: append([]Action(nil), actions...)}
	j.path = filepath.Join(journalDir, now.Format("20060102T150405.000000000Z")+".json")
	for i := range j.Actions {
		j.Actions[i].State = statePlanned
	}
	if _, err := os.Lstat(j.path); err == nil {
		return "", fmt.Errorf("refusing to overwrite the undo journal %s", j.path)
	}
	for i := range j.Actions {
		a := &j.Actions[i]
		a.State = stateApplying
		if err := j.write(); err != nil {
			return "", err
		}
		err := apply(*a)
		if err != nil {
			a.State = stateFailed
			if werr := j.write(); werr != nil {
				return j.path, errors.Join(err, werr)
			}
			return j.path, err
		}
		a.State = stateApplied
		if err := j.write(); err != nil {
			return j.path, err
		}
	}
	return j.path, nil
}

// checkBefore verifies the file is as planned (its mode too when
// checkMode).
func checkBefore(a Action, checkMode bool) error {
	cur, ok, err := describe(a.Path)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("cannot fix %s: it is no longer a regular file; run docker tls doctor again", a.Path)
	}
	if cur.SHA256 != a.SHA256 || (checkMode && cur.OldMode != a.OldMode) {
		return fmt.Errorf("cannot fix %s: it changed since the plan was made; run docker tls doctor again", a.Path)
	}
	if a.Kind == Rename {
		if _, err := os.Lstat(a.To); err == nil {
			return fmt.Errorf("refusing to rename %s to %s: %s already exists", a.Path, a.To, a.To)
		}
	}
	return nil
}

func apply(a Action) error {
	switch a.Kind {
	case Rename:
		if err := renameNoReplace(a.Path, a.To); err != nil {
			return fmt.Errorf("renaming %s to %s: %w", a.Path, a.To, err)
		}
		return nil
	case Chmod:
		if err := chmodNoFollow(a.Path, fs.FileMode(a.NewMode)); err != nil {
			return fmt.Errorf("changing the mode of %s to %s: %w", a.Path, a.NewMode, err)
		}
		return nil
	}
	return fmt.Errorf("unknown fix kind %q", a.Kind)
}

// renameNoReplace renames within a directory and fails if to exists
// (fsutil.RenameNoReplace: renameat2(RENAME_NOREPLACE) on Linux,
// renamex_np(RENAME_EXCL) on macOS, MoveFileEx without replace on Windows).
func renameNoReplace(from, to string) error {
	err := fsutil.RenameNoReplace(from, to)
	if err == nil {
		syncDir(filepath.Dir(to))
	}
	return err
}

// chmodNoFollow changes a regular file's mode through a descriptor opened
// without following symbolic links.
func chmodNoFollow(p string, mode fs.FileMode) error { return fsutil.ChmodNoFollow(p, mode) }

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// write stores the journal atomically: a temporary file in the same
// directory, synced, then renamed over the journal.
func (j *Journal) write() error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	dir := filepath.Dir(j.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(j.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing the undo journal %s: %w", j.path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(data)
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), j.path)
		}
		if err == nil {
			syncDir(dir)
			return nil
		}
	}
	tmp.Close()
	return fmt.Errorf("writing the undo journal %s: %w", j.path, err)
}

// ReadJournal reads a journal written by Apply.
func ReadJournal(p string) (*Journal, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read the undo journal: %w", err)
	}
	j := &Journal{path: p}
	if err := json.Unmarshal(data, j); err != nil || j.Version != 1 {
		if err == nil {
			err = fmt.Errorf("version %d, expected 1", j.Version)
		}
		return nil, fmt.Errorf("%s is not a docker tls doctor --fix journal: %v", p, err)
	}
	return j, nil
}

// Latest returns the newest journal in dir.
func Latest(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("cannot read the undo journals in %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("no docker tls doctor --fix journal in %s: nothing to undo", dir)
	}
	sort.Strings(names)
	return filepath.Join(dir, names[len(names)-1]), nil
}

// Undo restores what the journal's applied actions changed, newest first:
// renames back (never replacing a file) and the old modes. It first checks
// every file is exactly as --fix left it (content hash, mode, name) and
// restores nothing if one is not. The journal is then marked undone and
// cannot be undone twice.
func Undo(journalPath string) error {
	j, err := ReadJournal(journalPath)
	if err != nil {
		return err
	}
	if j.Undone != "" {
		return fmt.Errorf("%s was already undone at %s", journalPath, j.Undone)
	}
	var todo []Action
	// moved maps a path that a later rename moved away to where it is now.
	moved := map[string]string{}
	for i := len(j.Actions) - 1; i >= 0; i-- {
		a := j.Actions[i]
		at := a.Path
		if m, ok := moved[a.Path]; ok && a.Kind == Chmod {
			at = m
		}
		done, err := happened(a, at)
		if err != nil {
			return fmt.Errorf("cannot undo %s: %w; nothing was restored", journalPath, err)
		}
		if done {
			todo = append(todo, a)
			if a.Kind == Rename {
				moved[a.Path] = a.To
			}
		}
	}
	for _, a := range todo {
		if err := undoOne(a); err != nil {
			return fmt.Errorf("undoing %s: %w (the journal %s lists what is left)", a.Path, err, journalPath)
		}
	}
	j.Undone = Now().UTC().Format(time.RFC3339Nano)
	return j.write()
}

// happened reports whether an action took effect, checking the file (now
// at at: a key tightened and then renamed is checked under its new name)
// is as the action left it.
func happened(a Action, at string) (bool, error) {
	switch a.State {
	case statePlanned, stateFailed, "":
		return false, nil
	}
	if a.Kind == Rename {
		at = a.To
		_, errTo := os.Lstat(a.To)
		_, errFrom := os.Lstat(a.Path)
		if a.State == stateApplying && errors.Is(errTo, fs.ErrNotExist) && errFrom == nil {
			return false, nil // stopped before the rename
		}
		if errFrom == nil {
			return false, fmt.Errorf("%s exists again", a.Path)
		}
	}
	cur, ok, err := describe(at)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, fmt.Errorf("%s is missing or no longer a regular file", at)
	}
	if cur.SHA256 != a.SHA256 {
		return false, fmt.Errorf("%s was changed after docker tls doctor --fix (content differs)", at)
	}
	if a.Kind == Chmod && a.State == stateApplying && cur.OldMode == a.OldMode {
		return false, nil // stopped before the chmod
	}
	if cur.OldMode != a.NewMode {
		return false, fmt.Errorf("%s was changed after docker tls doctor --fix (mode %s, expected %s)", at, cur.OldMode, a.NewMode)
	}
	return true, nil
}

func undoOne(a Action) error {
	switch a.Kind {
	case Rename:
		return renameNoReplace(a.To, a.Path)
	case Chmod:
		return chmodNoFollow(a.Path, fs.FileMode(a.OldMode))
	}
	return fmt.Errorf("unknown fix kind %q", a.Kind)
}

// keepSafeRenames keeps the renames the loader model approves: all of a
// directory's renames together when the loader, run on the planned tree,
// reads every renamed file and loses nothing (a client certificate and its
// key move together); otherwise each rename that is safe alone.
func keepSafeRenames(renames []Action, loaders map[string]string) []Action {
	byDir := map[string][]Action{}
	var dirs []string
	for _, a := range renames {
		d := filepath.Dir(a.Path)
		if byDir[d] == nil {
			dirs = append(dirs, d)
		}
		byDir[d] = append(byDir[d], a)
	}
	var out []Action
	for _, d := range dirs {
		group := byDir[d]
		kind := loaders[group[0].Path]
		all := map[string]string{}
		for _, a := range group {
			all[a.Path] = a.To
		}
		if renamesKeepLoads(kind, all) {
			out = append(out, group...)
			continue
		}
		for _, a := range group {
			if renamesKeepLoads(kind, map[string]string{a.Path: a.To}) {
				out = append(out, a)
			}
		}
	}
	return out
}

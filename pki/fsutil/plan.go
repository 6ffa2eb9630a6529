package fsutil

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File is one file a command means to write.
type File struct {
	Path string
	Data []byte
	Mode fs.FileMode
	// What the file is, for the user ("CA certificate", "client key").
	What string
}

// Plan is a set of files written together: every conflict is found before
// the first byte is written, so a refused install leaves nothing behind.
type Plan struct {
	Files []File
	// DirMode is the mode of directories the plan creates (default 0700).
	DirMode fs.FileMode
}

// Add appends a file to the plan.
func (p *Plan) Add(path string, data []byte, mode fs.FileMode, what string) {
	p.Files = append(p.Files, File{Path: path, Data: data, Mode: mode, What: what})
}

// Action is what applying the plan would do to one file.
type Action string

const (
	ActionCreate   Action = "create"
	ActionKeep     Action = "unchanged"
	ActionReplace  Action = "replace"
	ActionConflict Action = "conflict" // different content, --force not given
)

// Step is one file's planned action.
type Step struct {
	File
	Action Action
	Reason string
}

// Preview compares the plan with the disk without writing anything.
func (p *Plan) Preview(force bool) []Step {
	steps := make([]Step, 0, len(p.Files))
	for _, f := range p.Files {
		s := Step{File: f}
		if reason := linkedDir(dirOf(f.Path)); reason != "" {
			s.Action, s.Reason = ActionConflict, reason
			steps = append(steps, s)
			continue
		}
		fi, err := os.Lstat(f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			s.Action = ActionCreate
		case err != nil:
			s.Action, s.Reason = ActionConflict, err.Error()
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(f.Path)
			s.Action, s.Reason = ActionConflict, fmt.Sprintf("refusing to write %s: it is a symbolic link to %s; docker-tls does not write through links", f.Path, target)
		case !fi.Mode().IsRegular():
			s.Action, s.Reason = ActionConflict, "it is a "+DescribeMode(fi.Mode())+", not a regular file"
		default:
			old, err := readNoFollow(f.Path, fi.Size())
			switch {
			case err != nil:
				s.Action, s.Reason = ActionConflict, err.Error()
			case bytes.Equal(old, f.Data):
				s.Action = ActionKeep
			case force:
				s.Action = ActionReplace
			default:
				s.Action, s.Reason = ActionConflict, "exists with different content"
			}
		}
		steps = append(steps, s)
	}
	return steps
}

// Apply writes the plan. When any file conflicts (different content without
// force, a link, a special file) nothing is written and the error lists
// every conflicting file.
func (p *Plan) Apply(force bool) ([]Result, error) {
	var bad []string
	for _, s := range p.Preview(force) {
		if s.Action == ActionConflict {
			bad = append(bad, fmt.Sprintf("%s (%s): %s", s.Path, s.What, s.Reason))
		}
	}
	if len(bad) > 0 {
		hint := ""
		for _, b := range bad {
			if strings.HasSuffix(b, "exists with different content") {
				hint = "\nuse --force to replace them (old files are kept as .bak-<time> backups)"
			}
		}
		return nil, fmt.Errorf("nothing was written; %d %s in the way:\n  %s%s: %w", len(bad), pluralFiles(len(bad)), strings.Join(bad, "\n  "), hint, ErrExists)
	}
	mode := p.DirMode
	if mode == 0 {
		mode = 0o700
	}
	out := make([]Result, 0, len(p.Files))
	for _, f := range p.Files {
		if err := EnsureDirMode(dirOf(f.Path), mode); err != nil {
			return out, err
		}
		r, err := WriteFile(f.Path, f.Data, f.Mode, force)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func pluralFiles(n int) string {
	if n == 1 {
		return "file is"
	}
	return "files are"
}

// EnsureDirMode is EnsureDir; kept separate so the plan's directory mode is
// explicit at the call site.
func EnsureDirMode(dir string, mode fs.FileMode) error { return EnsureDir(dir, mode) }

func dirOf(path string) string { return filepath.Dir(path) }

// linkedDir says why EnsureDir would refuse dir: dir, or the missing
// parents it would create up to the first existing one, is a symbolic
// link. Preview checks it so that such a plan writes nothing at all.
func linkedDir(dir string) string {
	for {
		fi, err := os.Lstat(dir)
		switch {
		case err == nil && fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(dir)
			return fmt.Sprintf("refusing to use %s: it is a symbolic link to %s, expected a directory; docker-tls does not write through links", dir, target)
		case err == nil || !errors.Is(err, fs.ErrNotExist):
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// RefuseLinks returns the error a plan would give for writing path through
// a symbolic link (path itself, its directory, or a missing parent of it),
// for callers that read a file before they replace it.
func RefuseLinks(path string) error {
	if reason := linkedDir(dirOf(path)); reason != "" {
		return errors.New(reason)
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		return fmt.Errorf("refusing to write %s: it is a symbolic link to %s; docker-tls does not write through links", path, target)
	}
	return nil
}

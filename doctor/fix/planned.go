package fix

import (
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/pki/loader"
)

// renamed is an fs.FS showing base with files renamed (fs paths, within
// one directory): the planned tree the renames would leave.
type renamed struct {
	base fs.FS
	to   map[string]string // from → to
	from map[string]string // to → from
}

func newRenamed(base fs.FS, moves map[string]string) renamed {
	r := renamed{base: base, to: moves, from: map[string]string{}}
	for f, t := range moves {
		r.from[t] = f
	}
	return r
}

// src is the base path holding name in the planned tree ("" when name
// was renamed away).
func (r renamed) src(name string) string {
	if f, ok := r.from[name]; ok {
		return f
	}
	if _, ok := r.to[name]; ok {
		return ""
	}
	return name
}

func (r renamed) Open(name string) (fs.File, error) {
	s := r.src(name)
	if s == "" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return r.base.Open(s)
}

func (r renamed) Stat(name string) (fs.FileInfo, error) {
	s := r.src(name)
	if s == "" {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	fi, err := fs.Stat(r.base, s)
	if err != nil || s == name {
		return fi, err
	}
	return renamedInfo{fi, path.Base(name)}, nil
}

func (r renamed) ReadFile(name string) ([]byte, error) {
	s := r.src(name)
	if s == "" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return fs.ReadFile(r.base, s)
}

func (r renamed) ReadDir(name string) ([]fs.DirEntry, error) {
	es, err := fs.ReadDir(r.base, name)
	if err != nil {
		return es, err
	}
	out := es[:0:0]
	for _, e := range es {
		if t, ok := r.to[path.Join(name, e.Name())]; ok {
			fi, err := e.Info()
			if err != nil {
				return nil, err
			}
			e = fs.FileInfoToDirEntry(renamedInfo{fi, path.Base(t)})
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

type renamedInfo struct {
	fs.FileInfo
	name string
}

func (i renamedInfo) Name() string       { return i.name }
func (i renamedInfo) ModTime() time.Time { return i.FileInfo.ModTime() }

// renamesKeepLoads runs the loader that reads the directory on the tree
// as it is and as the renames (OS paths, one directory) would leave it:
// they are kept only when the loader then reads every renamed file and
// loses nothing it loaded before (no CA that can authenticate a server, no
// client certificate, no new error).
func renamesKeepLoads(kind string, moves map[string]string) bool {
	if kind == "" {
		return true // not a registry directory: the doctor's rule stands
	}
	var any string
	for f := range moves {
		any = f
	}
	root := string(filepath.Separator)
	if v := filepath.VolumeName(any); v != "" {
		root = v + string(filepath.Separator)
	}
	rel := func(p string) (string, bool) {
		r, err := filepath.Rel(root, p)
		if err != nil || strings.HasPrefix(r, "..") {
			return "", false
		}
		return filepath.ToSlash(r), true
	}
	fsMoves := map[string]string{}
	dir := ""
	for f, t := range moves {
		rf, ok1 := rel(f)
		rt, ok2 := rel(t)
		if !ok1 || !ok2 {
			return false
		}
		fsMoves[rf] = rt
		dir = path.Dir(rf)
	}
	base := loader.OSTree(root).FS
	before := loader.LoadsOf(loader.Tree{FS: base, Root: root}, dir, kind)
	after := loader.LoadsOf(loader.Tree{FS: newRenamed(base, fsMoves), Root: root}, dir, kind)
	for _, t := range fsMoves {
		if !after.Files[t] {
			return false
		}
	}
	return before.Keeps(after)
}

package doctor

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/docker-tls/docker-tls/pki/fsutil"
)

// fsPath turns a logical absolute path ("/etc/docker") into an fs.FS name
// ("etc/docker").
func fsPath(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return "."
	}
	return strings.TrimPrefix(p, "/")
}

// fileInfo is what the doctor learned about one path.
type fileInfo struct {
	Path    string
	Exists  bool
	Mode    fs.FileMode // after following a symbolic link
	Symlink string      // link target when the path is a symbolic link
	Size    int64
	// Problem says why the content was not read (special file, too large,
	// permission denied); empty when it was read or does not exist.
	Problem string
}

// statPath looks at p without opening it: a FIFO or device must never be
// opened, because opening a FIFO blocks.
func statPath(fsys fs.FS, name, p string) fileInfo {
	fi := fileInfo{Path: p}
	if rl, ok := fsys.(fs.ReadLinkFS); ok {
		li, err := rl.Lstat(name)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				fi.Exists = true
				fi.Problem = describeErr(err)
			}
			return fi
		}
		if li.Mode()&fs.ModeSymlink != 0 {
			if t, err := rl.ReadLink(name); err == nil {
				fi.Symlink = t
			} else {
				fi.Symlink = "?"
			}
		}
	}
	st, err := fs.Stat(fsys, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if fi.Symlink != "" {
				fi.Exists = true
				fi.Problem = fmt.Sprintf("symbolic link to %s, which does not exist or leaves the root", fi.Symlink)
			}
			return fi
		}
		fi.Exists = true
		fi.Problem = describeErr(err)
		return fi
	}
	fi.Exists = true
	fi.Mode = st.Mode()
	fi.Size = st.Size()
	return fi
}

func describeErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	}
	return err.Error()
}

// describeMode names a non-regular file type.
func describeMode(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// readFile reads a regular file of at most fsutil.MaxReadSize bytes. It
// refuses directories, FIFOs, devices and sockets by their mode before
// opening anything, and records why in fi.Problem.
func readFile(fsys fs.FS, name, p string) (fileInfo, []byte) {
	if rf, ok := fsys.(*rootFS); ok {
		return rf.readFile(name, p)
	}
	fi := statPath(fsys, name, p)
	if !fi.Exists || fi.Problem != "" {
		return fi, nil
	}
	if !fi.Mode.IsRegular() {
		fi.Problem = "is a " + describeMode(fi.Mode) + ", not a regular file: not read"
		return fi, nil
	}
	if fi.Size > fsutil.MaxReadSize {
		fi.Problem = fmt.Sprintf("is %d bytes, larger than the %d bytes certificate material can be: not read", fi.Size, fsutil.MaxReadSize)
		return fi, nil
	}
	f, err := fsys.Open(name)
	if err != nil {
		fi.Problem = describeErr(err)
		return fi, nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, fsutil.MaxReadSize+1))
	if err != nil {
		fi.Problem = describeErr(err)
		return fi, nil
	}
	if len(data) > fsutil.MaxReadSize {
		fi.Problem = fmt.Sprintf("is larger than the %d bytes certificate material can be: not read", fsutil.MaxReadSize)
		return fi, nil
	}
	return fi, data
}

// walkDirStream calls fn for each entry of dir in batches, so a directory
// of many thousands of entries is never held in memory at once. Order is
// the file system's, not sorted.
func walkDirStream(fsys fs.FS, dir string, fn func(fs.DirEntry)) error {
	f, err := fsys.Open(fsPath(dir))
	if err != nil {
		return err
	}
	defer f.Close()
	rd, ok := f.(fs.ReadDirFile)
	if !ok {
		entries, err := fs.ReadDir(fsys, fsPath(dir))
		for _, e := range entries {
			fn(e)
		}
		return err
	}
	for {
		batch, err := rd.ReadDir(256)
		for _, e := range batch {
			fn(e)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
	}
}

// rootFS is an fs.FS over an *os.Root. Compared with root.FS() it opens
// files with O_NONBLOCK and checks the type on the open descriptor (a FIFO
// is never waited on, and no separate stat is needed), and it can open a
// directory as its own root, so that the many files of one certs.d
// directory are opened relative to it instead of walking the whole path
// each time.
type rootFS struct {
	r   *os.Root
	fsf fs.FS
}

// RootFS returns the file system the doctor should read root through.
func RootFS(root *os.Root) fs.FS { return &rootFS{r: root, fsf: root.FS()} }

func (f *rootFS) Open(name string) (fs.File, error) { return f.fsf.Open(name) }

func (f *rootFS) Stat(name string) (fs.FileInfo, error) { return f.r.Stat(name) }

func (f *rootFS) Lstat(name string) (fs.FileInfo, error) { return f.r.Lstat(name) }

func (f *rootFS) ReadLink(name string) (string, error) { return f.r.Readlink(name) }

func (f *rootFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(f.fsf, name) }

func (f *rootFS) sub(dir string) (*rootFS, error) {
	r, err := f.r.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &rootFS{r: r, fsf: r.FS()}, nil
}

func (f *rootFS) close() { f.r.Close() }

func (f *rootFS) readFile(name, p string) (fileInfo, []byte) {
	fi := fileInfo{Path: p}
	h, err := f.r.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		// Say why in the caller's terms (missing, dangling link, ...).
		return statPath(f, name, p), nil
	}
	defer h.Close()
	st, err := h.Stat()
	if err != nil {
		fi.Exists, fi.Problem = true, describeErr(err)
		return fi, nil
	}
	fi.Exists, fi.Mode, fi.Size = true, st.Mode(), st.Size()
	if !st.Mode().IsRegular() {
		fi.Problem = "is a " + describeMode(st.Mode()) + ", not a regular file: not read"
		return fi, nil
	}
	if st.Size() > fsutil.MaxReadSize {
		fi.Problem = fmt.Sprintf("is %d bytes, larger than the %d bytes certificate material can be: not read", st.Size(), fsutil.MaxReadSize)
		return fi, nil
	}
	buf := make([]byte, 0, st.Size()+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := h.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > fsutil.MaxReadSize {
			fi.Problem = fmt.Sprintf("is larger than the %d bytes certificate material can be: not read", fsutil.MaxReadSize)
			return fi, nil
		}
		if err == io.EOF {
			return fi, buf
		}
		if err != nil {
			fi.Problem = describeErr(err)
			return fi, nil
		}
	}
}

package fsutil

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

type dir struct {
	fd   int
	file *os.File // the file NewDir took over (owns fd); nil when fd is ours

	listOnce sync.Once
	ents     []dirent // sorted by name
	names    []string
	listErr  error

	closeOnce sync.Once
}

type dirent struct {
	name string
	typ  fs.FileMode
}

// NewDir takes over f, an open directory: closing the Dir closes f.
func NewDir(f *os.File) (*Dir, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	if err := rc.Control(func(p uintptr) { fd = int(p) }); err != nil {
		return nil, err
	}
	return &Dir{dir{fd: fd, file: f}}, nil
}

// OpenDir opens the directory name (one path component) inside d without
// following a symbolic link: a link, a non-directory or any error returns
// an error, and the caller takes its portable path.
func (d *Dir) OpenDir(name string) (*Dir, error) {
	if name == "" || name == "." || name == ".." || strings.IndexByte(name, '/') >= 0 {
		return nil, errFallback
	}
	fd, err := openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK)
	runtime.KeepAlive(d)
	if err != nil {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	return &Dir{dir{fd: fd}}, nil
}

func openat(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

var direntBufs = sync.Pool{New: func() any { b := make([]byte, 8192); return &b }}

func (d *Dir) list() {
	if err := d.Each(func(name string, typ fs.FileMode) { d.ents = append(d.ents, dirent{name, typ}) }); err != nil {
		d.ents, d.listErr = nil, err
		return
	}
	slices.SortFunc(d.ents, func(a, b dirent) int { return strings.Compare(a.name, b.name) })
	d.names = make([]string, len(d.ents))
	for i, e := range d.ents {
		d.names[i] = e.name
	}
}

// Each calls fn for every entry of the directory ("." and ".." left out)
// in the file system's order, from one read of the directory, a batch at
// a time: a directory of many thousands of entries is never held in
// memory. Each is not for a Dir whose Names or Type was called, nor
// twice.
func (d *Dir) Each(fn func(name string, typ fs.FileMode)) error {
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	for {
		n, err := unix.ReadDirent(d.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "readdirent", Path: ".", Err: err}
		}
		if n <= 0 {
			runtime.KeepAlive(d)
			return nil
		}
		parseDirents(buf[:n], fn)
	}
}

// parseDirents calls fn for the linux_dirent64 records in b (d_ino u64,
// d_off s64, d_reclen u16, d_type u8, d_name NUL-terminated).
func parseDirents(b []byte, fn func(string, fs.FileMode)) {
	const nameOff = 19
	for len(b) >= nameOff {
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen < nameOff || reclen > len(b) {
			return
		}
		typ, name := b[18], b[nameOff:reclen]
		b = b[reclen:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if string(name) == "." || string(name) == ".." {
			continue
		}
		t := TypeUnknown
		switch typ {
		case unix.DT_REG:
			t = 0
		case unix.DT_DIR:
			t = fs.ModeDir
		case unix.DT_LNK:
			t = fs.ModeSymlink
		case unix.DT_FIFO:
			t = fs.ModeNamedPipe
		case unix.DT_SOCK:
			t = fs.ModeSocket
		case unix.DT_CHR:
			t = fs.ModeDevice | fs.ModeCharDevice
		case unix.DT_BLK:
			t = fs.ModeDevice
		}
		fn(string(name), t)
	}
}

// Names lists the directory once and returns its entries' names, sorted
// (later calls return the same listing). The slice must not be modified.
func (d *Dir) Names() ([]string, error) {
	d.listOnce.Do(d.list)
	return d.names, d.listErr
}

// Type is what the listing says name is (listing the directory first if
// it was not).
func (d *Dir) Type(name string) fs.FileMode {
	d.listOnce.Do(d.list)
	i, ok := slices.BinarySearchFunc(d.ents, name, func(e dirent, n string) int { return strings.Compare(e.name, n) })
	if !ok {
		return TypeUnknown
	}
	return d.ents[i].typ
}

// ReadRegular reads name, an entry the listing says is a regular file, of
// at most max bytes. It opens it once (not following a symbolic link,
// O_NONBLOCK so that a FIFO put there since the listing cannot block) and
// checks the open descriptor's type and size. Anything else — an entry
// not listed as a regular file, a link, a special file, a file larger than
// max, an error — returns an error IsFallback reports: the caller looks at
// the file its portable way, which says why.
func (d *Dir) ReadRegular(name string, max int64) ([]byte, fs.FileMode, int64, error) {
	if strings.IndexByte(name, '/') >= 0 || d.Type(name) != 0 {
		return nil, 0, 0, errFallback
	}
	fd, err := openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC)
	runtime.KeepAlive(d)
	if err != nil {
		return nil, 0, 0, errFallback
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > max {
		return nil, 0, 0, errFallback
	}
	buf := make([]byte, 0, st.Size+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < 0 {
			return nil, 0, 0, errFallback
		}
		if n == 0 {
			return buf, fileMode(st.Mode, false), st.Size, nil
		}
		if buf = buf[:len(buf)+n]; int64(len(buf)) > max {
			return nil, 0, 0, errFallback
		}
	}
}

// Close closes the directory.
func (d *Dir) Close() error {
	var err error
	d.closeOnce.Do(func() {
		if d.file != nil {
			err = d.file.Close()
		} else {
			err = unix.Close(d.fd)
		}
	})
	return err
}

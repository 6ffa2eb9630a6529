//go:build unix

package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// createExclusive creates name, which must not exist (not even as a
// dangling symbolic link), with mode perm from the first byte (narrowed by
// the umask only).
func createExclusive(name string, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, perm)
}

// mkdir creates one directory with mode perm (narrowed by the umask).
func mkdir(dir string, perm fs.FileMode) error { return os.Mkdir(dir, perm) }

// setMode gives an existing regular file (fi is its Lstat) the mode perm.
func setMode(path string, fi fs.FileInfo, perm fs.FileMode) error {
	if fi.Mode().Perm() == perm {
		return nil
	}
	return os.Chmod(path, perm)
}

// OpenNoFollow opens a file for reading without following a symbolic link
// in its last component and without blocking on a FIFO or device.
func OpenNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}

// ChmodNoFollow changes a regular file's mode through a descriptor opened
// without following symbolic links.
func ChmodNoFollow(path string, mode fs.FileMode) error {
	f, err := OpenNoFollow(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Chmod(mode)
}

// linkRename is RenameNoReplace where the file system has no native
// no-replace rename: a hard link (which fails when to exists) then unlink.
func linkRename(from, to string) error {
	if err := os.Link(from, to); err != nil {
		return err
	}
	return os.Remove(from)
}

func existsErr(to string, err error) error {
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists", to)
	}
	return err
}

// keepOwner gives a replacement the owner of the file it replaces: a run as
// root (sudo) must not leave a user's key owned by root, unreadable to them.
func keepOwner(tmp string, old fs.FileInfo) {
	if st, ok := old.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		_ = os.Lchown(tmp, int(st.Uid), int(st.Gid))
	}
}

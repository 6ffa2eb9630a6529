package fsutil

import (
	"errors"

	"golang.org/x/sys/unix"
)

// RenameNoReplace renames from to to and fails when to exists (also as a
// dangling symbolic link): renameat2(RENAME_NOREPLACE), or link+unlink
// where the file system does not support it.
func RenameNoReplace(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.ENOTSUP) {
		err = linkRename(from, to)
	}
	return existsErr(to, err)
}

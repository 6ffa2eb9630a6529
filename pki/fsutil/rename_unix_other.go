//go:build unix && !linux && !darwin

package fsutil

// RenameNoReplace renames from to to and fails when to exists: link+unlink
// (a hard link fails when its name exists).
func RenameNoReplace(from, to string) error { return existsErr(to, linkRename(from, to)) }

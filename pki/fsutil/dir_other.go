//go:build !linux

package fsutil

import (
	"io/fs"
	"os"
)

type dir struct{}

// NewDir is not available here: it returns ErrNoDir.
func NewDir(f *os.File) (*Dir, error) { return nil, ErrNoDir }

// OpenDir is not available here: it returns ErrNoDir.
func (d *Dir) OpenDir(name string) (*Dir, error) { return nil, ErrNoDir }

// Names is not available here: it returns ErrNoDir.
func (d *Dir) Names() ([]string, error) { return nil, ErrNoDir }

// Type is not available here: it returns TypeUnknown.
func (d *Dir) Type(name string) fs.FileMode { return TypeUnknown }

// Each is not available here: it returns ErrNoDir.
func (d *Dir) Each(fn func(name string, typ fs.FileMode)) error { return ErrNoDir }

// ReadRegular is not available here: it returns ErrNoDir.
func (d *Dir) ReadRegular(name string, max int64) ([]byte, fs.FileMode, int64, error) {
	return nil, 0, 0, ErrNoDir
}

// Close does nothing here.
func (d *Dir) Close() error { return nil }

var _ = fileMode

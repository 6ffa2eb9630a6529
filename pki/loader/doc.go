// Package loader holds models of what each Docker loader reads: for a given
// file tree (an fs.FS), environment and flags, what the loader loads, what
// it skips and the error text it prints, proven against the loaders' own
// code by differential tests under scripts/oracle.
package loader

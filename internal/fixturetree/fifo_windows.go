package fixturetree

import "errors"

// mkfifo: Windows file systems have no FIFOs, so a scenario with one cannot
// be materialised there.
func mkfifo(p string, _ uint32) error {
	return errors.New("cannot create FIFO " + p + ": Windows has no FIFOs")
}

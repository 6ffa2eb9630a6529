//go:build linux || darwin

package doctor

import "syscall"

// processCPU is the CPU time (user + system) this process has used so
// far, in nanoseconds (getrusage(RUSAGE_SELF): every thread, the garbage
// collector's included); ok is false when it cannot be read.
func processCPU() (ns float64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return float64(ru.Utime.Nano() + ru.Stime.Nano()), true
}

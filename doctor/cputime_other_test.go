//go:build !linux && !darwin

package doctor

// processCPU is not measured here: BenchmarkCertsD logs no CPU-time ratio.
func processCPU() (float64, bool) { return 0, false }

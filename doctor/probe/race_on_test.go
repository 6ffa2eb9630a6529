//go:build race

package probe

// raceDetector: the test binary runs under the race detector (make race),
// whose instrumentation makes CPU-bound work several times slower.
const raceDetector = true

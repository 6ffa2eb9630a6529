//go:build !race

package probe

// raceDetector: the test binary runs under the race detector (make race).
const raceDetector = false

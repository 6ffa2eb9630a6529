package doctor

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/docker-tls/docker-tls/pki"
)

// BenchmarkCertsD compares the doctor's static scan of a certs.d with N
// registry directories (ca.crt + client.cert + client.key each) against a
// bare parse of the same files (crypto/x509 + key parse) with the same
// number of workers, and logs the ratio (target ≤ 1.3, issue 11) and the peak heap.
// N comes from DOCKER_TLS_BENCH_DIRS (default 10000):
//
//	DOCKER_TLS_BENCH_DIRS=10000 go test ./doctor -run '^$' -bench CertsD -benchtime 3x
func BenchmarkCertsD(b *testing.B) {
	n := 10000
	if v := os.Getenv("DOCKER_TLS_BENCH_DIRS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("DOCKER_TLS_BENCH_DIRS=%q: expected a positive number", v)
		}
	}
	root := b.TempDir()
	dirs := benchTree(b, root, n)
	workers := runtime.GOMAXPROCS(0)
	var scanNs, bareNs float64
	b.Run("doctor", func(b *testing.B) {
		r, err := os.OpenRoot(root)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		peak := watchHeap()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			rep, err := Run(Options{FS: RootFS(r), Env: map[string]string{"HOME": "/root"}, Now: fixtureNow, Workers: workers})
			if err != nil {
				b.Fatal(err)
			}
			if len(rep.Findings) != 0 {
				b.Fatalf("unexpected findings: %+v", rep.Findings[0])
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
		scanNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("bare", func(b *testing.B) {
		peak := watchHeap()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := bareParse(dirs, workers); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
		bareNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	if scanNs == 0 || bareNs == 0 {
		return
	}
	// The ratio comes from alternating runs, so that load and page-cache
	// drift during the run fall on both sides alike.
	r, err := os.OpenRoot(root)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	rounds := 5
	if v := os.Getenv("DOCKER_TLS_BENCH_ROUNDS"); v != "" {
		if rounds, err = strconv.Atoi(v); err != nil || rounds < 1 {
			b.Fatalf("DOCKER_TLS_BENCH_ROUNDS=%q: expected a positive number", v)
		}
	}
	// Besides the wall time (the verdict), the process's CPU time
	// (getrusage: all threads, the collector's included) around each run,
	// for information: it is less sensitive to the load of other
	// processes on the machine. A collection is forced before each run so
	// that neither side pays for the other's garbage.
	var ds, bs, dc, bc []float64
	cpuOK := true
	timed := func(f func()) (wall, cpu float64) {
		runtime.GC()
		c0, ok0 := processCPU()
		t0 := time.Now()
		f()
		wall = float64(time.Since(t0).Nanoseconds())
		c1, ok1 := processCPU()
		cpuOK = cpuOK && ok0 && ok1
		return wall, c1 - c0
	}
	for i := 0; i < rounds; i++ {
		w, c := timed(func() {
			if _, err := Run(Options{FS: RootFS(r), Env: map[string]string{"HOME": "/root"}, Now: fixtureNow, Workers: workers}); err != nil {
				b.Fatal(err)
			}
		})
		ds, dc = append(ds, w), append(dc, c)
		w, c = timed(func() {
			if err := bareParse(dirs, workers); err != nil {
				b.Fatal(err)
			}
		})
		bs, bc = append(bs, w), append(bc, c)
	}
	dm, bm := median(ds), median(bs)
	cpu := "CPU time not measured on " + runtime.GOOS
	if cpuOK {
		cpu = fmt.Sprintf("CPU time doctor %.0f ms, bare parse %.0f ms, cpu ratio %.2f (for information)", median(dc)/1e6, median(bc)/1e6, median(dc)/median(bc))
	}
	b.Logf("%d directories, %d workers, %d alternating rounds: doctor %.0f ms, bare parse %.0f ms (medians), ratio %.2f (target ≤ 1.3); %s",
		n, workers, rounds, dm/1e6, bm/1e6, dm/bm, cpu)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchTree writes N registry directories and returns their paths.
func benchTree(b *testing.B, root string, n int) []string {
	b.Helper()
	now := fixtureNow
	ca, err := pki.NewCA(pki.Request{CommonName: "bench CA", Now: now})
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := (&pki.CA{Cert: ca.Cert, Key: ca.Key}).Issue(pki.Request{Role: pki.RoleClient, CommonName: "bench", Now: now})
	if err != nil {
		b.Fatal(err)
	}
	keyPEM, err := leaf.KeyPEM()
	if err != nil {
		b.Fatal(err)
	}
	caPEM, certPEM := ca.CertPEM(), leaf.CertPEM()
	base := filepath.Join(root, "etc", "docker", "certs.d")
	dirs := make([]string, n)
	for i := range dirs {
		d := filepath.Join(base, fmt.Sprintf("reg%05d.example.com:5000", i))
		dirs[i] = d
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
		for _, f := range []struct {
			name string
			data []byte
			mode os.FileMode
		}{{"ca.crt", caPEM, 0o644}, {"client.cert", certPEM, 0o644}, {"client.key", keyPEM, 0o600}} {
			if err := os.WriteFile(filepath.Join(d, f.name), f.data, f.mode); err != nil {
				b.Fatal(err)
			}
		}
	}
	return dirs
}

// bareParse is the baseline: read and parse the three files of every
// directory with crypto/x509, nothing else.
func bareParse(dirs []string, workers int) error {
	work := make(chan string, workers*4)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				if err := parseDir(d); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, d := range dirs {
		work <- d
	}
	close(work)
	wg.Wait()
	return first
}

func parseDir(d string) error {
	for _, n := range []string{"ca.crt", "client.cert"} {
		data, err := os.ReadFile(filepath.Join(d, n))
		if err != nil {
			return err
		}
		blk, _ := pem.Decode(data)
		if blk == nil {
			return fmt.Errorf("%s: no PEM", n)
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(filepath.Join(d, "client.key"))
	if err != nil {
		return err
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		return fmt.Errorf("client.key: no PEM")
	}
	_, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	return err
}

// watchHeap samples the heap (live and not yet swept objects) until the
// returned function is called, which returns the peak in bytes.
func watchHeap() func() uint64 {
	runtime.GC()
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak {
				peak = v
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}

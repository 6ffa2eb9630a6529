// Command probeprof profiles the doctor's live probes (not part of `make
// bench`): it runs doctor.Probe over a targets file with the client
// material of $DOCKER_CERT_PATH, as `docker-tls doctor --targets-file`
// does after its static scan, adds the results to a report and renders it
// as JSON, with a CPU profile of all that, and prints where the time went.
//
//	probeprof -targets FILE [-parallel 32] [-cpuprofile F] [-memprofile F] [-repeat N]
//
// Read the profile with `go tool pprof -top FILE`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/docker-tls/docker-tls/doctor"
	"github.com/docker-tls/docker-tls/doctor/catalog"
	"github.com/docker-tls/docker-tls/doctor/probe"
	"github.com/docker-tls/docker-tls/doctor/render"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "probeprof:", err)
		os.Exit(1)
	}
}

func run() error {
	targets := flag.String("targets", "", "targets file, one a line")
	certs := flag.String("certs", os.Getenv("DOCKER_CERT_PATH"), "directory with ca.pem, cert.pem, key.pem")
	parallel := flag.Int("parallel", 32, "probes at a time")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	memprofile := flag.String("memprofile", "", "write an allocation profile here")
	heapprofile := flag.String("heapprofile", "", "write a heap profile here while the last results are live (go tool pprof -sample_index=inuse_space)")
	repeat := flag.Int("repeat", 1, "probe the whole list this many times")
	flag.Parse()
	data, err := os.ReadFile(*targets)
	if err != nil {
		return err
	}
	var ts []probe.Target
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		t, err := probe.ParseTarget(l, false)
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join(*certs, n))
		if err != nil {
			fmt.Fprintln(os.Stderr, "probeprof:", err)
			os.Exit(1)
		}
		return b
	}
	c := probe.Client{TLS: true, CA: read("ca.pem"), CAFile: filepath.Join(*certs, "ca.pem"), Source: "bench",
		Pairs: []probe.Pair{{CertFile: "cert.pem", KeyFile: "key.pem", Cert: read("cert.pem"), Key: read("key.pem")}}}
	live := make([]doctor.LiveTarget, len(ts))
	for i, t := range ts {
		live[i] = doctor.LiveTarget{Target: t, Client: c}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *memprofile != "" || *heapprofile != "" {
		runtime.MemProfileRate = 4096
	}
	start := time.Now()
	for range *repeat {
		res := doctor.Probe(context.Background(), live, probe.Options{Timeout: 5 * time.Second}, *parallel)
		for _, r := range res {
			if !r.Outcome.OK() {
				return fmt.Errorf("%s: %s at %s: %s", r.Target, r.Outcome, r.Stage, r.Err)
			}
		}
		if *heapprofile != "" {
			runtime.GC()
			f, err := os.Create(*heapprofile)
			if err != nil {
				return err
			}
			err = pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
			if err != nil {
				return err
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Printf("live heap with %d results: %.1f MB (%.1f KB per result)\n", len(res), float64(ms.HeapAlloc)/(1<<20), float64(ms.HeapAlloc)/1024/float64(len(res)))
		}
		rep := &catalog.Report{}
		doctor.AddLive(rep, live, res)
		if err := render.RenderJSON(io.Discard, rep); err != nil {
			return err
		}
	}
	el := time.Since(start)
	fmt.Printf("%d × %d targets in %s: %.3f ms per probe\n", *repeat, len(ts), el.Round(time.Millisecond), float64(el)/1e6/float64(*repeat*len(ts)))
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	return nil
}

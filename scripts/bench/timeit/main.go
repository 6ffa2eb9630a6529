// Command timeit times whole processes for scripts/bench/run.sh.
//
//	timeit [flags] NAME[@RUNS] CMD [ARG…] [--- NAME[@RUNS] CMD [ARG…]]…
//
// Every job is run -runs times (or RUNS times when given after its name),
// and the jobs of one call are interleaved: round by round, in a shuffled
// order, so that drift in the machine's load or clock falls on all of them
// alike. A job with fewer runs than the others is spread evenly over the
// rounds. Before the timed rounds each job is run -warmup times untimed.
//
// Each run gets a fresh empty directory, substituted for "{dir}" in the
// job's arguments and in the -env values; it is created before and removed
// after the run, outside the timed part. The command is started directly
// (no shell in between unless the job is a script), stdout goes to
// /dev/null and stderr to a file that is shown if the run fails. A run
// that exits non-zero stops everything with exit status 1.
//
// Measured per run: wall time from fork to exit, the CPU time (user +
// system) of the process and of the children it waited for, and its peak
// resident set size (getrusage ru_maxrss of the child).
//
// It prints a table to stdout and, with -tsv, writes one line per job:
// name, runs, median, p90, min, max, mean, CPU median (milliseconds), and
// the largest peak RSS of all runs (MB, 1 MB = 2^20 bytes).
package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

type job struct {
	name string
	runs int
	argv []string
	path string // argv[0] resolved once

	wall, cpu []time.Duration
	maxRSS    int64  // KB, the largest of all timed runs
	stderr    string // file
}

type envList []string

func (e *envList) String() string     { return strings.Join(*e, " ") }
func (e *envList) Set(s string) error { *e = append(*e, s); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "timeit:", err)
		os.Exit(1)
	}
}

func run() error {
	var env envList
	runs := flag.Int("runs", 30, "timed runs per job (a job's own @RUNS wins)")
	warmup := flag.Int("warmup", 2, "untimed runs per job before the timed ones")
	root := flag.String("dir", "", "scratch directory for the runs' {dir} (default: a new temporary directory, removed at the end)")
	tsv := flag.String("tsv", "", "append one tab-separated line of statistics per job to this file")
	seed := flag.Uint64("seed", 0, "seed of the order shuffle (0: random)")
	progress := flag.Bool("progress", true, "report progress on stderr")
	flag.Var(&env, "env", "KEY=VALUE for every run, {dir} substituted (repeatable)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: timeit [flags] NAME[@RUNS] CMD [ARG…] [--- NAME[@RUNS] CMD [ARG…]]…")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *runs < 1 || *warmup < 0 {
		return errors.New("-runs must be ≥ 1 and -warmup ≥ 0")
	}
	jobs, err := parseJobs(flag.Args(), *runs)
	if err != nil {
		flag.Usage()
		return err
	}
	for _, e := range env {
		if !strings.Contains(e, "=") {
			return fmt.Errorf("-env %q: want KEY=VALUE", e)
		}
	}

	scratch := *root
	if scratch == "" {
		scratch, err = os.MkdirTemp("", "timeit-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(scratch)
	} else if err := os.MkdirAll(scratch, 0o700); err != nil {
		return err
	}
	for i, j := range jobs {
		j.stderr = filepath.Join(scratch, fmt.Sprintf("job%d.stderr", i))
	}

	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()

	seq := 0
	once := func(j *job, timed bool) error {
		seq++
		dir := filepath.Join(scratch, fmt.Sprintf("run%d", seq))
		if err := os.Mkdir(dir, 0o700); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		w, c, rss, err := execute(j, dir, env, devnull)
		if err != nil {
			return err
		}
		if timed {
			j.wall = append(j.wall, w)
			j.cpu = append(j.cpu, c)
			j.maxRSS = max(j.maxRSS, rss)
		}
		return nil
	}

	for _, j := range jobs {
		for range *warmup {
			if err := once(j, false); err != nil {
				return err
			}
		}
	}

	maxRuns := 0
	for _, j := range jobs {
		maxRuns = max(maxRuns, j.runs)
	}
	var rng *rand.Rand
	if *seed != 0 {
		rng = rand.New(rand.NewPCG(*seed, *seed))
	} else {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	start := time.Now()
	lastReport := start
	for r := range maxRuns {
		var round []*job
		for _, j := range jobs {
			// j runs in the rounds where floor(r·n/M) steps up: n runs spread over M rounds.
			if (r+1)*j.runs/maxRuns > r*j.runs/maxRuns {
				round = append(round, j)
			}
		}
		rng.Shuffle(len(round), func(a, b int) { round[a], round[b] = round[b], round[a] })
		for _, j := range round {
			if err := once(j, true); err != nil {
				return err
			}
		}
		if *progress && time.Since(lastReport) > 5*time.Second && r+1 < maxRuns {
			lastReport = time.Now()
			fmt.Fprintf(os.Stderr, "  … round %d/%d (%s)\n", r+1, maxRuns, time.Since(start).Round(time.Second))
		}
	}

	report(jobs)
	if *tsv != "" {
		return writeTSV(*tsv, jobs)
	}
	return nil
}

func parseJobs(args []string, defRuns int) ([]*job, error) {
	var jobs []*job
	for len(args) > 0 {
		end := slices.Index(args, "---")
		if end < 0 {
			end = len(args)
		}
		spec := args[:end]
		if end < len(args) {
			args = args[end+1:]
		} else {
			args = nil
		}
		if len(spec) < 2 {
			return nil, fmt.Errorf("job %q: want NAME[@RUNS] CMD [ARG…]", strings.Join(spec, " "))
		}
		j := &job{name: spec[0], runs: defRuns, argv: spec[1:]}
		if name, n, ok := strings.Cut(spec[0], "@"); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v < 1 {
				return nil, fmt.Errorf("job %q: bad run count %q", spec[0], n)
			}
			j.name, j.runs = name, v
		}
		p, err := exec.LookPath(j.argv[0])
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", j.name, err)
		}
		j.path = p
		jobs = append(jobs, j)
	}
	if len(jobs) == 0 {
		return nil, errors.New("no job given")
	}
	return jobs, nil
}

// execute runs j once in dir and returns its wall and CPU time and its
// peak RSS in KB.
func execute(j *job, dir string, env []string, devnull *os.File) (wall, cpu time.Duration, rssKB int64, err error) {
	sub := func(s string) string { return strings.ReplaceAll(s, "{dir}", dir) }
	argv := make([]string, len(j.argv))
	for i, a := range j.argv {
		argv[i] = sub(a)
	}
	errf, err := os.Create(j.stderr)
	if err != nil {
		return 0, 0, 0, err
	}
	defer errf.Close()
	cmd := &exec.Cmd{
		Path:   j.path,
		Args:   argv,
		Env:    os.Environ(),
		Stdout: devnull,
		Stderr: errf,
	}
	for _, e := range env {
		cmd.Env = append(cmd.Env, sub(e))
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, fmt.Errorf("job %s: %w", j.name, err)
	}
	err = cmd.Wait()
	wall = time.Since(t0)
	if err != nil {
		msg, _ := os.ReadFile(j.stderr)
		if len(msg) > 4000 {
			msg = append([]byte("…"), msg[len(msg)-4000:]...)
		}
		return 0, 0, 0, fmt.Errorf("job %s failed (%v): %s\n%s", j.name, err, strings.Join(argv, " "), msg)
	}
	st := cmd.ProcessState
	rssKB = maxRSSKB(st)
	return wall, st.UserTime() + st.SystemTime(), rssKB, nil
}

type stats struct {
	median, p90, min, max, mean time.Duration
}

func summarize(d []time.Duration) stats {
	s := slices.Clone(d)
	slices.Sort(s)
	n := len(s)
	var sum time.Duration
	for _, v := range s {
		sum += v
	}
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	// p90 by the nearest-rank method.
	rank := int(math.Ceil(0.9 * float64(n)))
	return stats{median: med, p90: s[rank-1], min: s[0], max: s[n-1], mean: sum / time.Duration(n)}
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

func mb(kb int64) string { return strconv.FormatFloat(float64(kb)/1024, 'f', 1, 64) }

func report(jobs []*job) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "job\truns\tmedian ms\tp90 ms\tmin ms\tmax ms\tCPU median ms\tpeak RSS MB\t")
	for _, j := range jobs {
		w, c := summarize(j.wall), summarize(j.cpu)
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", j.name, len(j.wall), ms(w.median), ms(w.p90), ms(w.min), ms(w.max), ms(c.median), mb(j.maxRSS))
	}
	tw.Flush()
}

func writeTSV(file string, jobs []*job) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		w, c := summarize(j.wall), summarize(j.cpu)
		fmt.Fprintf(f, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.name, len(j.wall), ms(w.median), ms(w.p90), ms(w.min), ms(w.max), ms(w.mean), ms(c.median), mb(j.maxRSS))
	}
	return f.Close()
}

package remote

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// ErrLocked is a host on which another docker-tls run holds the lock.
var ErrLocked = errors.New("the host is locked by another docker-tls run")

// LockedError says who holds the lock of a host.
type LockedError struct {
	Target, Path, Holder string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s: another docker-tls run is changing this host: %s (lock %s on the host, released when that run's ssh session ends). Wait for it to finish and run this again", e.Target, e.Holder, e.Path)
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// lockScript takes the host's lock in the ssh session it runs in and holds
// it until its standard input closes (the local run finished, or died and
// took its ssh with it): flock(1) on /run/docker-tls.lock (a tmpfs, cleared
// at boot; nothing is written where dockerd's files are), which names the
// holder while it is held, or, without flock, a directory made with mkdir
// and removed on exit.
const lockScript = `d=/run; [ -d "$d" ] || d=/var/lock; [ -d "$d" ] || d=/tmp
lock="$d/docker-tls.lock"
info=$1
if command -v flock >/dev/null 2>&1; then
  exec 9>>"$lock" || exit 70
  if ! flock -n 9; then
    echo "docker-tls-lock: busy $lock"; cat "$lock" 2>/dev/null; exit 75
  fi
  trap ': > "$lock"' EXIT
  trap 'exit 1' HUP INT TERM PIPE
  printf '%s\n' "$info" > "$lock"
  echo "docker-tls-lock: held $lock"
  cat >/dev/null
  exit 0
fi
if ! mkdir "$lock.d" 2>/dev/null; then
  echo "docker-tls-lock: busy $lock.d"; cat "$lock.d/holder" 2>/dev/null; exit 75
fi
trap 'rm -rf "$lock.d"' EXIT
trap 'exit 1' HUP INT TERM PIPE
printf '%s\n' "$info" > "$lock.d/holder"
echo "docker-tls-lock: held $lock.d"
cat >/dev/null
`

// Lock takes the host's docker-tls lock, as root, in an ssh session of its
// own that holds it until release is called. info says who holds it (for
// the error of a run that finds it taken).
func (t *Target) Lock(ctx context.Context, info string) (release func(), err error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	remoteCmd := "sh -c " + Quote(lockScript) + " docker-tls-lock " + Quote(info)
	if t.sudo {
		remoteCmd = "sudo -n " + remoteCmd
	}
	cmd := exec.Command(t.bin(), append(t.sshArgs(), remoteCmd)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: running %s: %v", t.URL, t.bin(), err)
	}
	type answer struct {
		line string
		rest string
	}
	got := make(chan answer, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		if strings.HasPrefix(line, "docker-tls-lock: held ") {
			got <- answer{line: line}
			_, _ = io.Copy(io.Discard, r)
			return
		}
		rest, _ := io.ReadAll(r)
		got <- answer{line: line, rest: string(rest)}
	}()
	var a answer
	select {
	case a = <-got:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, ctx.Err()
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("%s: taking the docker-tls lock on the host did not finish within 60s", t.URL)
	}
	if strings.HasPrefix(a.line, "docker-tls-lock: held ") {
		return func() {
			_ = stdin.Close()
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}, nil
	}
	_ = stdin.Close()
	werr := cmd.Wait()
	if path, ok := strings.CutPrefix(strings.TrimSpace(a.line), "docker-tls-lock: busy "); ok {
		holder := strings.TrimSpace(a.rest)
		if holder == "" {
			holder = "a run that did not say who it is"
		}
		return nil, &LockedError{Target: t.URL, Path: path, Holder: holder}
	}
	if t.sudo {
		if err := t.sudoProblem(stderr.String()); err != nil {
			return nil, err
		}
	}
	code := -1
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		code = ee.ExitCode()
	}
	return nil, &Error{Target: t.URL, What: "take the docker-tls lock", Code: code, Stderr: stderr.String() + a.line + a.rest}
}

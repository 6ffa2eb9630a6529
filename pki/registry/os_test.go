package registry

import "runtime"

func runtimeIsWindows() bool { return runtime.GOOS == "windows" }

package daemoncfg

import (
	"os"
	"path/filepath"
	"sort"
)

// Unit file locations systemd reads docker.service from, highest priority
// first; drop-in directories in the order their files are applied.
var (
	unitDirs   = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}
	dropInDirs = []string{"/usr/lib/systemd/system/docker.service.d", "/lib/systemd/system/docker.service.d", "/run/systemd/system/docker.service.d", "/etc/systemd/system/docker.service.d"}
)

// ServiceName is the unit dockerd runs as.
const ServiceName = "docker.service"

// DropInPath is where docker-tls writes its drop-in.
const DropInPath = "/etc/systemd/system/docker.service.d/docker-tls.conf"

// ReadUnitFiles returns docker.service and its drop-ins under root (root
// maps "/"), in the order systemd applies them. Unreadable files are
// skipped: a missing unit is normal on hosts without systemd.
func ReadUnitFiles(root string) []UnitFile {
	var files []UnitFile
	for _, d := range unitDirs {
		p := filepath.Join(root, d, ServiceName)
		if data, err := os.ReadFile(p); err == nil {
			files = append(files, UnitFile{Name: filepath.Join(d, ServiceName), Data: data})
			break
		}
	}
	if len(files) == 0 {
		return nil
	}
	// Drop-ins with the same file name override earlier directories; all
	// are applied in file-name order.
	byName := map[string]UnitFile{}
	for _, d := range dropInDirs {
		entries, err := os.ReadDir(filepath.Join(root, d))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if filepath.Ext(e.Name()) != ".conf" {
				continue
			}
			if data, err := os.ReadFile(filepath.Join(root, d, e.Name())); err == nil {
				byName[e.Name()] = UnitFile{Name: filepath.Join(d, e.Name()), Data: data}
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, byName[n])
	}
	return files
}

package main

import (
	"runtime/debug"
)

// version is set at link time: go build -ldflags "-X main.version=v1.2.3"
// (make build VERSION=v1.2.3, as the Dockerfile does). It is never written
// at run time.
var version string

// versionString is the version the binary reports: the linked-in one, else
// the module version `go install ...@v1.2.3` records, else "devel" with the
// VCS revision when the build recorded one.
func versionString() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}

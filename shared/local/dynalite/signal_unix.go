//go:build unix

package dynalite

import (
	"os"
	"syscall"
)

// terminate asks the child's process group to stop.
func terminate(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGTERM) }

// kill stops the child's process group at once.
func kill(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }

//go:build linux

package dynalite

import "syscall"

// sysProcAttr puts the child in its own process group (so Close can signal node and
// anything it forks) and asks the kernel to kill it if the parent dies.
//
// Pdeathsig fires when the OS thread that started the child exits, and the Go
// runtime ends a thread when a goroutine locked to it returns: startChild starts
// every child from one thread that lives as long as the process, so that this
// means "when this process exits".
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

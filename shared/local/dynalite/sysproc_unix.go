//go:build unix && !linux

package dynalite

import "syscall"

// sysProcAttr puts the child in its own process group so Close can signal it and
// anything it forks. Outside Linux there is no parent-death signal: a parent killed
// with SIGKILL leaves the child running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

//go:build !unix

package dynalite

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }

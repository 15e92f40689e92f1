package dynalite

import (
	"os/exec"
	"runtime"
	"sync"
)

// spawner is a goroutine locked, for the life of the process, to the OS thread
// that starts every child. On Linux the child's parent-death signal (sysProcAttr)
// is tied to the thread that started it, and the Go runtime ends a thread when a
// goroutine locked to it returns: started from any thread, a child dies when that
// thread, later locked by some test or library goroutine, ends. The spawner's
// thread ends only with the process.
var spawner struct {
	once sync.Once
	work chan func()
}

// startChild starts cmd from the spawner's thread.
func startChild(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.work = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: this goroutine never returns
			for f := range spawner.work {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	spawner.work <- func() { errc <- cmd.Start() }
	return <-errc
}

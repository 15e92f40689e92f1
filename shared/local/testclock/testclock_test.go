package testclock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/local/testclock"
)

var t0 = time.Date(2026, 8, 3, 10, 7, 0, 0, time.UTC)

func TestClock(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(*testclock.Clock)
		want time.Time
	}{
		{"new", func(*testclock.Clock) {}, t0},
		{"advance", func(c *testclock.Clock) { c.Advance(90 * time.Second) }, t0.Add(90 * time.Second)},
		{"advance twice", func(c *testclock.Clock) { c.Advance(time.Hour); c.Advance(time.Minute) }, t0.Add(time.Hour + time.Minute)},
		{"advance backwards", func(c *testclock.Clock) { c.Advance(-time.Hour) }, t0.Add(-time.Hour)},
		{"set", func(c *testclock.Clock) { c.Set(t0.AddDate(0, 1, 0)) }, t0.AddDate(0, 1, 0)},
		{"set then advance", func(c *testclock.Clock) { c.Set(t0.Add(-time.Hour)); c.Advance(time.Minute) }, t0.Add(-time.Hour + time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testclock.New(t0)
			tc.do(c)
			if got := c.Now(); !got.Equal(tc.want) {
				t.Errorf("Now() = %v, want %v", got, tc.want)
			}
			// The clock stands still between changes.
			if got := c.Now(); !got.Equal(tc.want) {
				t.Errorf("Now() again = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestConcurrent advances the clock from many goroutines while others read it
// (run with -race).
func TestConcurrent(t *testing.T) {
	const goroutines, steps = 8, 100
	c := testclock.New(t0)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range steps {
				c.Advance(time.Second)
			}
		}()
		go func() {
			defer wg.Done()
			for range steps {
				if c.Now().Before(t0) {
					t.Error("the clock went back")
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(goroutines*steps*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
}

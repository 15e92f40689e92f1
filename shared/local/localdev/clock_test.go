package localdev

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// TestClockKept: a clock faster than the wall is kept in the data folder, and
// a restart goes on from it (the downtime counted at its speed) instead of
// going back to the wall's; at another speed it goes on from there too. A
// data folder that never ran fast keeps no clock, and its clock is the
// wall's.
func TestClockKept(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now()
	if _, err := newClock(dir, 60, t0.Add(-2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// The first run started two wall minutes ago at 60x, its clock at the
	// wall's then: two hours on, 1h58m ahead of the wall now.
	clock, err := newClock(dir, 60, t0)
	if err != nil {
		t.Fatal(err)
	}
	if ahead := time.Until(clock()); ahead < 117*time.Minute || ahead > 119*time.Minute {
		t.Errorf("the restarted clock is %v ahead of the wall; want 1h58m", ahead)
	}
	slow, err := newClock(dir, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ahead := time.Until(slow()); ahead < 117*time.Minute {
		t.Errorf("at speed 1 after a fast run the clock is %v ahead; want it not to go back", ahead)
	}

	plain := t.TempDir()
	wall, err := newClock(plain, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(wall()); d < -time.Second || d > time.Second {
		t.Errorf("a data folder that never ran fast: the clock is %v off the wall", d)
	}
	if _, err := os.Stat(filepath.Join(plain, clockFile)); !os.IsNotExist(err) {
		t.Errorf("a data folder that never ran fast keeps a clock: %v", err)
	}
	if err := os.WriteFile(filepath.Join(plain, clockFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := newClock(plain, 60, time.Now()); err == nil {
		t.Error("a clock file that cannot be read is taken")
	}
}

type recordedDelay struct{ got time.Duration }

func (r *recordedDelay) Delay(_ context.Context, _ events.SQSMessage, d time.Duration) (time.Duration, error) {
	r.got = d.Round(time.Second)
	return r.got, nil
}

// TestWallDelayer: a wait on the system's clock is set on the wall's, Speed
// times shorter, and reported back on the system's.
func TestWallDelayer(t *testing.T) {
	next := &recordedDelay{}
	set, err := wallDelayer{next: next, speed: 60}.Delay(t.Context(), events.SQSMessage{}, 15*time.Minute)
	if err != nil || next.got != 15*time.Second || set != 15*time.Minute {
		t.Errorf("a 15-minute wait at 60x: visibility %v, reported %v, %v; want 15 s, 15 min", next.got, set, err)
	}
}

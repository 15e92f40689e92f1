package localdev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pajarito-care/pajarito/shared/sender"
)

// The system's clock with a data folder.
//
// At a speed other than 1 the clock runs ahead of the wall: a run of a minute
// at 60x ends an hour ahead. A restart on the same data must not take the
// clock back to the wall's (the cases, replies, claims and crises it keeps
// would then lie in the future): the data folder keeps the clock (clockFile),
// and a restart goes on from it, counting the time the system was down at the
// speed it ran. A data folder that never ran faster than the wall has no such
// file, and its clock is the wall's.

// clockFile keeps, in the data folder, where the system's clock stood.
const clockFile = "clock.json"

// keptClock is the system's clock at a wall time, and its speed since.
type keptClock struct {
	Wall  time.Time `json:"wall"`
	Clock time.Time `json:"clock"`
	Speed float64   `json:"speed"`
}

// at is the kept clock's time at wall time now.
func (k keptClock) at(now time.Time) time.Time {
	return k.Clock.Add(time.Duration(float64(now.Sub(k.Wall)) * k.Speed))
}

// newClock returns the system's clock from wall time now on: speed times
// faster than the wall, from the wall's time, or, with a data folder (dir not
// ""), from the clock its last run kept. It keeps the clock there when it runs
// ahead of the wall.
func newClock(dir string, speed float64, now time.Time) (func() time.Time, error) {
	k := keptClock{Wall: now, Clock: now, Speed: speed}
	if dir != "" {
		path := filepath.Join(dir, clockFile)
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			var last keptClock
			if err := json.Unmarshal(b, &last); err != nil || last.Speed <= 0 {
				return nil, fmt.Errorf("localdev: %s does not say where the clock stood (%v): delete it to start the clock at the wall's", path, err)
			}
			k.Clock = last.at(now)
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("localdev: the kept clock: %w", err)
		}
		if err == nil || speed != 1 {
			b, _ := json.Marshal(k)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				return nil, fmt.Errorf("localdev: keep the clock: %w", err)
			}
		}
	}
	return func() time.Time { return k.at(time.Now()) }, nil
}

// wallDelayer sets the waits of records, which the reply sender counts on
// the system's clock, as the queue's visibility on the wall's: Speed times
// shorter. It returns the wait set, on the system's clock.
type wallDelayer struct {
	next  sender.Delayer
	speed float64
}

func (d wallDelayer) Delay(ctx context.Context, r events.SQSMessage, wait time.Duration) (time.Duration, error) {
	set, err := d.next.Delay(ctx, r, time.Duration(float64(wait)/d.speed))
	return time.Duration(float64(set) * d.speed), err
}
